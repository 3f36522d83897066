"""Where reports go. Each sink is one file with one `send(report)` method."""

from __future__ import annotations

from collections.abc import Callable

from notifier.settings import Settings
from notifier.sinks import pubsub, stdout
from notifier.sinks.base import Sink, SinkRejected, SinkUnavailable

ENTRY_POINT_GROUP = "buildlens.sinks"

# The only list of built-in sink names.
SINKS: dict[str, Callable[[Settings], Sink]] = {
    "stdout": stdout.create,
    "pubsub": pubsub.create,
}

__all__ = ["ENTRY_POINT_GROUP", "SINKS", "Sink", "SinkRejected", "SinkUnavailable"]
