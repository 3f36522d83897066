"""Pluggable analyzers: each reads the build and its log and adds findings."""

from __future__ import annotations

from analyzers import failing_step, tail
from analyzers.base import (
    AnalysisContext,
    Analyzer,
    AnalyzerFactory,
    Finding,
    LineRange,
    merge_ranges,
    ranges_from_numbers,
)

ENTRY_POINT_GROUP = "buildlens.analyzers"

# The only list of built-in analyzer names.
ANALYZERS: dict[str, AnalyzerFactory] = {
    "failing_step": failing_step.create,
    "tail": tail.create,
}

__all__ = [
    "ANALYZERS",
    "ENTRY_POINT_GROUP",
    "AnalysisContext",
    "Analyzer",
    "AnalyzerFactory",
    "Finding",
    "LineRange",
    "merge_ranges",
    "ranges_from_numbers",
]
