"""Excerpt: the key lines with their context and the failing section's last lines.

This is what people and LLMs read, so it stays small (at most `max_lines`), is merged into
ranges and keeps log order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzers.base import AnalysisContext, Finding, LineRange, merge_ranges
from analyzers.keylines import KeyLines, key_lines_for

if TYPE_CHECKING:
    from notifier.settings import Settings

MAX_LINES = 150


def build_excerpt(
    found: KeyLines,
    *,
    max_lines: int = MAX_LINES,
    before: int = 10,
    after: int = 25,
    section_tail: int = 50,
) -> list[LineRange]:
    """Ranges to show, in priority order until `max_lines` is spent, then in log order."""
    last = found.last_line
    if last < 1:
        return []
    wanted: list[LineRange] = []
    for r in found.ranges:
        wanted.append(_clip(r.start - before, r.end + after, last))
    end = found.section.end if found.section else last
    wanted.append(_clip(end - section_tail + 1, end, last))
    for r in found.candidates[:5]:
        wanted.append(_clip(r.start - 3, r.end + 3, last))
    if not found.ranges:
        wanted.append(_clip(last - 60, last, last))
    chosen: list[LineRange] = []
    for r in wanted:
        trial = merge_ranges([*chosen, r])
        used = sum(x.size for x in trial)
        if used <= max_lines:
            chosen = trial
            continue
        room = max_lines - sum(x.size for x in chosen)
        if room > 0:
            # Keep the start of an over-long range: a block's first lines say the most.
            chosen = merge_ranges([*chosen, LineRange(r.start, r.start + room - 1)])
            chosen = _cap(chosen, max_lines)
        break
    return chosen


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
