"""Per-key token buckets, driven by an injected clock."""

from __future__ import annotations

from service.ratelimit import RateLimiter, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert [limiter.acquire("a", 3) for _ in range(3)] == [None, None, None]
    wait = limiter.acquire("a", 3)
    assert wait is not None
    assert abs(wait - 20.0) < 1e-6  # one token per 20 s at 3/min
    clock.now += 20.0
    assert limiter.acquire("a", 3) is None
    assert limiter.acquire("a", 3) is not None


def test_keys_are_independent_and_zero_is_unlimited() -> None:
    limiter = RateLimiter(Clock())
    assert limiter.acquire("a", 1) is None
    assert limiter.acquire("a", 1) is not None
    assert limiter.acquire("b", 1) is None
    assert all(limiter.acquire("c", 0) is None for _ in range(1000))


def test_changed_limit_takes_effect() -> None:
    limiter = RateLimiter(Clock())
    assert limiter.acquire("a", 1) is None
    assert limiter.acquire("a", 1) is not None
    assert limiter.acquire("a", 60) is None  # a reload raised the limit


def test_retry_after_rounds_up() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"
    assert retry_after_header(20.0) == "20"
