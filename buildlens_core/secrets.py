"""Secret values from the environment or from Secret Manager references.

A setting whose value is `sm://projects/P/secrets/S/versions/V` is read from Secret Manager
once, at start-up; anything else is used as it is. Secret values are never logged.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from buildlens_core.errors import ConfigError

PREFIX = "sm://"
_cache: dict[str, str] = {}
_lock = threading.Lock()
_clients: dict[str, Any] = {}  # by endpoint, so tests with their own server never share


def is_reference(value: str) -> bool:
    return value.startswith(PREFIX)


def resolve(value: str, setting: str = "a setting") -> str:
    """The secret behind `value` if it is an `sm://` reference, else `value` itself."""
    if not is_reference(value):
        return value
    name = value[len(PREFIX) :]
    parts = name.split("/")
    if len(parts) != 6 or parts[0] != "projects" or parts[2] != "secrets" or parts[4] != "versions":
        raise ConfigError(
            f"{setting} must look like sm://projects/PROJECT/secrets/NAME/versions/VERSION "
            "(VERSION may be 'latest')"
        )
    with _lock:
        if name in _cache:
            return _cache[name]
    secret = _access(name, setting)
    with _lock:
        _cache[name] = secret
    return secret


def _secret_manager() -> Any:
    endpoint = os.environ.get("SECRET_MANAGER_ENDPOINT", "")
    if endpoint not in _clients:
        from google.cloud import secretmanager

        kwargs: dict[str, Any] = {"transport": "rest"}
        if endpoint:  # tests: a local server speaking the REST API
            from google.auth.credentials import AnonymousCredentials

            kwargs["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
            kwargs["client_options"] = {"api_endpoint": endpoint}
        _clients[endpoint] = secretmanager.SecretManagerServiceClient(**kwargs)
    return _clients[endpoint]


def _access(name: str, setting: str) -> str:
    from google.api_core import exceptions as gexc

    try:
        response = _secret_manager().access_secret_version(request={"name": name})
    except (gexc.NotFound, gexc.PermissionDenied, gexc.Forbidden) as exc:
        raise ConfigError(
            f"cannot read {setting} from Secret Manager ({exc.__class__.__name__}): check that "
            f"{name} exists and grant the function roles/secretmanager.secretAccessor"
        ) from None
    data: bytes = response.payload.data
    return data.decode("utf-8").strip()
