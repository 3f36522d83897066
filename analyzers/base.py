"""The analyzer interface: what an analyzer sees and what it returns.

Finding kinds and the `data` each carries (a contract the report and sinks rely on):

- ``failing_step``: step_index, step_id, image, args, exit_code, duration_s, status
- ``key_lines``: `lines` are the few lines that explain the failure
- ``excerpt``: `lines` are the ranges shown to people and LLMs (key lines plus context)
- ``classification``: category, rule, hint, doc_url
- ``fingerprint``: fingerprint (stable hex digest), normalized (the masked text it hashes)
- ``explanation``: summary, root_cause, fix_steps, confidence, provider, model

What a later analyzer needs beyond that travels as a typed object on the context
(`ctx.put(result)`, `ctx.get(KeyLines)`), never as a finding's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar

from analyzers.results import FailedStep
from buildlens_core.build import BuildEvent
from buildlens_core.buildlog import BuildLog

if TYPE_CHECKING:
    from buildlens_core.settings import Settings
    from buildlens_core.state import StateStore

JSONScalar: TypeAlias = str | int | float | bool | None
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]


@dataclass(frozen=True, slots=True, order=True)
class LineRange:
    """Lines `start`..`end`, 1-based and inclusive."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 1 or self.end < self.start:
            raise ValueError(f"invalid line range {self.start}-{self.end}")

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and self.start <= number <= self.end

    @property
    def size(self) -> int:
        return self.end - self.start + 1


def merge_ranges(ranges: Iterable[LineRange], gap: int = 0) -> list[LineRange]:
    """Sort and merge overlapping ranges (and those at most `gap` lines apart)."""
    merged: list[LineRange] = []
    for r in sorted(ranges):
        if merged and r.start <= merged[-1].end + 1 + gap:
            last = merged[-1]
            merged[-1] = LineRange(last.start, max(last.end, r.end))
        else:
            merged.append(r)
    return merged


def ranges_from_numbers(numbers: Iterable[int]) -> list[LineRange]:
    return merge_ranges(LineRange(n, n) for n in numbers)


ResultT = TypeVar("ResultT")


@dataclass(frozen=True, slots=True)
class Finding:
    analyzer: str
    kind: str
    summary: str
    lines: tuple[LineRange, ...] = ()
    data: Mapping[str, JSONValue] = field(default_factory=dict)


@dataclass(slots=True)
class AnalysisContext:
    """What an analyzer sees: the build, its log and the findings of earlier analyzers."""

    build: BuildEvent
    log: BuildLog
    findings: list[Finding] = field(default_factory=list)
    state: StateStore | None = None  # for caches (e.g. LLM explanations by fingerprint)
    # Typed results analyzers share with later ones (`KeyLines`, ...), one per type: what the
    # next analyzer needs travels as the object itself, never through a finding's JSON data.
    results: dict[type, object] = field(default_factory=dict, init=False, repr=False)

    def first(self, kind: str) -> Finding | None:
        return next((f for f in self.findings if f.kind == kind), None)

    def put(self, result: object) -> None:
        """Share `result` with the analyzers that run later (it replaces one of its type)."""
        self.results[type(result)] = result

    def get(self, kind: type[ResultT]) -> ResultT | None:
        """The result of type `kind` an earlier analyzer shared, if any."""
        value = self.results.get(kind)
        return value if isinstance(value, kind) else None

    @property
    def failing_step_index(self) -> int | None:
        """The 0-based index of the failed step, as the failing_step analyzer found it."""
        step = self.get(FailedStep)
        return step.index if step else None


class Analyzer(Protocol):
    name: str

    def analyze(self, ctx: AnalysisContext) -> list[Finding]: ...


AnalyzerFactory: TypeAlias = Callable[["Settings"], Analyzer]
