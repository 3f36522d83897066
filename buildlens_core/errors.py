"""The two kinds of failure the trigger distinguishes (docs/ARCHITECTURE.md section 2)."""

from __future__ import annotations


class PermanentError(Exception):
    """Retrying cannot help: log one line and acknowledge the message."""


class TransientError(Exception):
    """Retrying may help: raise so Pub/Sub redelivers the message."""


class ConfigError(ValueError):
    """The configuration names something that does not exist or is inconsistent."""
