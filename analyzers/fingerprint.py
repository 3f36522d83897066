"""Fingerprint: a stable signature of a failure, equal across builds that fail the same way.

Key lines are normalised: what changes from run to run (numbers, hex ids, UUIDs, timestamps,
temporary paths, durations, addresses) is masked; what names the failure (test names, file
names, messages) is kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from analyzers.base import AnalysisContext, Finding, JSONValue
from analyzers.keylines import KeyLines, key_lines_for
from analyzers.results import Fingerprint
from analyzers.wrappers import says_only_that_it_failed

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

MAX_LINES = 12
CAUSE_TAIL = 3  # with only wrappers as key lines, the failing section's last lines stand in
_MAX_CHARS = 400

# Order matters: wider shapes first, so that a timestamp is not masked as three numbers.
_UUID = r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
_STAMP = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?"
_TEMP = (
    r"(?:/tmp|/var/tmp|/private/var/folders|/var/folders"
    r"|C:\\Users\\[^\\\s]{1,64}\\AppData\\Local\\Temp)(?:[/\\][\w.@+-]{1,200}){0,30}"
)
_WORKSPACE = r"/(?:home|Users)/[\w.-]{1,64}/(?:build|work|workspace|builds)/(?:[\w.-]{1,200}/){0,2}"
_DURATION = r"\b\d+(?:\.\d+)?\s?(?:ms|msec|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)\b"
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(_UUID), "<uuid>"),
    (re.compile(_STAMP), "<time>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(?:[.,]\d{1,9})?\b"), "<time>"),
    (re.compile(_TEMP), "<tmp>"),
    (re.compile(_WORKSPACE), "<ws>/"),
    (re.compile(r"/workspace/|/builds/[\w.-]{1,200}/[\w.-]{1,200}/"), "<ws>/"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<addr>"),
    (re.compile(r"\b(?=[0-9a-f]{0,63}[a-f])(?=[0-9a-f]{0,63}\d)[0-9a-f]{7,64}\b"), "<hex>"),
    (re.compile(_DURATION), "<dur>"),
    (re.compile(r"\d+"), "<n>"),
    (re.compile(r"[ \t]+"), " "),
)


def normalize(line: str) -> str:
    text = line[:_MAX_CHARS]
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text.strip()


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
        digest, normalized = fingerprint(cause_texts(found))
        if not digest:
            return []
        ctx.put(Fingerprint(digest, normalized))
        data: dict[str, JSONValue] = {"fingerprint": digest, "normalized": normalized}
        return [Finding(self.name, "fingerprint", digest, found.ranges, data)]


def create(settings: Settings) -> FingerprintAnalyzer:
    return FingerprintAnalyzer()
