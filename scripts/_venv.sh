# Sourced by the scripts: make .venv and install the project with the given extras.
# Reinstalls only when pyproject.toml or the extras change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
extras="$1"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
fi
stamp="$VENV/.buildlens-$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-${extras//,/-}"
if [ ! -f "$stamp" ]; then
    echo "installing buildlens[$extras] into .venv ..." >&2
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]" 2>&1 | grep -v "^WARNING: Location" || true
    "$VENV/bin/python" -c "import notifier" # fail here, not later, if the install failed
    touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
