"""A recorded log on disk: `log.txt` (the GCS shape) or `entries.json` (Cloud Logging's)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from buildlens_core.build import BuildEvent
from buildlens_core.buildlog import BuildLog, build_log_from_bytes, read_chunks
from notifier.logsources.base import LogNotFound, step_lines_as_gcs
from notifier.logsources.cloud_logging import entry_text

if TYPE_CHECKING:
    from buildlens_core.settings import Settings


def entries_chunks(path: Path) -> Iterator[bytes]:
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise LogNotFound(f"{path} must hold a JSON list of log entries")
    pairs = (
        ((e.get("labels") or {}).get("build_step", "MAIN"), entry_text(e.get("textPayload")))
        for e in entries
        if isinstance(e, dict)
    )
    return step_lines_as_gcs(pairs)


class FixtureLogSource:
    """Reads `path` if it is a file, else `log.txt` or `entries.json` in the folder."""

    name = "fixture"

    def __init__(self, path: Path, max_bytes: int, prefer: str = "gcs") -> None:
        self._path = path
        self._max_bytes = max_bytes
        self._prefer = prefer

    def fetch(self, build: BuildEvent) -> BuildLog:
        path = self._path
        if path.is_dir():
            names = ["log.txt", "entries.json"]
            if self._prefer == "cloud_logging":
                names.reverse()
            found = [path / n for n in names if (path / n).exists()]
            if not found:
                raise LogNotFound(f"{path} has neither log.txt nor entries.json")
            path = found[0]
        if not path.exists():
            raise LogNotFound(f"log file {path} does not exist")
        chunks = entries_chunks(path) if path.suffix == ".json" else read_chunks(path)
        return build_log_from_bytes(chunks, max_bytes=self._max_bytes, source=str(path))


def create(settings: Settings) -> FixtureLogSource:
    if not settings.sources.fixture_dir:
        raise LogNotFound("LOG_SOURCE=fixture needs FIXTURE_DIR (a folder or a log file)")
    return FixtureLogSource(Path(settings.sources.fixture_dir), settings.sources.max_log_bytes)
