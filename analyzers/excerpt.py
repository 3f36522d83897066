"""Excerpt: the key lines with their context and the failing section's last lines.

This is what people and LLMs read, so it stays small (at most `max_lines`), is merged into
ranges and keeps log order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzers.base import AnalysisContext, Finding, LineRange, merge_ranges
from analyzers.keylines import KeyLines, key_lines_for

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

MAX_LINES = 150


def build_excerpt(
    found: KeyLines,
    *,
    max_lines: int = MAX_LINES,
    before: int = 5,
    after: int = 25,
    section_tail: int = 30,
    bridge: int = 25,
    key_bridge: int = 80,
) -> list[LineRange]:
    """Ranges to show, in priority order until `max_lines` is spent, then in log order:
    the key lines, the failing section's end, the first runner-up block, the other ones."""
    last = found.last_line
    if last < 1:
        return []
    wanted = [_around(r, before, after, max_lines, last) for r in found.ranges]
    if not found.ranges:
        wanted.append(_clip(last - 60, last, last))
    end = found.section.end if found.section else last
    wanted.append(_clip(end - section_tail + 1, end, last))
    for k, r in enumerate(found.candidates[:5]):
        if k == 0:
            wanted.append(_clip(r.start - 3, min(r.end, r.start + 60) + 10, last))
        else:
            wanted.append(_clip(r.start - 3, r.end + 3, last))
    chosen: list[LineRange] = []
    for r in wanted:
        trial = merge_ranges([*chosen, r])
        bridged = _bridge(trial, bridge)
        if _size(bridged) <= max_lines:
            chosen = bridged
            continue
        if _size(trial) <= max_lines:
            chosen = trial
            continue
        room = max_lines - _size(chosen)
        if room > 0:
            # Keep the start of an over-long range: a block's first lines say the most.
            chosen = merge_ranges([*chosen, LineRange(r.start, r.start + room - 1)])
            chosen = _cap(chosen, max_lines)
        break
    return _join_near_key(chosen, found.ranges, key_bridge, max_lines)


def _around(r: LineRange, before: int, after: int, max_lines: int, last: int) -> LineRange:
    """Key lines with their context; a long block keeps all its lines and gives up context."""
    spare = max(0, max_lines - r.size)
    after = min(after, spare)
    before = min(before, spare - after)
    return _clip(r.start - before, r.end + after, last)


def _join_near_key(
    ranges: list[LineRange], key: tuple[LineRange, ...], gap: int, max_lines: int
) -> list[LineRange]:
    """With room left, fill the gaps next to the key lines, smallest first: what happened
    between the failure and an error a screen away is usually part of the story."""
    out = list(ranges)
    while True:
        gaps = [
            (out[i + 1].start - out[i].end - 1, i)
            for i in range(len(out) - 1)
            if _touches(out[i], key) or _touches(out[i + 1], key)
        ]
        fits = [(g, i) for g, i in gaps if g <= gap and _size(out) + g <= max_lines]
        if not fits:
            return out
        _, i = min(fits)
        out[i : i + 2] = [LineRange(out[i].start, out[i + 1].end)]


def _touches(r: LineRange, key: tuple[LineRange, ...]) -> bool:
    return any(k.start <= r.end and r.start <= k.end for k in key)


def _bridge(ranges: list[LineRange], gap: int) -> list[LineRange]:
    """Join ranges a few lines apart: one block reads better than two fragments."""
    out: list[LineRange] = []
    for r in ranges:
        if out and r.start - out[-1].end - 1 <= gap:
            out[-1] = LineRange(out[-1].start, max(out[-1].end, r.end))
        else:
            out.append(r)
    return out


def _size(ranges: list[LineRange]) -> int:
    return sum(r.size for r in ranges)


def _clip(start: int, end: int, last: int) -> LineRange:
    start = max(1, min(start, last))
    return LineRange(start, max(start, min(end, last)))


def _cap(ranges: list[LineRange], max_lines: int) -> list[LineRange]:
    out: list[LineRange] = []
    left = max_lines
    for r in ranges:
        if left <= 0:
            break
        out.append(LineRange(r.start, min(r.end, r.start + left - 1)))
        left -= out[-1].size
    return out


class ExcerptAnalyzer:
    name = "excerpt"

    def __init__(self, max_lines: int = MAX_LINES) -> None:
        self._max_lines = max_lines

    def analyze(self, ctx: AnalysisContext) -> list[Finding]:
        ranges = build_excerpt(key_lines_for(ctx), max_lines=self._max_lines)
        if not ranges:
            return []
        size = sum(r.size for r in ranges)
        return [Finding(self.name, "excerpt", f"{size} lines around the failure", tuple(ranges))]


def create(settings: Settings) -> ExcerptAnalyzer:
    return ExcerptAnalyzer()
