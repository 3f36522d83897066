"""The sink interface: one method, like cloud-build-notifiers' `Notifier`."""

from __future__ import annotations

from typing import Protocol

from buildlens_core.errors import PermanentError, TransientError
from notifier.report import Report


class Sink(Protocol):
    name: str

    def send(self, report: Report) -> None:
        """Deliver the report; raise `SinkUnavailable` when a retry later may succeed."""
        ...


class SinkUnavailable(TransientError):
    """The destination failed in a way that may pass (429, 5xx, timeout)."""


class SinkRejected(PermanentError):
    """The destination refused the report (4xx other than 429, missing topic, bad config)."""
