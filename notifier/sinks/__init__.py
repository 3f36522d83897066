"""Where reports go. Each sink is one file with one `send(report)` method."""

from __future__ import annotations

from collections.abc import Callable

from buildlens_core.settings import Settings
from notifier.sinks import cloud_logging, github, google_chat, pubsub, slack, stdout, webhook
from notifier.sinks.base import Sink, SinkRejected, SinkUnavailable

ENTRY_POINT_GROUP = "buildlens.sinks"

# The only list of built-in sink names.
SINKS: dict[str, Callable[[Settings], Sink]] = {
    "stdout": stdout.create,
    "pubsub": pubsub.create,
    "slack": slack.create,
    "google_chat": google_chat.create,
    "github": github.create,
    "webhook": webhook.create,
    "cloud_logging": cloud_logging.create,
}

__all__ = ["ENTRY_POINT_GROUP", "SINKS", "Sink", "SinkRejected", "SinkUnavailable"]
