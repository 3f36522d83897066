"""The explanation cache: a failure seen again is explained without a new call.

Keyed by provider, model and the failure fingerprint (the `fingerprint` analyzer's digest;
without it, a digest of the redacted prompt). Stored in the StateStore when the pipeline
gives one, else in this process's memory.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from buildlens_core.state import StateStore

_MEMORY_MAX = 512


class ExplanationCache:
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._memory: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(provider: str, model: str, fingerprint: str) -> str:
        return f"llm-explanation/{provider}/{model.replace('/', '_')}/{fingerprint}"

    def get(self, key: str, state: StateStore | None) -> dict[str, Any] | None:
        if self.ttl_s <= 0:
            return None
        if state is not None:
            return state.get(key)
        with self._lock:
            found = self._memory.get(key)
            if found is None:
                return None
            expiry, doc = found
            if expiry <= time.monotonic():
                del self._memory[key]
                return None
            return dict(doc)

    def put(self, key: str, doc: dict[str, Any], state: StateStore | None) -> None:
        if self.ttl_s <= 0:
            return
        if state is not None:
            state.put(key, doc, ttl_s=self.ttl_s)
            return
        with self._lock:
            if len(self._memory) >= _MEMORY_MAX:
                self._memory.pop(next(iter(self._memory)))  # oldest first
            self._memory[key] = (time.monotonic() + self.ttl_s, dict(doc))
