"""Pluggable analyzers: each reads the build and its log and adds findings."""

from __future__ import annotations

from analyzers import classify, excerpt, failing_step, fingerprint, keylines, llm, tail
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
    "key_lines": keylines.create,
    "excerpt": excerpt.create,
    "classify": classify.create,
    "fingerprint": fingerprint.create,
    "gemini": llm.create_gemini,
    "openai": llm.create_openai,
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
