"""The layers of docs/ARCHITECTURE.md section 4 hold: the import-linter contracts in
pyproject.toml are kept, and no two modules import each other, however indirectly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from tests.procs import ROOT

PACKAGES = ("buildlens_core", "notifier", "analyzers", "service")


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_import_cycles() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    edges = [(m, i) for m in graph.modules for i in graph.find_modules_directly_imported_by(m)]
    assert len(edges) > 200  # the graph was built: not vacuous
    cycles = sorted(
        {tuple(sorted((m, i))) for m, i in edges if graph.find_shortest_chain(i, m) is not None}
    )
    assert cycles == [], "modules that import each other (move the shared part lower)"
