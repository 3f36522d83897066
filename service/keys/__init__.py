"""API keys: records, sources, the in-memory store and the `python -m service.keys` CLI."""

from .records import KeyRecord, KeySet, KeySetError, digest, new_key, parse_key_set
from .sources import (
    EnvSource,
    FileSource,
    KeySource,
    KeySourceError,
    SecretManagerSource,
    secret_client,
)
from .store import KeyStore, ReloadResult, digest_prefix

__all__ = [
    "EnvSource",
    "FileSource",
    "KeyRecord",
    "KeySet",
    "KeySetError",
    "KeySource",
    "KeySourceError",
    "KeyStore",
    "ReloadResult",
    "SecretManagerSource",
    "digest",
    "digest_prefix",
    "new_key",
    "parse_key_set",
    "secret_client",
]
