"""One JSON object per log line, with `severity`, `message` and `time`, as Cloud Logging and
Cloud Run read them. The function (`log`) and the gateway (`configure_logging`) share it."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_LOGGER = logging.getLogger("buildlens")
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
_SEVERITY = {"WARNING": "WARNING", "CRITICAL": "CRITICAL", "ERROR": "ERROR", "DEBUG": "DEBUG"}
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)  # dumps() builds one per call


class JsonFormatter(logging.Formatter):
    """A record as a single JSON line; `extra=` fields become top-level keys."""

    _second = -1
    _second_text = ""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelname, "INFO"),
            "message": record.getMessage(),
            "time": self._time(record.created),
            "logger": record.name,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)

    def _time(self, created: float) -> str:
        """RFC 3339 in UTC with microseconds; the date and time up to the second are formatted
        once per second (the gateway writes a line per request). Called under the handler lock."""
        second = int(created)
        if second != self._second:
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1e6):06d}+00:00"


def configure(level: int = logging.INFO) -> None:
    """Send the function's logs to stderr as JSON lines (idempotent)."""
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
    # A field named like a LogRecord attribute (`name`, `args`) would be refused by logging.
    extra = {(f"{k}_" if k in _STANDARD else k): v for k, v in fields.items()}
    _LOGGER.log(logging.getLevelName(severity), message, extra=extra)


def configure_logging(level: str = "INFO") -> None:
    """The gateway's logging: the root, uvicorn and service loggers through one JSON handler
    on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The JSON lines never carry process, thread or multiprocessing names; not collecting them
    # saves a getpid() system call and two lookups per record (one record per request).
    logging.logProcesses = logging.logThreads = logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # httpx logs every upstream request at INFO: noise, and the gateway logs each request itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
