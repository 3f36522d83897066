"""buildlens notifier: Cloud Build failure -> log -> analyzers -> report -> sinks."""

from notifier.build import BuildEvent, Step, decode_build
from notifier.buildlog import BuildLog, LogCut, LogLine
from notifier.errors import ConfigError, PermanentError, TransientError

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
