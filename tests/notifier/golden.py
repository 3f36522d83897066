"""Golden files: `expected.json` per fixture; BUILDLENS_REGENERATE=1 rewrites them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REGENERATE = os.environ.get("BUILDLENS_REGENERATE") == "1"


def essentials(report: dict[str, Any] | None) -> dict[str, Any]:
    """What a golden file pins down from a JSON report, stable across cosmetic changes."""
    if report is None:
        return {"reported": False}
    step = report.get("failing_step") or {}
    excerpt = [line["line"] for line in report.get("excerpt", [])]
    return {
        "reported": True,
        "build_id": report["build"]["id"],
        "status": report["build"]["status"],
        "title": report["title"],
        "failing_step": {
            k: step[k]
            for k in ("step_index", "step_id", "exit_code", "summary")
            if step.get(k) not in (None, "")
        },
        "category": report.get("category", ""),
        "key_lines": report.get("key_lines", []),
        "excerpt_span": [excerpt[0], excerpt[-1]] if excerpt else [],
        "log_lines": report["log"]["lines"],
        "errors": [f"{e['stage']}:{e['name']}" for e in report.get("errors", [])],
    }


def check_golden(case_dir: Path, report: dict[str, Any] | None) -> None:
    got = essentials(report)
    path = case_dir / "expected.json"
    if REGENERATE:
        path.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    assert path.exists(), f"{path} is missing: run the tests with BUILDLENS_REGENERATE=1"
    assert got == json.loads(path.read_text())
