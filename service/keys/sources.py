"""Where a key set lives: a Secret Manager secret, a local file, or an environment variable."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

import google_crc32c

_SECRET = re.compile(
    r"^(?P<secret>projects/[^/]+/(?:locations/[^/]+/)?secrets/[^/]+)(?:/versions/(?P<v>[^/]+))?$"
)


class KeySourceError(RuntimeError):
    """A key source could not be read or written; the message says what to check."""


class KeySource(Protocol):
    def describe(self) -> str: ...
    def load(self) -> bytes: ...
    def save(self, data: bytes) -> str: ...


class EnvSource:
    """Read-only key set from an environment variable's value."""

    def __init__(self, value: str, name: str = "GATEWAY_KEYS_JSON") -> None:
        self._value = value
        self._name = name

    def describe(self) -> str:
        return self._name

    def load(self) -> bytes:
        return self._value.encode("utf-8")

    def save(self, data: bytes) -> str:
        raise KeySourceError(f"{self._name} is read-only; use --file or --secret to change keys")


class FileSource:
    """A JSON file, replaced atomically and readable by its owner only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"file {self.path}"

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise KeySourceError(f"cannot read key file {self.path}: {exc.strerror}") from exc

    def save(self, data: bytes) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            Path(tmp).chmod(0o600)
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(self.path)


def secret_client(endpoint: str | None = None, anonymous: bool = False) -> Any:
    """A Secret Manager client over REST (no gRPC needed); endpoint/anonymous for local servers."""
    from google.api_core.client_options import ClientOptions
    from google.cloud import secretmanager

    kwargs: dict[str, Any] = {"transport": "rest"}
    if endpoint:
        kwargs["client_options"] = ClientOptions(api_endpoint=endpoint)
    if anonymous:
        from google.auth.credentials import AnonymousCredentials

        kwargs["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
    return secretmanager.SecretManagerServiceClient(**kwargs)


class SecretManagerSource:
    """A secret whose versions each hold a whole key set; every change adds a version."""

    def __init__(self, name: str, client: Any) -> None:
        match = _SECRET.match(name)
        if not match:
            raise KeySourceError(
                f"bad secret name {name!r}: use projects/PROJECT/secrets/SECRET[/versions/N]"
            )
        self.secret = match["secret"]
        self.version = match["v"] or "latest"
        self._client = client

    def describe(self) -> str:
        return f"secret {self.secret}/versions/{self.version}"

    def create(self) -> str:
        from google.api_core import exceptions

        project, _, secret_id = self.secret.rpartition("/secrets/")
        try:
            self._client.create_secret(
                request={
                    "parent": project,
                    "secret_id": secret_id,
                    "secret": {"replication": {"automatic": {}}},
                }
            )
        except exceptions.AlreadyExists as exc:
            raise KeySourceError(f"{self.secret} already exists; use add/list on it") from exc
        except exceptions.GoogleAPICallError as exc:
            raise KeySourceError(f"cannot create {self.secret}: {exc.message}") from exc
        return self.secret

    def load(self) -> bytes:
        from google.api_core import exceptions

        name = f"{self.secret}/versions/{self.version}"
        try:
            response = self._client.access_secret_version(request={"name": name})
        except exceptions.NotFound as exc:
            raise KeySourceError(
                f"{name} not found; create it with `python -m service.keys create-secret`"
            ) from exc
        except exceptions.GoogleAPICallError as exc:
            raise KeySourceError(
                f"cannot read {name}: {exc.message}; check the caller has "
                "roles/secretmanager.secretAccessor on it"
            ) from exc
        data: bytes = response.payload.data
        expected = response.payload.data_crc32c
        if expected and google_crc32c.value(data) != expected:
            raise KeySourceError(f"{name}: payload checksum mismatch; retry the read")
        return data

    def save(self, data: bytes) -> str:
        from google.api_core import exceptions

        payload = {"data": data, "data_crc32c": google_crc32c.value(data)}
        try:
            version = self._client.add_secret_version(
                request={"parent": self.secret, "payload": payload}
            )
        except exceptions.GoogleAPICallError as exc:
            raise KeySourceError(
                f"cannot add a version to {self.secret}: {exc.message}; check the caller has "
                "roles/secretmanager.secretVersionAdder on it"
            ) from exc
        return str(version.name)
