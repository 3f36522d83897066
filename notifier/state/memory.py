"""In-process state: right for local runs and a single instance, lost on restart."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notifier.settings import Settings


class MemoryStateStore:
    def __init__(self) -> None:
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        with self._lock:
            if key in self._claimed:
                return False
            self._claimed.add(key)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._claimed.discard(key)


def create(settings: Settings) -> MemoryStateStore:
    return MemoryStateStore()
