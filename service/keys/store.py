"""The in-memory key store: digests only, constant-time lookup, reload keeping the last good set."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .records import KeyRecord, KeySetError, parse_key_set
from .sources import KeySource, KeySourceError

_log = logging.getLogger("service.keys")


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    keys: int
    error: str | None = None


def digest_prefix(presented: str) -> str:
    """A short digest prefix: enough to correlate attempts in logs, useless to an attacker."""
    return hashlib.sha256(_wire_bytes(presented)).hexdigest()[:8]


def _wire_bytes(presented: str) -> bytes:
    """The key's bytes: UTF-8, with undecodable bytes (kept as surrogates) restored as they were,
    so two different byte strings never hash alike (errors="replace" would map both to '?')."""
    try:
        return presented.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no header can produce: still hash it, distinctly
        return presented.encode("utf-8", "surrogatepass")


class KeyStore:
    """Holds the current key set; `reload()` swaps it atomically or keeps the old one."""

    def __init__(
        self,
        source: KeySource,
        admin_names: frozenset[str] = frozenset(),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._source = source
        self._admin_names = admin_names
        self._now = now
        self._lock = threading.Lock()
        self._entries: tuple[tuple[bytes, KeyRecord], ...] = ()
        self.loaded = False
        self.last_error: str | None = None
        self.last_reload: float | None = None

    @property
    def source(self) -> str:
        return self._source.describe()

    def __len__(self) -> int:
        return len(self._entries)

    def reload(self) -> ReloadResult:
        """Load the key set; on failure keep the last good set and say so."""
        try:
            key_set = parse_key_set(self._source.load(), self._admin_names, self._now())
        except (KeySourceError, KeySetError) as exc:
            kept = len(self._entries)
            self.last_error = str(exc)
            _log.error(
                "key reload from %s failed: %s; keeping the last good set of %d keys",
                self.source,
                exc,
                kept,
                extra={"keys": kept},
            )
            return ReloadResult(ok=False, keys=kept, error=str(exc))
        entries = tuple((bytes.fromhex(r.sha256), r) for r in key_set.keys)
        with self._lock:
            changed = entries != self._entries
            self._entries = entries
        self.loaded = True
        self.last_error = None
        self.last_reload = time.time()
        if changed:
            _log.info(
                "loaded %d keys from %s", len(entries), self.source, extra={"keys": len(entries)}
            )
        return ReloadResult(ok=True, keys=len(entries))

    def authenticate(self, presented: str) -> KeyRecord | None:
        """The record whose digest matches; compares against every key (no early exit)."""
        candidate = hashlib.sha256(_wire_bytes(presented)).digest()
        found: KeyRecord | None = None
        for stored, record in self._entries:
            if hmac.compare_digest(candidate, stored):
                found = record
        return found

    def now(self) -> datetime:
        return self._now()
