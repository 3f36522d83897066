"""The state store both stores' tests run against: memory, and Firestore on the emulator."""

from __future__ import annotations

import pytest

from buildlens_core.state import StateStore
from notifier.state.firestore import FirestoreStateStore
from notifier.state.memory import MemoryStateStore


@pytest.fixture(params=["memory", pytest.param("firestore", marks=pytest.mark.emulator)])
def store(request: pytest.FixtureRequest) -> StateStore:
    if request.param == "memory":
        return MemoryStateStore()
    request.getfixturevalue("firestore_env")
    return FirestoreStateStore("buildlens-demo", retention_days=1)
