"""buildlens notifier: Cloud Build failure -> log -> analyzers -> report -> sinks."""

from buildlens_core.build import BuildEvent, Step, decode_build
from buildlens_core.buildlog import BuildLog, LogCut, LogLine
from buildlens_core.errors import ConfigError, PermanentError, TransientError

__all__ = [
    "BuildEvent",
    "BuildLog",
    "ConfigError",
    "LogCut",
    "LogLine",
    "PermanentError",
    "Step",
    "TransientError",
    "decode_build",
]
