"""The state store: what makes at-least-once delivery report each failure once."""

from __future__ import annotations

from typing import Protocol


class StateStore(Protocol):
    def claim(self, key: str) -> bool:
        """True for exactly one caller per key, even under concurrent callers."""
        ...

    def release(self, key: str) -> None:
        """Undo a claim whose work failed, so a redelivery can try again."""
        ...
