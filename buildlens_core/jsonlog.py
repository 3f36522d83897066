"""One JSON object per line, with `severity` and `message`, as Cloud Logging reads them."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

_LOGGER = logging.getLogger("buildlens")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname if record.levelname != "WARNING" else "WARNING",
            "message": record.getMessage(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: int = logging.INFO) -> None:
    """Send buildlens logs to stderr as JSON lines (idempotent)."""
    if any(getattr(h, "_buildlens", False) for h in _LOGGER.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._buildlens = True  # type: ignore[attr-defined]
    _LOGGER.addHandler(handler)
    _LOGGER.setLevel(level)
    _LOGGER.propagate = False


def log(severity: str, message: str, **fields: Any) -> None:
    """Log one line; `fields` (build_id, ...) become top-level JSON keys."""
    configure()
    _LOGGER.log(logging.getLevelName(severity), message, extra={"fields": fields})
