"""The log source interface and the errors a source raises."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from buildlens_core.build import BuildEvent
from buildlens_core.buildlog import BuildLog, split_lines
from buildlens_core.errors import PermanentError, TransientError


class LogSource(Protocol):
    name: str

    def fetch(self, build: BuildEvent) -> BuildLog: ...


class LogNotFound(PermanentError):
    """This source has no log for the build (no bucket, object or entries; no permission)."""


class LogUnavailable(TransientError):
    """The source failed in a way that may pass (429, 5xx, timeout, ingestion lag)."""


def step_lines_as_gcs(entries: Iterable[tuple[str, str]]) -> Iterator[bytes]:
    """(build_step label, text) pairs rendered as the GCS log's bytes.

    Cloud Logging keeps the step in a label; writing it back as the `Step #N - "id": `
    prefix lets both sources share one parser and one line numbering.
    """
    for label, text in entries:
        prefix = b"" if label in ("", "MAIN") else label.encode() + b": "
        for raw in split_lines(text.encode("utf-8", errors="replace")) or [b""]:
            yield prefix + raw + b"\n"
