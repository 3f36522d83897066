"""A build's log as numbered lines, each tagged with the build step it belongs to.

Numbering rule (docs/ARCHITECTURE.md section 3): decode as UTF-8 with replacement; a line ends at
`\\n`, `\\r\\n` or a lone `\\r`; lines are numbered from 1. Every line keeps its original
number, also when the middle of an over-long log is cut.
"""

from __future__ import annotations

import bisect
import gzip
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

_TERMINATOR = re.compile(rb"\r\n|\r|\n")
_TERMINATOR_KEPT = re.compile(rb"(\r\n|\r|\n)")
STEP_PREFIX = re.compile(r'^Step #(\d+)(?: - "([^"]*)")?: ?')
_STEP_LABEL = re.compile(r'^Step #(\d+)(?: - "([^"]*)")?$')
MAX_LINE_CHARS = 4096


class LogLine(NamedTuple):
    # A tuple, not a dataclass: logs have millions of lines and this is 3x faster to build.
    number: int
    text: str
    step: int | None = None  # None: Cloud Build's own orchestration lines (MAIN)


@dataclass(frozen=True, slots=True)
class LogCut:
    """Lines `first`..`last` (inclusive) were dropped to keep memory bounded."""

    first: int
    last: int
    bytes: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


@dataclass(slots=True)
class BuildLog:
    lines: list[LogLine]
    total_lines: int
    total_bytes: int
    source: str = ""
    cut: LogCut | None = None
    step_ids: dict[int, str] = field(default_factory=dict)
    _numbers: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._numbers = [line.number for line in self.lines]

    def line(self, number: int) -> LogLine | None:
        i = bisect.bisect_left(self._numbers, number)
        if i < len(self._numbers) and self._numbers[i] == number:
            return self.lines[i]
        return None

    def between(self, start: int, end: int) -> list[LogLine]:
        """The kept lines numbered `start`..`end` inclusive."""
        lo = bisect.bisect_left(self._numbers, start)
        hi = bisect.bisect_right(self._numbers, end)
        return self.lines[lo:hi]

    def step_lines(self, step: int) -> list[LogLine]:
        return [line for line in self.lines if line.step == step]

    @property
    def last_number(self) -> int:
        return self._numbers[-1] if self._numbers else 0


def count_terminators(chunk: bytes, prev_ended_cr: bool) -> int:
    """Line terminators in `chunk`, given whether the previous chunk ended with `\\r`."""
    n = chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
    if prev_ended_cr and chunk.startswith(b"\n"):
        n -= 1  # the `\r` before this chunk and this `\n` are one `\r\n`
    return n


def split_lines(data: bytes) -> list[bytes]:
    """Split a complete log into raw lines (without terminators)."""
    if not data:
        return []
    parts = _TERMINATOR.split(data)
    if parts[-1] == b"":
        parts.pop()  # the log ended with a terminator
    return parts


def split_lines_cr(data: bytes) -> list[tuple[bytes, bool]]:
    """Like `split_lines`, with whether each line ended at a lone `\r` (a progress update)."""
    if not data:
        return []
    if b"\r" not in data:  # the common case, several times faster
        plain = data.split(b"\n")
        if not plain[-1]:
            plain.pop()
        return [(line, False) for line in plain]
    parts = _TERMINATOR_KEPT.split(data)
    lines = [(parts[i], parts[i + 1] == b"\r") for i in range(0, len(parts) - 1, 2)]
    if parts[-1]:
        lines.append((parts[-1], False))
    return lines


def iter_lines(chunks: Iterable[bytes], max_line_bytes: int = 1 << 16) -> Iterator[bytes]:
    """Split a stream of byte chunks into lines; a line longer than the cap is truncated.

    Memory stays bounded by the chunk size plus `max_line_bytes`, whatever the input.
    """
    carry = b""
    skipping = False  # inside a line already truncated: drop bytes until its end
    for chunk in chunks:
        data = carry + chunk if carry else chunk
        carry = b""
        parts = _TERMINATOR.split(data)
        tail = parts.pop()
        if data.endswith(b"\r") and parts:
            # `\r` may be half of `\r\n` split across chunks: decide with the next chunk.
            tail = parts.pop() + b"\r"
        for part in parts:
            if skipping:
                skipping = False
                continue
            yield part[:max_line_bytes]
        if skipping:
            continue
        if len(tail) > max_line_bytes + 1:
            yield tail[:max_line_bytes]
            skipping = True
        else:
            carry = tail
    if carry and not skipping:
        yield carry[:-1] if carry.endswith(b"\r") else carry


def decode_line(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    if len(text) > MAX_LINE_CHARS:
        text = f"{text[:MAX_LINE_CHARS]}… [{len(text) - MAX_LINE_CHARS} more characters]"
    return text


_NO_STEP: tuple[int | None, str] = (None, "")
_prefix_cache: dict[str, tuple[int | None, str]] = {}


def parse_step_prefix(text: str) -> tuple[int | None, str, str]:
    """`Step #2 - "test": ok` -> (2, "test", "ok"); other lines -> (None, "", text)."""
    if not text.startswith("Step #"):
        return None, "", text
    # Nearly every line of a Cloud Build log has one of a few prefixes: parse each once.
    colon = text.find(": ", 6)
    if colon < 0:
        if not text.endswith(":"):
            return None, "", text
        colon = len(text) - 1
    head = text[:colon]
    parsed = _prefix_cache.get(head)
    if parsed is None:
        parsed = parse_step_label(head)
        if len(_prefix_cache) > 4096:
            _prefix_cache.clear()
        _prefix_cache[head] = parsed
    if parsed[0] is None:
        return None, "", text
    return parsed[0], parsed[1], text[colon + 2 :]


def parse_step_label(label: str) -> tuple[int | None, str]:
    """Cloud Logging's `build_step` label: `Step #2 - "test"` -> (2, "test"); MAIN -> None."""
    match = _STEP_LABEL.match(label.strip())
    if match is None:
        return None, ""
    return int(match.group(1)), match.group(2) or ""


class LogAccumulator:
    """Collects a log's bytes; past `max_bytes` it keeps only the head and the tail.

    Line numbers stay exact: terminators are counted over the whole stream. The head fills
    first; everything after it goes to the tail, which drops its oldest bytes once the
    whole exceeds `max_bytes`, so memory never holds much more than `max_bytes`.
    """

    def __init__(self, max_bytes: int, head_fraction: float = 0.2) -> None:
        if max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024")
        self._head_budget = int(max_bytes * head_fraction)
        self._tail_budget = max_bytes - self._head_budget
        self._head: list[bytes] = []
        self._head_size = 0
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self._dropped = 0  # bytes dropped from the front of the tail
        self._total = 0
        self._terminators = 0
        self._prev_cr = False
        self._last_byte = b""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._terminators += count_terminators(chunk, self._prev_cr)
        self._prev_cr = chunk.endswith(b"\r")
        self._last_byte = chunk[-1:]
        self._total += len(chunk)
        room = self._head_budget - self._head_size
        if room > 0:
            self._head.append(chunk[:room])
            self._head_size += min(room, len(chunk))
            chunk = chunk[room:]
            if not chunk:
                return
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size - len(self._tail[0]) >= self._tail_budget:
            size = len(self._tail.popleft())
            self._tail_size -= size
            self._dropped += size
        extra = self._tail_size - self._tail_budget
        if extra > 0:
            self._tail[0] = self._tail[0][extra:]
            self._tail_size -= extra
            self._dropped += extra

    @property
    def total_bytes(self) -> int:
        return self._total

    def total_lines(self) -> int:
        ends_open = self._total > 0 and self._last_byte not in (b"\n", b"\r")
        return self._terminators + (1 if ends_open else 0)

    def take_blocks(self) -> tuple[list[tuple[int, list[tuple[bytes, bool]]]], LogCut | None]:
        """The kept lines as (first line number, [(bytes, ended at lone CR)]) blocks, and
        the cut if there was one. Empties the accumulator to free its memory early."""
        head_bytes = b"".join(self._head)
        self._head.clear()
        if not self._dropped:
            data = head_bytes + b"".join(self._tail)
            self._tail.clear()
            return [(1, split_lines_cr(data))], None
        tail_bytes = b"".join(self._tail)
        self._tail.clear()
        head = split_lines_cr(head_bytes)
        if head and not head_bytes.endswith((b"\n", b"\r")):
            head.pop()  # partial line: it continues into the cut
        if not head and head_bytes:
            head = [(head_bytes, False)]  # one huge first line: keep its start
        tail = split_lines_cr(tail_bytes)
        if tail:
            tail.pop(0)  # probably starts mid-line
        first_tail = self.total_lines() - len(tail) + 1
        cut = None
        if first_tail - 1 >= len(head) + 1:
            cut = LogCut(len(head) + 1, first_tail - 1, self._dropped)
        return [(1, head), (first_tail, tail)], cut


def build_log_from_bytes(chunks: Iterable[bytes], *, max_bytes: int, source: str = "") -> BuildLog:
    """A GCS-shaped log (steps marked by `Step #N - "id":` prefixes) as a `BuildLog`."""
    acc = LogAccumulator(max_bytes)
    for chunk in chunks:
        acc.feed(chunk)
    return build_log(acc, source)


def build_log(acc: LogAccumulator, source: str = "") -> BuildLog:
    """The `BuildLog` of everything fed to `acc`."""
    total_lines, total_bytes = acc.total_lines(), acc.total_bytes
    blocks, cut = acc.take_blocks()
    lines: list[LogLine] = []
    step_ids: dict[int, str] = {}
    previous_step: int | None = None
    previous_cr = False
    while blocks:
        number, raws = blocks.pop(0)
        for raw, ended_cr in raws:
            text = raw.decode("utf-8", errors="replace")
            if len(text) > MAX_LINE_CHARS:
                text = f"{text[:MAX_LINE_CHARS]}… [{len(text) - MAX_LINE_CHARS} more characters]"
            step, step_id, text = parse_step_prefix(text)
            if step is None and previous_cr:
                # Cloud Build prefixes at `\n` only: what follows a lone `\r` is the same step.
                step = previous_step
            if step is not None and step_id:
                step_ids.setdefault(step, step_id)
            lines.append(LogLine(number, text, step))
            previous_step, previous_cr = step, ended_cr
            number += 1
        del raws
    return BuildLog(lines, total_lines, total_bytes, source, cut, step_ids)


CHUNK_BYTES = 1 << 20


def read_chunks(path: Path, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """A log file's bytes in chunks, so no reader holds it whole; `.gz` is decompressed on
    the fly."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk
