"""Both state stores against the same contract; Firestore on the real emulator."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from buildlens_core.state import Doc, StateStore


def key() -> str:
    return f"test/{uuid.uuid4()}/with/slashes"


def concurrently(n: int, fn: Callable[[], object]) -> list[object]:
    results: list[object] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_claim_is_won_once_under_concurrency(store: StateStore) -> None:
    k = key()
    results = concurrently(20, lambda: store.claim(k))
    assert results.count(True) == 1


def test_released_claim_can_be_won_again_and_completed_cannot(store: StateStore) -> None:
    k = key()
    assert store.claim(k)
    store.release(k)
    assert store.claim(k)
    store.complete(k)
    assert not store.claim(k)


def test_expired_lease_is_taken_over_once(store: StateStore) -> None:
    k = key()
    assert store.claim(k, lease_s=0.5)
    assert not store.claim(k)
    time.sleep(0.8)
    results = concurrently(10, lambda: store.claim(k))
    assert results.count(True) == 1


def test_documents_and_ttl(store: StateStore) -> None:
    k = key()
    assert store.get(k) is None
    store.put(k, {"a": 1, "nested": {"b": [1, 2]}})
    assert store.get(k) == {"a": 1, "nested": {"b": [1, 2]}}
    store.put(k, {"a": 2}, ttl_s=0.3)
    time.sleep(0.6)
    assert store.get(k) is None


def test_update_is_atomic(store: StateStore) -> None:
    k = key()

    def increment(doc: Doc | None) -> Doc:
        return {"n": (doc or {"n": 0})["n"] + 1}

    concurrently(15, lambda: store.update(k, increment))
    assert store.get(k) == {"n": 15}
