# Sourced by the scripts: make .venv and install the project with the given extras.
# Reinstalls only when pyproject.toml or the extras change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
extras="$1"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
fi
stamp="$VENV/.buildlens-$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-${extras//,/-}"
if [ ! -f "$stamp" ]; then
    echo "installing buildlens[$extras] into .venv ..." >&2
    # pip's and setuptools' notices go to a log, shown only when the install fails.
    log="$VENV/install.log"
    if ! "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]" >"$log" 2>&1 \
        || ! "$VENV/bin/python" -c "import notifier, analyzers, buildlens_core" 2>>"$log"; then
        grep -v "^WARNING: Location" "$log" >&2
        echo "installing buildlens[$extras] failed (log: $log)" >&2
        exit 1
    fi
    touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
