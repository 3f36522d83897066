"""Retry with exponential backoff and full jitter, for calls that fail transiently."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def retry_call(
    fn: Callable[[], T],
    *,
    attempts: int,
    is_transient: Callable[[BaseException], bool],
    base_delay_s: float = 0.5,
    max_delay_s: float = 8.0,
    deadline: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`; on a transient error wait and try again, at most `attempts` times.

    `deadline` is a `time.monotonic()` value after which no new attempt starts.
    """
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            delay = random.uniform(0, min(max_delay_s, base_delay_s * 2 ** (attempt - 1)))
            if deadline is not None and time.monotonic() + delay > deadline:
                raise
            sleep(delay)
    raise AssertionError("unreachable")
