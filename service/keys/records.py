"""Key records and the key-set JSON formats (plain mapping and the project's own form)."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

KEY_PREFIX = "sk-"
KEY_BYTES = 32
FORMAT_VERSION = 1


class KeySetError(ValueError):
    """The key-set JSON cannot be used; the message says what is wrong."""


def new_key() -> str:
    """A fresh API key: `sk-` + 32 random bytes, URL-safe base64."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def digest(key: str) -> str:
    """SHA-256 hex digest of a key: the only form ever stored or kept in memory."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyRecord(BaseModel):
    """One API key as stored: never the key itself, only its digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@:+-]+$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created: datetime
    expires: datetime | None = None
    rpm: int | None = Field(default=None, ge=0, description="requests per minute; 0 = unlimited")
    admin: bool = False

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


class KeySet(BaseModel):
    """The project's own form: {"version": 1, "keys": [KeyRecord, ...]}."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = FORMAT_VERSION
    keys: tuple[KeyRecord, ...] = ()

    def find(self, name: str) -> KeyRecord | None:
        return next((k for k in self.keys if k.name == name), None)

    def without(self, name: str) -> KeySet:
        return KeySet(keys=tuple(k for k in self.keys if k.name != name))

    def with_record(self, record: KeyRecord) -> KeySet:
        return KeySet(keys=(*self.without(record.name).keys, record))

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True) + "\n"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _presentable(key: str, name: object) -> str:
    """A plaintext key a client can send in a header: no empty key, no surrounding whitespace
    (HTTP strips it, so the key could never match), no control characters (not allowed)."""
    if not key or key != key.strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise KeySetError(
            f"the key of {name!r} is empty, has surrounding whitespace or control characters: "
            "no client could send it; generate one with `python -m service.keys add`"
        )
    return key


def _record(entry: dict[str, Any], now: datetime) -> KeyRecord:
    entry = dict(entry)
    if "key" in entry:  # plaintext allowed on input only; hashed at once
        entry["sha256"] = digest(_presentable(str(entry.pop("key")), entry.get("name")))
    entry.setdefault("created", now)
    record = KeyRecord.model_validate(entry)
    updates: dict[str, Any] = {"created": _aware(record.created)}
    if record.expires is not None:
        updates["expires"] = _aware(record.expires)
    return record.model_copy(update=updates)


def parse_key_set(
    data: str | bytes,
    admin_names: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> KeySet:
    """Parse either `{"name": "sk-..."}` or `{"version": 1, "keys": [...]}` (or a bare list)."""
    now = now or datetime.now(UTC)
    try:
        obj = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KeySetError(f"key set is not valid JSON: {exc}") from exc
    try:
        if isinstance(obj, dict) and isinstance(obj.get("keys"), list):
            if obj.get("version", FORMAT_VERSION) != FORMAT_VERSION:
                raise KeySetError(f"unsupported key set version {obj.get('version')!r}")
            records = [_record(e, now) for e in obj["keys"]]
        elif isinstance(obj, list):
            records = [_record(e, now) for e in obj]
        elif isinstance(obj, dict) and all(isinstance(v, str) for v in obj.values()):
            records = [
                _record({"name": n, "key": k, "admin": n in admin_names}, now)
                for n, k in obj.items()
            ]
        else:
            raise KeySetError('key set must be {"name": "sk-..."} or {"version": 1, "keys": [...]}')
    except (ValidationError, TypeError) as exc:
        raise KeySetError(f"invalid key record: {exc}") from exc
    names = [r.name for r in records]
    if len(set(names)) != len(names):
        raise KeySetError("duplicate key names in key set; give every key its own name")
    if len({r.sha256 for r in records}) != len(records):
        raise KeySetError("the same key appears twice in the key set; rotate one of them")
    return KeySet(keys=tuple(records))
