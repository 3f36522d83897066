"""The Cloud Function: `on_build_event` receives each `cloud-builds` message.

It only wires stages together; each stage lives in its own module.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if not __package__:  # loaded by file path (functions-framework --source notifier/main.py)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import functions_framework

from buildlens_core.errors import ConfigError, PermanentError, TransientError
from buildlens_core.jsonlog import log
from buildlens_core.settings import load_settings
from notifier.event import message_from_event_data
from notifier.pipeline import Notifier

_notifier: Notifier | None = None


def notifier() -> Notifier:
    """The configured pipeline, built on first use and kept for the instance's lifetime."""
    global _notifier
    if _notifier is None:
        _notifier = Notifier(load_settings())
    return _notifier


@functions_framework.cloud_event
def on_build_event(event: Any) -> None:
    event_id = str(event.get("id") or "")
    build_id = ""
    try:
        message = message_from_event_data(event.data)
        build_id = message.build_id
        outcome = notifier().handle_message(message)
    except ConfigError as exc:
        # Redelivery keeps the message until the configuration is fixed.
        log("CRITICAL", f"configuration error, message will be retried: {exc}", event_id=event_id)
        raise
    except PermanentError as exc:
        log(
            "WARNING", f"acknowledged without a report: {exc}", event_id=event_id, build_id=build_id
        )
        return
    except TransientError as exc:
        log(
            "ERROR",
            f"transient failure, Pub/Sub will redeliver: {exc}",
            event_id=event_id,
            build_id=build_id,
        )
        raise
    fields: dict[str, Any] = {"event_id": event_id, "build_id": build_id, "action": outcome.action}
    if outcome.report is not None:
        fields["category"] = outcome.report.category
    text = f"build {build_id}: {outcome.action}" + (
        f" ({outcome.reason})" if outcome.reason else ""
    )
    log("INFO", text, **fields)


def _not_a_cloud_event(error: Exception) -> tuple[str, int]:
    # functions-framework answers 400 to a body it cannot read; Pub/Sub push would retry
    # that forever, so acknowledge it with one clear line instead.
    log(
        "WARNING",
        "acknowledged without a report: the body is neither a CloudEvent nor a Pub/Sub push",
    )
    return "ignored: not a CloudEvent or Pub/Sub push body\n", 200


functions_framework.errorhandler(400)(_not_a_cloud_event)
