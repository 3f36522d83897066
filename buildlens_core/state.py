"""The state store: what makes at-least-once delivery report each failure once, and what
remembers failures across builds (history, recovery, the LLM cache)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Doc = dict[str, Any]


class StateStore(Protocol):
    def claim(self, key: str, lease_s: float = 300.0) -> bool:
        """True for exactly one caller per key, even under concurrent callers.

        A claim that is neither completed nor released expires after `lease_s`, so a
        process killed mid-delivery does not block the redelivery forever.
        """
        ...

    def is_done(self, key: str) -> bool:
        """True once `complete(key)` was called (a held, unexpired claim is not done)."""
        ...

    def complete(self, key: str) -> None:
        """Make a claim permanent: the work it guarded is done."""
        ...

    def release(self, key: str) -> None:
        """Undo a claim whose work failed, so a redelivery can try again."""
        ...

    def get(self, key: str) -> Doc | None:
        """A small JSON document, or None."""
        ...

    def put(self, key: str, doc: Doc, ttl_s: float | None = None) -> None:
        """Store a small JSON document; it may be dropped after `ttl_s`."""
        ...

    def update(
        self, key: str, change: Callable[[Doc | None], Doc], ttl_s: float | None = None
    ) -> Doc:
        """Read-modify-write atomically (`change` may run more than once); returns the new doc."""
        ...
