"""Fingerprint: a stable signature of a failure, equal across builds that fail the same way.

Key lines are normalised: what changes from run to run (numbers, hex ids, UUIDs, timestamps,
temporary paths, durations, addresses) is masked; what names the failure (test names, file
names, messages) is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from analyzers.base import AnalysisContext, Finding, JSONValue
from analyzers.keylines import KeyLines, find_key_lines, key_lines_for, segments_from_context
from analyzers.masking import normalize
from analyzers.results import Fingerprint
from analyzers.signature import PassingLines
from analyzers.wrappers import says_only_that_it_failed

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

MAX_LINES = 12
CAUSE_TAIL = 3  # with only wrappers as key lines, the failing section's last lines stand in


def normalize_lines(lines: Iterable[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        norm = normalize(line)
        if norm and (not out or out[-1] != norm):
            out.append(norm)
        if len(out) >= MAX_LINES:
            break
    return out


def fingerprint(lines: Sequence[str]) -> tuple[str, str]:
    """(16-hex-digit digest, the normalised text it hashes); empty input -> ("", "")."""
    normalized = "\n".join(normalize_lines(lines))
    if not normalized:
        return "", ""
    return hashlib.sha256(normalized.encode()).hexdigest()[:16], normalized


def cause_texts(found: KeyLines) -> list[str]:
    """The key lines that state the cause: wrappers (`ERROR: build step 0 ... failed`, the
    bare `ERROR` marker) say only that something failed and would make unrelated failures
    share one fingerprint. Without a cause among the key lines, the failing section's last
    lines that are not wrappers stand in; with none, there is no fingerprint."""
    texts = [t for t in found.texts if not says_only_that_it_failed(t)]
    if texts:
        return texts
    return [t for t in found.tail_texts if t and not says_only_that_it_failed(t)][-CAUSE_TAIL:]


class FingerprintAnalyzer:
    name = "fingerprint"

    def analyze(self, ctx: AnalysisContext) -> list[Finding]:
        found = key_lines_for(ctx)
        if ctx.get(PassingLines) is not None:
            # A failure's identity must not depend on which passing builds are remembered
            # (they trim the key block): hash the key lines found without them.
            found = find_key_lines(segments_from_context(ctx), failing_step=ctx.failing_step_index)
        digest, normalized = fingerprint(cause_texts(found))
        if not digest:
            return []
        ctx.put(Fingerprint(digest, normalized))
        data: dict[str, JSONValue] = {"fingerprint": digest, "normalized": normalized}
        return [Finding(self.name, "fingerprint", digest, found.ranges, data)]


def create(settings: Settings) -> FingerprintAnalyzer:
    return FingerprintAnalyzer()
