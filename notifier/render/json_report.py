"""The versioned JSON report, one object per line."""

from __future__ import annotations

import json

from notifier.report import Report


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, sort_keys=True) + "\n"
