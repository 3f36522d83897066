"""Golden files: `expected.json` per fixture; BUILDLENS_REGENERATE=1 rewrites them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from notifier.report import essentials

REGENERATE = os.environ.get("BUILDLENS_REGENERATE") == "1"


def check_golden(case_dir: Path, report: dict[str, Any] | None) -> None:
    got = essentials(report)
    path = case_dir / "expected.json"
    if REGENERATE:
        path.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    assert path.exists(), f"{path} is missing: run the tests with BUILDLENS_REGENERATE=1"
    assert got == json.loads(path.read_text())
