"""The last lines of the failing step's output: the crude excerpt every tool starts from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzers.base import AnalysisContext, Finding, ranges_from_numbers

if TYPE_CHECKING:
    from buildlens_core.settings import Settings


class TailAnalyzer:
    name = "tail"

    def __init__(self, lines: int) -> None:
        self._lines = lines

    def analyze(self, ctx: AnalysisContext) -> list[Finding]:
        step = ctx.failing_step_index
        candidates = ctx.log.lines
        if step is not None:
            candidates = ctx.log.step_lines(step) or candidates
        chosen = [line.number for line in candidates[-self._lines :]]
        if not chosen:
            return []
        ranges = tuple(ranges_from_numbers(chosen))
        where = f"step #{step}" if isinstance(step, int) else "the log"
        return [Finding(self.name, "excerpt", f"last {len(chosen)} lines of {where}", ranges)]


def create(settings: Settings) -> TailAnalyzer:
    return TailAnalyzer(settings.analysis.tail_lines)
