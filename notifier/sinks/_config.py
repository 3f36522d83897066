"""What the sinks' own settings classes share: where they read from, and secret handling."""

from __future__ import annotations

from buildlens_core import secrets
from buildlens_core.errors import ConfigError
from notifier.sinks._http import register_secret


def required(value: str, env: str, sink: str) -> str:
    if not value.strip():
        raise ConfigError(f"the {sink} sink needs {env}: set it, or remove {sink} from SINKS")
    return value.strip()


def secret(value: str, env: str) -> str:
    """Resolve an `sm://` reference once (at start-up) and keep the value out of logs."""
    resolved = secrets.resolve(value.strip(), env) if value.strip() else ""
    if resolved:
        register_secret(resolved)
    return resolved


def http_url(value: str, env: str) -> str:
    if not value.startswith(("https://", "http://")):
        # Never echo the value: it is usually a secret webhook URL.
        raise ConfigError(f"{env} must be an http(s) URL (check the value or its secret)")
    return value
