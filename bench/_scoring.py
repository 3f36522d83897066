"""Line-level scores shared by the key-line benchmarks (LogChunks, real Cloud Build logs)."""

from __future__ import annotations

import re
from collections.abc import Iterable

Ranges = list[tuple[int, int]]
KEYWORDS = re.compile(r"error|fail|exception|fatal", re.IGNORECASE)  # the baselines' words


def to_ranges(numbers: Iterable[int]) -> Ranges:
    """Line numbers as sorted, merged 1-based inclusive ranges."""
    out: Ranges = []
    for n in sorted(set(numbers)):
        if out and n <= out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def line_set(ranges: Ranges) -> set[int]:
    return {n for s, e in ranges for n in range(s, e + 1)}


def prf(gold: set[int], found: set[int]) -> tuple[float, float, float]:
    """Precision, recall and F1 of `found` lines against `gold` (empty output scores 0)."""
    hit = len(gold & found)
    p = hit / len(found) if found else 0.0
    r = hit / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0
