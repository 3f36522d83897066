"""Per-key requests-per-minute limits: a token bucket per key name, in memory, per instance."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    rpm: int
    tokens: float
    updated: float


class RateLimiter:
    """Allows bursts of up to `rpm` requests, refilling at rpm/60 per second.

    Each Cloud Run instance keeps its own buckets, so N instances allow up to N x rpm.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, name: str, rpm: int) -> float | None:
        """Take one request for `name`; None if allowed, else seconds until one is allowed."""
        if rpm <= 0:
            return None
        now = self._clock()
        bucket = self._buckets.get(name)
        if bucket is None or bucket.rpm != rpm:
            bucket = self._buckets[name] = _Bucket(rpm=rpm, tokens=float(rpm), updated=now)
        rate = rpm / 60.0
        bucket.tokens = min(float(rpm), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / rate


def retry_after_header(seconds: float) -> str:
    """Retry-After takes whole seconds; round up so an obedient client is never refused again."""
    return str(max(1, math.ceil(seconds)))
