"""Who is calling: the key from `X-API-Key` or `Authorization: Bearer`, checked in the store."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import Scope

from .keys import KeyRecord, KeyStore, digest_prefix

_log = logging.getLogger("service.auth")


@dataclass(frozen=True)
class Denied:
    status: int
    message: str
    code: str
    reason: str


MISSING = Denied(
    401,
    "missing API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
    "missing_api_key",
    "missing_key",
)
INVALID = Denied(
    401,
    "invalid API key: check the key, or ask an admin for a new one",
    "invalid_api_key",
    "bad_key",
)
EXPIRED = Denied(
    401, "this API key has expired: ask an admin to rotate it", "expired_api_key", "expired"
)
NOT_ADMIN = Denied(403, "this route needs an admin key", "admin_key_required", "not_admin")


_OWS = b" \t"  # HTTP's optional whitespace; str.strip() would also eat latin-1 \xa0 and \x85


def _wire_text(value: bytes) -> str:
    """The header as the client wrote it; keys are stored as UTF-8. Bytes that are not UTF-8 are
    kept as surrogates (they match no key, and hash distinctly)."""
    return value.decode("utf-8", "surrogateescape")


def key_from_headers(api_key: bytes | None, authorization: bytes | None) -> str | None:
    """The presented key from the first `X-API-Key`, else a `Bearer` `Authorization` (raw bytes,
    as ASGI gives them)."""
    header = (api_key or b"").strip(_OWS)
    if header:
        return _wire_text(header)
    scheme, _, token = (authorization or b"").partition(b" ")
    token = token.strip(_OWS)
    if scheme.lower() == b"bearer" and token:
        return _wire_text(token)
    return None


def presented_key(request: Request) -> str | None:
    return key_from_headers(_first(request, b"x-api-key"), _first(request, b"authorization"))


def _first(request: Request, name: bytes) -> bytes | None:
    return next((v for k, v in request.scope["headers"] if k.lower() == name), None)


def check_key(
    key: str | None, store: KeyStore, client: str, path: str, admin: bool = False
) -> KeyRecord | Denied:
    """The caller's key record, or why it is refused (logged without the key)."""
    if key is None:
        _log.warning("request without API key", extra={"client": client, "path": path})
        return MISSING
    record = store.authenticate(key)
    denied: Denied | None = None
    if record is None:
        denied = INVALID
    elif record.expired(store.now()):
        denied = EXPIRED
    elif admin and not record.admin:
        denied = NOT_ADMIN
    if denied is not None:
        _log.warning(
            "API key refused: %s",
            denied.reason,
            extra={
                "client": client,
                "key_digest_prefix": digest_prefix(key),
                "key_name": record.name if record else None,
                "path": path,
            },
        )
        return denied
    assert record is not None
    return record


def client_host(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def authenticate(request: Request, store: KeyStore, admin: bool = False) -> KeyRecord | Denied:
    """`check_key` for a Starlette request (the routes outside the forwarding path)."""
    return check_key(
        presented_key(request), store, client_host(request.scope), request.url.path, admin
    )
