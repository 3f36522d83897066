"""What passing builds printed: a compact signature of their lines, per build step.

A line is remembered by its masked form (the fingerprint's masking of what changes from
run to run: numbers, ids, paths, durations) in a Bloom filter: a few bits per distinct
line, no log text kept. A failing build's line whose form a passing build of the same
trigger printed in the same step is known noise (a deprecation warning, a retried
download, a test's expected-error output): the key-line scoring discounts it, and the
report counts the failing step's lines that are new.

A Bloom filter answers "maybe printed" for a line never printed with probability about
`false_positive_rate()` (about 1% up to `MAX_STEP_BYTES`, more for steps with more distinct
lines than that holds), and never answers "not printed" for a line that was.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from analyzers.masking import normalize
from buildlens_core.buildlog import BuildLog, parse_step_prefix
from buildlens_core.noise import clean

MAX_STEP_BYTES = 16 << 10  # one step's filter, whatever its log
MIN_STEP_BYTES = 8
HASHES = 5  # bits set per line: about 1% false positives at 9.6 bits per line
_BITS_PER_LINE = 9.6
_DIGITS = bytes.maketrans(b"0123456789", b"##########")
_LOW64 = (1 << 64) - 1
_MAX_KEY_CHARS = 2000  # `clean` reads no further

WHOLE_LOG = ""  # the step key of a plain log (no Cloud Build steps) and of unstepped lines


def step_key(step: int | None) -> str:
    """The key a line's step is remembered under: its 0-based index, or WHOLE_LOG."""
    return WHOLE_LOG if step is None else str(step)


class SignatureError(ValueError):
    """A stored signature that cannot be read (corrupt or from an unknown version)."""


@dataclass(slots=True)
class LineFilter:
    """A Bloom filter of masked lines; its size in bits is a power of two."""

    bits: bytearray
    count: int = 0  # distinct forms added

    @classmethod
    def sized_for(cls, distinct: int, max_bytes: int = MAX_STEP_BYTES) -> LineFilter:
        wanted = max(MIN_STEP_BYTES * 8, math.ceil(distinct * _BITS_PER_LINE))
        size = 1 << (wanted - 1).bit_length()  # next power of two
        return cls(bytearray(min(size // 8, max_bytes)))

    def _positions(self, form: str) -> list[int]:
        # Double hashing: the digest's low and high 64 bits are h1 and h2 (odd).
        digest = hashlib.blake2b(form.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        whole = int.from_bytes(digest, "little")
        pos, step = whole & _LOW64, (whole >> 64) | 1
        mask = len(self.bits) * 8 - 1
        out = []
        for _ in range(HASHES):
            out.append(pos & mask)
            pos += step
        return out

    def add(self, form: str) -> None:
        bits = self.bits
        for pos in self._positions(form):
            bits[pos >> 3] |= 1 << (pos & 7)
        self.count += 1

    def __contains__(self, form: object) -> bool:
        if not isinstance(form, str):
            return False
        bits = self.bits
        return all(bits[pos >> 3] & (1 << (pos & 7)) for pos in self._positions(form))

    def fold(self) -> None:
        """Halve the filter (OR its halves): positions are taken modulo the size, so every
        form added is still found; false positives rise."""
        half = len(self.bits) // 2
        if half < MIN_STEP_BYTES:
            return
        low = int.from_bytes(self.bits[:half], "little") | int.from_bytes(
            self.bits[half:], "little"
        )
        self.bits = bytearray(low.to_bytes(half, "little"))

    def false_positive_rate(self) -> float:
        m = len(self.bits) * 8
        return (1.0 - math.exp(-HASHES * self.count / m)) ** HASHES if self.count else 0.0

    def encode(self) -> str:
        return base64.b64encode(bytes(self.bits)).decode("ascii")

    @classmethod
    def decode(cls, text: str, count: int) -> LineFilter:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError(f"not base64: {exc}") from None
        size = len(raw)
        if size < MIN_STEP_BYTES or size & (size - 1) or size > MAX_STEP_BYTES:
            raise SignatureError(f"a filter of {size} bytes is not a power of two in range")
        return cls(bytearray(raw), max(0, count))


def line_form(text: str) -> str:
    """The masked form a log line is remembered by (empty for a line with no text), the
    same with or without Cloud Build's `Step #N - "id":` prefix."""
    cleaned = clean(parse_step_prefix(text)[2])
    return normalize(cleaned) if cleaned else ""


class _Forms:
    """`line_form` with a cache keyed by the line with its digits masked: masking treats
    every digit alike, so lines differing only in numbers (timestamps, counters) share a
    form, and most of a log's lines are masked once."""

    def __init__(self) -> None:
        self._cache: dict[bytes, str] = {}

    def __call__(self, text: str) -> str:
        # (bytes.translate is several times faster than str.translate)
        key = text[:_MAX_KEY_CHARS].encode("utf-8", "surrogatepass").translate(_DIGITS)
        form = self._cache.get(key)
        if form is None:
            form = self._cache[key] = line_form(text)
        return form


@dataclass(slots=True)
class Signature:
    """One passing build's lines: a filter per step key."""

    steps: dict[str, LineFilter] = field(default_factory=dict)
    lines: int = 0  # lines read

    @property
    def size_bytes(self) -> int:
        return sum(len(f.bits) for f in self.steps.values())

    def shrink_to(self, max_bytes: int) -> None:
        """Fold the largest filters until the whole signature fits `max_bytes` (a build
        with hundreds of steps still fits one state document)."""
        while self.size_bytes > max_bytes:
            largest = max(self.steps.values(), key=lambda f: len(f.bits))
            if len(largest.bits) // 2 < MIN_STEP_BYTES:
                break
            largest.fold()

    def to_doc(self) -> list[dict[str, str | int]]:
        """JSON-safe, and storable in Firestore (no arrays in arrays; step keys are values,
        not field names): `{step, count, bits}` per step, bits in base64."""
        return [
            {"step": key, "count": f.count, "bits": f.encode()}
            for key, f in sorted(self.steps.items())
        ]

    @classmethod
    def from_doc(cls, doc: object) -> Signature:
        if not isinstance(doc, list):
            raise SignatureError("steps must be a list")
        steps: dict[str, LineFilter] = {}
        for item in doc:
            if not isinstance(item, dict):
                raise SignatureError("each step must be {step, count, bits}")
            key, count, bits = item.get("step"), item.get("count"), item.get("bits")
            if not (isinstance(key, str) and isinstance(count, int) and isinstance(bits, str)):
                raise SignatureError("each step must be {step, count, bits}")
            steps[key] = LineFilter.decode(bits, count)
        return cls(steps)


def signature_of(lines: Iterable[tuple[int | None, str]]) -> Signature:
    """The signature of a passing build's `(step, raw text)` lines."""
    forms = _Forms()
    by_step: dict[int | None, set[str]] = {}
    count = 0
    seen: set[str] = set()
    last: object = object()
    for step, text in lines:
        count += 1
        if step != last:  # steps come in runs: look the set up once per run
            seen = by_step.setdefault(step, set())
            last = step
        form = forms(text)
        if form:
            seen.add(form)
    steps: dict[str, LineFilter] = {}
    for step, found_forms in by_step.items():
        if not found_forms:
            continue
        found = LineFilter.sized_for(len(found_forms))
        for form in found_forms:
            found.add(form)
        steps[step_key(step)] = found
    return Signature(steps, count)


@dataclass(frozen=True, slots=True)
class Novelty:
    """How much of the failing step the passing builds never printed."""

    step: int | None
    lines: int  # lines of the step with text
    new: int  # of them, lines no remembered passing build printed in that step


class PassingLines:
    """What the remembered passing builds of a trigger printed, asked line by line."""

    def __init__(self, signatures: Sequence[Signature]) -> None:
        self._signatures = [s for s in signatures if s.steps]
        self._forms = _Forms()

    def __len__(self) -> int:
        """The passing builds compared (those with any lines)."""
        return len(self._signatures)

    def knows(self, step: int | None, text: str) -> bool:
        """Did a passing build print this raw line (masked) in the same step? A plain log
        (no steps) stands for every step."""
        form = self._forms(text)
        return bool(form) and self._knows_form(step, form)

    def _knows_form(self, step: int | None, form: str) -> bool:
        key = step_key(step)
        for sig in self._signatures:
            found = sig.steps.get(key)
            if found is None and key != WHOLE_LOG:
                found = sig.steps.get(WHOLE_LOG) if len(sig.steps) == 1 else None
            if found is not None and form in found:
                return True
        return False

    def novelty(self, step: int | None, lines: Iterable[str]) -> Novelty:
        """Of the step's lines with text, how many no remembered passing build printed."""
        total = new = 0
        for text in lines:
            form = self._forms(text)
            if form:
                total += 1
                new += not self._knows_form(step, form)
        return Novelty(step, total, new)


def signature_of_log(log: BuildLog) -> Signature:
    return signature_of((line.step, line.text) for line in log.lines)
