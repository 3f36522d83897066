"""The failure report: what every renderer and sink works from."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analyzers.base import Finding, JSONValue, LineRange, merge_ranges
from analyzers.excerpt import MAX_LINES as MAX_EXCERPT_LINES
from buildlens_core.build import BuildEvent
from buildlens_core.buildlog import BuildLog, LogCut, LogLine
from buildlens_core.noise import strip_ansi
from buildlens_core.redact import Redactor
from notifier.public_report import (
    Classification,
    Explanation,
    FailingStep,
    classification_section,
    explanation_section,
    failing_step_section,
    public_report,
)
from notifier.repo_links import repo_web

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class ExcerptLine:
    number: int
    text: str
    step: int | None
    key: bool = False


@dataclass(frozen=True, slots=True)
class StageError:
    """An analyzer, sink or log source that failed; the report goes out regardless."""

    stage: str
    name: str
    message: str


@dataclass(frozen=True, slots=True)
class History:
    """What the state store remembers of this failure's fingerprint."""

    fingerprint: str
    count: int  # times seen, this build included
    count_7d: int
    first_build: str
    first_seen: str  # RFC 3339
    flaky: bool = False  # the same fingerprint also passed on the same commit

    @property
    def summary(self) -> str:
        if self.count <= 1:
            return "new failure"
        text = (
            f"first seen in build {self.first_build[:8]} on {self.first_seen[:10]}; "
            f"{_ordinal(self.count_7d)} time in 7 days"
        )
        return text + ("; likely flaky (passed on the same commit)" if self.flaky else "")


@dataclass(frozen=True, slots=True)
class SincePassing:
    """The last passing build of this trigger and branch, and what changed since."""

    build: str
    commit: str
    finished: str  # RFC 3339
    log_url: str
    builds_since: int  # failed builds of the trigger and branch since, this one included
    compare_url: str = ""  # the commits between, where the repository's host is known
    head_commit: str = ""  # this build's commit (named beside the passing one without a link)
    step: int | None = None  # the failing step the line counts are about
    step_lines: int = 0  # its lines with text (0: no passing build's lines were compared)
    new_lines: int = 0  # of them, lines no remembered passing build printed in that step
    compared: int = 0  # remembered passing builds compared

    @property
    def summary(self) -> str:
        parts = []
        if self.build:
            ago = (
                "the build before" if self.builds_since <= 1 else f"{self.builds_since} builds ago"
            )
            commit = f" at commit {self.commit[:7]}" if self.commit else ""
            parts.append(f"last passed in build {self.build[:8]}{commit}, {ago}")
            if not self.compare_url and self.commit and self.head_commit not in ("", self.commit):
                # No compare page (Cloud Source Repositories, an unknown host): the two commits.
                parts.append(f"changes in commits {self.commit[:7]}..{self.head_commit[:7]}")
        if self.compared:
            where = f"step #{self.step}" if self.step is not None else "the log"
            builds = "build" if self.compared == 1 else f"{self.compared} builds"
            parts.append(
                f"{self.new_lines} of {self.step_lines} lines of {where} are new since the "
                f"passing {builds}"
            )
        return "; ".join(parts)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True, slots=True)
class Report:
    build: BuildEvent
    findings: tuple[Finding, ...] = ()
    excerpt: tuple[ExcerptLine, ...] = ()
    errors: tuple[StageError, ...] = ()
    log_source: str = ""
    log_lines: int = 0
    log_cut: LogCut | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    kind: str = "failure"  # or "recovery": a build that passed after a reported failure
    history: History | None = None
    since_passing: SincePassing | None = None
    fixed_failure: str = ""  # for recovery: the build id of the failure it fixes

    def finding(self, kind: str) -> Finding | None:
        return next((f for f in self.findings if f.kind == kind), None)

    @property
    def title(self) -> str:
        b = self.build
        what = {
            "FAILURE": "failed",
            "TIMEOUT": "timed out",
            "INTERNAL_ERROR": "hit an internal error",
        }
        subject = b.trigger_name or b.repo_full_name or b.repo_name or f"build {b.id[:8]}"
        if self.kind == "recovery":
            return f"{subject} is fixed" + (f" by commit {b.short_sha}" if b.commit_sha else "")
        return f"{subject} {what.get(b.status, b.status.lower())}"

    @property
    def failing_step(self) -> FailingStep | None:
        return failing_step_section(self.finding("failing_step"))

    @property
    def classification(self) -> Classification | None:
        return classification_section(self.finding("classification"))

    @property
    def explanations(self) -> tuple[Explanation, ...]:
        return tuple(explanation_section(f) for f in self.findings if f.kind == "explanation")

    @property
    def key_ranges(self) -> tuple[LineRange, ...]:
        found = self.finding("key_lines")
        return found.lines if found else ()

    @property
    def category(self) -> str:
        found = self.classification
        return found.category if found else ""

    @property
    def fingerprint(self) -> str:
        found = self.finding("fingerprint")
        value = found.data.get("fingerprint") if found else None
        return value if isinstance(value, str) else ""

    @property
    def commit_url(self) -> str:
        web = repo_web(self.build)
        return web.commit(self.build.commit_sha) if web else ""

    def to_json(self) -> dict[str, Any]:
        """The versioned public JSON report (`docs/report.schema.json`)."""
        return public_report(self).model_dump(mode="json")


def excerpt_lines(
    log: BuildLog, findings: Sequence[Finding], redactor: Redactor | None = None
) -> tuple[ExcerptLine, ...]:
    """The excerpt's lines: the `excerpt` finding's ranges, else the key lines, capped.

    Their text is what people see: terminal codes removed and secrets redacted (logs are
    full of them), so no renderer or sink can leak what the log printed.
    """
    key = [r for f in findings if f.kind == "key_lines" for r in f.lines]
    shown = [r for f in findings if f.kind == "excerpt" for r in f.lines] or key
    picked = [line for r in merge_ranges(shown) for line in log.between(r.start, r.end)]
    if len(picked) > MAX_EXCERPT_LINES:
        # Keep the key lines first, then the lines nearest the end of the log.
        def rank(line: LogLine) -> tuple[bool, int]:
            return (not any(line.number in k for k in key), -line.number)

        picked = sorted(sorted(picked, key=rank)[:MAX_EXCERPT_LINES], key=lambda x: x.number)
    texts = (redactor or Redactor()).redact_lines([display_text(line.text) for line in picked])
    return tuple(
        ExcerptLine(line.number, text, line.step, any(line.number in k for k in key))
        for line, text in zip(picked, texts, strict=True)
    )


def display_text(text: str) -> str:
    """A log line as shown to people: no terminal colours or control characters."""
    return _CONTROL.sub("", strip_ansi(text))


def redact_report(report: Report, redactor: Redactor) -> Report:
    """The report as every renderer and sink gets it: each text it carries redacted (the
    excerpt is redacted as it is cut, in `excerpt_lines`)."""

    def clean(value: JSONValue) -> JSONValue:
        if isinstance(value, str):
            return redactor.redact(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    b = report.build
    build = dataclasses.replace(
        b,
        status_detail=redactor.redact(b.status_detail),
        failure_detail=redactor.redact(b.failure_detail),
        substitutions={k: redactor.redact(v) for k, v in b.substitutions.items()},
    )
    findings = tuple(
        dataclasses.replace(
            f, summary=redactor.redact(f.summary), data={k: clean(v) for k, v in f.data.items()}
        )
        for f in report.findings
    )
    errors = tuple(
        dataclasses.replace(e, message=redactor.redact(e.message)) for e in report.errors
    )
    notes = tuple(redactor.redact(n) for n in report.notes)
    return dataclasses.replace(report, build=build, findings=findings, errors=errors, notes=notes)
