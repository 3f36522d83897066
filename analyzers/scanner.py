"""One pass over a log stream in bounded memory: the tail in full, early hot spots in part.

A failure is nearly always explained near the end of a log, so the last `tail_bytes` are
kept whole. Older text is searched block by block for error vocabulary with `bytes.find`
(C speed; Python's regex alternation is several times slower), and the lines around the
strongest hits are kept as small segments, at most `max_early` of them. Templates of hit
lines are counted so that noise repeated thousands of times can be weighted down.

Line numbering follows docs/ARCHITECTURE.md section 3: a line ends at `\\n`, `\\r\\n`
or a lone `\\r`.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass

from analyzers.keylines import Segment
from analyzers.scoring import line_score
from buildlens_core.noise import clean

# Lower-case byte literals; a line holding none of them is never a candidate.
_LITERALS = tuple(
    w.encode()
    for w in (
        "error", "fail", "fatal", "exception", "traceback", "panic", "abort", "denied",
        "not found", "cannot", "could not", "unable to", "killed", "no such", "no space",
        "out of memory", "assert", "segmentation", "✖", "✗", "❌",
    )
)  # fmt: skip
# Repeat-counting key: the line's first 200 bytes, lower-cased, digits masked (as keylines).
_DIGITS = bytes.maketrans(b"0123456789", b"##########")
_CONTEXT_BEFORE = 30
_CONTEXT_AFTER = 60
_MAX_COUNTED = 50_000
_MAX_SCORED = 20_000


@dataclass(slots=True)
class ScanResult:
    segments: list[Segment]
    repeats: Counter[str]
    total_lines: int
    total_bytes: int


class LogScanner:
    """Feed byte chunks, then `finish()`; memory stays bounded whatever the log's size."""

    def __init__(
        self,
        *,
        tail_bytes: int = 2 << 20,
        block_bytes: int = 1 << 20,
        max_line_bytes: int = 1 << 16,
        max_early: int = 8,
    ) -> None:
        self._tail_bytes = tail_bytes
        self._block_bytes = block_bytes
        self._max_line = max_line_bytes
        self._max_early = max_early
        self._pending = bytearray()
        self._pending_cr = False  # the last chunk ended with `\r` (maybe half of `\r\n`)
        self._skipping = False  # inside an over-long line: drop bytes until its end
        self._recent: deque[tuple[int, bytes]] = deque()  # (first line number, block)
        self._recent_bytes = 0
        self._next_line = 1
        self._total_bytes = 0
        self._early: list[tuple[float, int, Segment]] = []  # min-heap by score
        self._repeats: Counter[bytes] = Counter()
        self._seq = 0
        self._scores: dict[bytes, float] = {}

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._total_bytes += len(chunk)
        if self._pending_cr:
            chunk = b"\r" + chunk
            self._pending_cr = False
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
            self._pending_cr = True
        data = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._append(data)

    def _append(self, data: bytes) -> None:
        if self._skipping:
            cut = data.find(b"\n")
            if cut < 0:
                return
            self._skipping = False
            data = data[cut + 1 :]
        self._pending += data
        while len(self._pending) >= self._block_bytes:
            # Blocks of about `block_bytes`, cut at a line end, whatever the chunk sizes.
            end = self._pending.rfind(b"\n", 0, self._block_bytes)
            if end < 0:
                end = self._pending.find(b"\n")
            if end < 0 or end > self._max_line + self._block_bytes:
                if len(self._pending) <= self._max_line:
                    return
                # One line longer than the cap: keep its start, drop the rest of it.
                rest = self._pending[self._max_line :]
                del self._pending[self._max_line :]
                self._pending += b"\n"
                cut = rest.find(b"\n")
                self._take_block(len(self._pending) - 1)
                if cut < 0:
                    self._skipping = True
                    return
                self._pending += rest[cut + 1 :]
                continue
            self._take_block(end)

    def _take_block(self, end: int) -> None:
        block = bytes(self._pending[:end])
        del self._pending[: end + 1]
        count = block.count(b"\n") + 1
        self._recent.append((self._next_line, block))
        self._recent_bytes += len(block) + 1
        self._next_line += count
        while (
            len(self._recent) > 2
            and self._recent_bytes - len(self._recent[0][1]) > self._tail_bytes
        ):
            first, old = self._recent.popleft()
            self._recent_bytes -= len(old) + 1
            self._harvest(first, old, self._recent[0][1])

    def _harvest(self, first: int, block: bytes, following: bytes) -> None:
        """Count hit templates of a block leaving the tail; keep context of its best hits."""
        low = block.lower()
        starts: set[int] = set()
        for lit in _LITERALS:
            i = low.find(lit)
            while i >= 0:
                starts.add(low.rfind(b"\n", 0, i) + 1)
                e = low.find(b"\n", i)
                if e < 0:
                    break
                i = low.find(lit, e)
        if not starts:
            return
        best: list[tuple[float, int, int]] = []
        index = 0
        pos = 0
        for start in sorted(starts):
            index += block.count(b"\n", pos, start)
            pos = start
            end = block.find(b"\n", start)
            raw = block[start : end if end >= 0 else len(block)]
            template = low[start : start + min(200, len(raw))].translate(_DIGITS)
            self._count(template)
            score = self._score(template, raw)
            if score >= 4.0:
                best.append((score, index, start))
        for score, index, start in heapq.nlargest(3, best):
            self._keep(first, block, following, index, start, score)

    def _score(self, template: bytes, raw: bytes) -> float:
        # Lines differing only in numbers score the same: score each template once.
        score = self._scores.get(template)
        if score is None:
            if len(self._scores) >= _MAX_SCORED:
                self._scores.clear()
            score = line_score(clean(_decode(raw[: self._max_line])))
            self._scores[template] = score
        return score

    def _count(self, template: bytes) -> None:
        self._repeats[template] += 1
        if len(self._repeats) > _MAX_COUNTED:
            # Keep the counter bounded: forget templates seen once.
            for key in [k for k, v in self._repeats.items() if v < 2]:
                del self._repeats[key]

    def _keep(
        self, first: int, block: bytes, following: bytes, index: int, start: int, score: float
    ) -> None:
        if len(self._early) >= self._max_early and score <= self._early[0][0]:
            return
        lo = start
        back = 0
        while lo > 0 and back < _CONTEXT_BEFORE:
            lo = block.rfind(b"\n", 0, lo - 1) + 1
            back += 1
        hi = start
        ahead = 0
        while ahead < _CONTEXT_AFTER:
            nxt = block.find(b"\n", hi)
            if nxt < 0:
                hi = len(block)
                break
            hi = nxt + 1
            ahead += 1
        window = block[lo:hi].rstrip(b"\n").split(b"\n")
        if ahead < _CONTEXT_AFTER and following:
            window += following.split(b"\n", _CONTEXT_AFTER - ahead)[: _CONTEXT_AFTER - ahead]
        texts = [_decode(x[: self._max_line]) for x in window]
        self._seq += 1
        item = (score, self._seq, Segment(first + index - back, texts))
        if len(self._early) >= self._max_early:
            heapq.heapreplace(self._early, item)
        else:
            heapq.heappush(self._early, item)

    def finish(self) -> ScanResult:
        if self._pending_cr:
            self._pending_cr = False
            self._append(b"\n")
        if self._pending and not self._pending.endswith(b"\n"):
            self._pending += b"\n"
        while self._pending:
            end = self._pending.rfind(b"\n", 0, self._block_bytes)
            self._take_block(end if end >= 0 else self._pending.find(b"\n"))
        segments = sorted((item[2] for item in self._early), key=lambda s: s.first)
        for first, block in self._recent:
            segments.append(
                Segment(first, [_decode(x[: self._max_line]) for x in block.split(b"\n")])
            )
        merged = _merge(segments)
        repeats: Counter[str] = Counter(
            {k.decode("utf-8", "replace"): v for k, v in self._repeats.items() if v > 1}
        )
        return ScanResult(merged, repeats, self._next_line - 1, self._total_bytes)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _merge(segments: list[Segment]) -> list[Segment]:
    """Join overlapping or adjacent segments so that every line appears once, in order."""
    out: list[Segment] = []
    for seg in segments:
        if out and seg.first <= out[-1].first + len(out[-1].lines):
            last = out[-1]
            skip = last.first + len(last.lines) - seg.first
            last.lines.extend(seg.lines[skip:])
        else:
            out.append(Segment(seg.first, list(seg.lines)))
    return out


def scan(chunks: Iterable[bytes], **options: int) -> ScanResult:
    scanner = LogScanner(**options)
    for chunk in chunks:
        scanner.feed(chunk)
    return scanner.finish()
