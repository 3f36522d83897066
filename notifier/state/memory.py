"""In-process state: right for local runs and a single instance, lost on restart."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from buildlens_core.state import Doc

if TYPE_CHECKING:
    from buildlens_core.settings import Settings


class MemoryStateStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._claims: dict[str, float | None] = {}  # key -> lease expiry; None: completed
        self._docs: dict[str, tuple[Doc, float | None]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def claim(self, key: str, lease_s: float = 300.0) -> bool:
        with self._lock:
            now = self._clock()
            if key in self._claims:
                expiry = self._claims[key]
                if expiry is None or expiry > now:
                    return False
            self._claims[key] = now + lease_s
            return True

    def is_done(self, key: str) -> bool:
        with self._lock:
            return key in self._claims and self._claims[key] is None

    def complete(self, key: str) -> None:
        with self._lock:
            self._claims[key] = None

    def release(self, key: str) -> None:
        with self._lock:
            self._claims.pop(key, None)

    def get(self, key: str) -> Doc | None:
        with self._lock:
            return self._live(key)

    def put(self, key: str, doc: Doc, ttl_s: float | None = None) -> None:
        with self._lock:
            self._store(key, doc, ttl_s)

    def update(
        self, key: str, change: Callable[[Doc | None], Doc], ttl_s: float | None = None
    ) -> Doc:
        with self._lock:
            doc = change(self._live(key))
            self._store(key, doc, ttl_s)
            return copy.deepcopy(doc)

    def _live(self, key: str) -> Doc | None:
        found = self._docs.get(key)
        if found is None:
            return None
        doc, expiry = found
        if expiry is not None and expiry <= self._clock():
            del self._docs[key]
            return None
        return copy.deepcopy(doc)

    def _store(self, key: str, doc: Doc, ttl_s: float | None) -> None:
        expiry = None if ttl_s is None else self._clock() + ttl_s
        self._docs[key] = (copy.deepcopy(doc), expiry)


def create(settings: Settings) -> MemoryStateStore:
    return MemoryStateStore()
