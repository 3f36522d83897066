"""The key check has no early exit: every stored digest is compared, whatever the key.

Structural: the number of `hmac.compare_digest` calls, observed with a profiler hook (nothing is
patched), equals the number of stored keys for a first, a last, and no match. Statistical, with a
generous bound: the time does not depend on where the match is, nor on how much of a stored
digest a wrong key's digest shares.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from service.keys import KeyStore, new_key
from service.keys.sources import EnvSource

# Timing: alone on the machine, never beside parallel workers (scripts/check --fast skips it).
pytestmark = [pytest.mark.slow, pytest.mark.serial, pytest.mark.timeout(120)]

N = 2000


def _store(records: list[dict[str, Any]]) -> KeyStore:
    store = KeyStore(EnvSource(json.dumps({"version": 1, "keys": records})))
    assert store.reload().ok
    assert len(store) == len(records)
    return store


def _records(keys: list[str]) -> list[dict[str, Any]]:
    return [
        {"name": f"k{i}", "sha256": hashlib.sha256(k.encode()).hexdigest()}
        for i, k in enumerate(keys)
    ]


def _compare_calls(action: Callable[[], object]) -> int:
    calls = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "c_call" and arg is hmac.compare_digest:
            calls += 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def test_every_digest_compared_whatever_the_key() -> None:
    keys = [new_key() for _ in range(50)]
    store = _store(_records(keys))
    for presented, found in [
        (keys[0], "k0"),
        (keys[-1], "k49"),
        (keys[25], "k25"),
        ("sk-wrong", None),
        ("", None),
        (keys[0][:-1], None),
    ]:
        record = store.authenticate(presented)
        assert (record.name if record else None) == found
        assert _compare_calls(lambda p=presented: store.authenticate(p)) == 50


def _median_seconds(store: KeyStore, presented: list[str], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for key in presented:
            store.authenticate(key)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _interleaved(
    variants: dict[str, tuple[KeyStore, list[str]]], rounds: int = 15
) -> dict[str, float]:
    """Medians over rounds that alternate the variants, so machine drift hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (store, presented) in variants.items():
            samples[name].append(_median_seconds(store, presented, 1))
    return {name: statistics.median(values) for name, values in samples.items()}


def test_time_does_not_depend_on_where_the_match_is() -> None:
    keys = [new_key() for _ in range(N)]
    store = _store(_records(keys))
    medians = _interleaved(
        {
            "first": (store, [keys[0]] * 20),
            "last": (store, [keys[-1]] * 20),
            "none": (store, ["sk-" + "x" * 43] * 20),
        }
    )
    # An early exit would make "first" about N times faster than "last"; allow 2x for noise.
    assert max(medians.values()) / min(medians.values()) < 2.0, medians


def test_time_does_not_depend_on_shared_prefixes() -> None:
    """Wrong keys sharing 0, 20 or 40 characters with a real key; and stored digests sharing 0
    or 31 of 32 bytes with the wrong key's digest (planted by digest, as a key file holds them)."""
    real = new_key()
    wrong = {n: real[:n] + "".join("Q" if c != "Q" else "R" for c in real[n:]) for n in (3, 23, 43)}
    base = [new_key() for _ in range(N - 1)]
    store = _store(_records([real, *base]))
    by_key_prefix = _interleaved({str(n): (store, [w] * 20) for n, w in wrong.items()})
    assert max(by_key_prefix.values()) / min(by_key_prefix.values()) < 1.5, by_key_prefix

    probe = "sk-probe"
    target = hashlib.sha256(probe.encode()).digest()
    near = [
        {"name": f"n{i}", "sha256": (target[:31] + bytes([(target[31] + 1 + i) % 256])).hex()}
        for i in range(255)
    ]
    far = [
        {"name": f"f{i}", "sha256": (bytes([target[0] ^ 0xFF]) + bytes(31)[:-1] + bytes([i])).hex()}
        for i in range(255)
    ]
    by_digest_prefix = _interleaved(
        {"shares 31 bytes": (_store(near), [probe] * 200), "shares 0": (_store(far), [probe] * 200)}
    )
    ratio = max(by_digest_prefix.values()) / min(by_digest_prefix.values())
    assert ratio < 1.5, by_digest_prefix
