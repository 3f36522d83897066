"""Typed results the rule analyzers share with the ones that run after them.

An analyzer puts its result on the context (`ctx.put(FailedStep(...))`) and a later one
reads it by type (`ctx.get(FailedStep)`): no JSON data and no lookups by finding kind
between analyzers. The key lines' result is `analyzers.keylines.KeyLines`, the
classification's `analyzers.classify.Classification`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FailedStep:
    """The step that failed, as the failing_step analyzer found it."""

    summary: str
    index: int | None = None  # 0-based; None when only the build's failureInfo says it failed
    id: str = ""
    image: str = ""
    exit_code: int | None = None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    digest: str  # 16 hex digits
    normalized: str  # the masked cause text it hashes
