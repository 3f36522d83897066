"""Print the report to standard output (Cloud Functions keeps it in the function's log)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from notifier.render import RENDERERS
from notifier.report import Report

if TYPE_CHECKING:
    from buildlens_core.settings import Settings


class StdoutSink:
    name = "stdout"

    def __init__(self, fmt: str, stream: TextIO | None = None) -> None:
        self._render = RENDERERS[fmt]
        self._stream = stream

    def send(self, report: Report) -> None:
        stream = self._stream or sys.stdout
        stream.write(self._render(report))
        stream.flush()


def create(settings: Settings) -> StdoutSink:
    return StdoutSink(settings.delivery.stdout_format)
