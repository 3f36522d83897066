"""Who is calling: the key from `X-API-Key` or `Authorization: Bearer`, checked in the store."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.requests import Request

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


def _wire_text(value: str) -> str:
    """The header as the client wrote it: Starlette decodes header bytes as latin-1, keys are
    stored as UTF-8. Bytes that are not UTF-8 are kept as surrogates (they match no key)."""
    return value.encode("latin-1").decode("utf-8", "surrogateescape")


_OWS = " \t"  # HTTP's optional whitespace; str.strip() would also eat latin-1 \xa0 and \x85


def presented_key(request: Request) -> str | None:
    header = request.headers.get("x-api-key", "").strip(_OWS)
    if header:
        return _wire_text(header)
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    token = token.strip(_OWS)
    if scheme.lower() == "bearer" and token:
        return _wire_text(token)
    return None


def authenticate(request: Request, store: KeyStore, admin: bool = False) -> KeyRecord | Denied:
    """The caller's key record, or why it is refused (logged without the key)."""
    key = presented_key(request)
    client = request.client.host if request.client else "unknown"
    if key is None:
        _log.warning("request without API key", extra={"client": client, "path": request.url.path})
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
                "path": request.url.path,
            },
        )
        return denied
    assert record is not None
    return record
