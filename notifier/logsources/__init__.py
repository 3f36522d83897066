"""Where a build's log comes from, chosen by the build's `options.logging`."""

from __future__ import annotations

from collections.abc import Callable

from buildlens_core.build import BuildEvent
from buildlens_core.settings import Settings
from notifier.logsources import cloud_logging, fixture, gcs
from notifier.logsources.base import LogNotFound, LogSource, LogUnavailable

# The only list of log source names.
LOG_SOURCES: dict[str, Callable[[Settings], LogSource]] = {
    "gcs": gcs.create,
    "cloud_logging": cloud_logging.create,
    "fixture": fixture.create,
}

# GCS holds the complete log at failure time, so it goes first when both exist.
_BY_LOGGING_MODE: dict[str, tuple[str, ...]] = {
    "LEGACY": ("gcs", "cloud_logging"),
    "GCS_ONLY": ("gcs",),
    "CLOUD_LOGGING_ONLY": ("cloud_logging",),
    "NONE": (),
}


def source_names(build: BuildEvent, configured: str) -> tuple[str, ...]:
    """The sources to try for `build`, in order."""
    if configured != "auto":
        return (configured,)
    return _BY_LOGGING_MODE.get(build.logging_mode, ("gcs", "cloud_logging"))


__all__ = [
    "LOG_SOURCES",
    "LogNotFound",
    "LogSource",
    "LogUnavailable",
    "source_names",
]
