"""The whole analysis of one log stream: key lines, excerpt, category and fingerprint.

Used by the command line and the benchmarks, for plain logs of any CI system; the
notifier's analyzers run the same functions on a `BuildLog`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from analyzers.base import LineRange
from analyzers.classify import classify
from analyzers.excerpt import build_excerpt
from analyzers.fingerprint import cause_texts, fingerprint
from analyzers.keylines import KeyLines, find_key_lines
from analyzers.scanner import scan
from analyzers.signature import PassingLines, signature_of_log
from buildlens_core.buildlog import build_log_from_bytes, read_chunks

PASSING_LOG_BYTES = 16 << 20  # as the notifier's MAX_LOG_BYTES default


@dataclass(frozen=True, slots=True)
class LogReport:
    key_lines: tuple[LineRange, ...]
    excerpt: tuple[LineRange, ...]
    category: str
    rule: str
    fingerprint: str
    normalized: str
    total_lines: int
    found: KeyLines

    @property
    def failing_step(self) -> int | None:
        """The 0-based Cloud Build step that failed, as read from the log alone."""
        return self.found.step

    def to_json(self, path: str) -> dict[str, object]:
        """The command-line contract: keep these keys and shapes stable."""
        return {
            "path": path,
            "key_lines": [[r.start, r.end] for r in self.key_lines],
            "excerpt": [[r.start, r.end] for r in self.excerpt],
            "category": self.category,
            "fingerprint": self.fingerprint,
            "failing_step": self.failing_step,
            "known_lines": self.found.known,
        }


def analyze_chunks(
    chunks: Iterator[bytes] | list[bytes], passing: PassingLines | None = None
) -> LogReport:
    """`passing`: what passing builds of the same pipeline printed (`read_passing`)."""
    result = scan(chunks)
    found = find_key_lines(result.segments, repeats=result.repeats, passing=passing)
    excerpt = build_excerpt(found)
    verdict = classify(found.texts, found.tail_texts)
    # The fingerprint hashes the key lines found without passing builds (as the notifier's
    # fingerprint analyzer does): the same failure keeps its identity whatever was remembered.
    plain = find_key_lines(result.segments, repeats=result.repeats) if passing else found
    digest, normalized = fingerprint(cause_texts(plain))
    return LogReport(
        found.ranges,
        tuple(excerpt),
        verdict.category,
        verdict.rule,
        digest,
        normalized,
        result.total_lines,
        found,
    )


def analyze_path(path: Path, passing: PassingLines | None = None) -> LogReport:
    return analyze_chunks(read_chunks(path), passing)


def read_passing(paths: Iterable[Path], max_bytes: int = PASSING_LOG_BYTES) -> PassingLines:
    """The passing lines of logs of passing builds, each read like the notifier reads a
    log (at most `max_bytes`, head and tail)."""
    return PassingLines(
        [signature_of_log(build_log_from_bytes(read_chunks(p), max_bytes=max_bytes)) for p in paths]
    )
