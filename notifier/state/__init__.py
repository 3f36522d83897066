"""State stores, by name."""

from __future__ import annotations

from collections.abc import Callable

from buildlens_core.settings import Settings
from buildlens_core.state import StateStore
from notifier.state import firestore, memory

# The only list of state store names.
STATE_STORES: dict[str, Callable[[Settings], StateStore]] = {
    "memory": memory.create,
    "firestore": firestore.create,
}

__all__ = ["STATE_STORES", "StateStore"]
