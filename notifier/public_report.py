"""The public report: the one typed, versioned shape that leaves the process.

The JSON renderer, the webhook, Pub/Sub and Cloud Logging sinks and user templates all get
this model's JSON. It holds what a reader needs, as shown; analyzer-internal data (the key
lines' log text and candidates, normalised fingerprint text, token usage) stays inside.
`docs/report.schema.json` is generated from it (`python -m notifier.public_report`) and a
test keeps the two equal: change the model, bump `SCHEMA_VERSION`, regenerate the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from analyzers.base import Finding, JSONValue
    from notifier.report import Report

# 3: typed sections (classification, explanations, failing step) replace findings' free data.
# 4: since_passing (the last passing build, what changed, the failing step's new lines).
SCHEMA_VERSION: Literal["4"] = "4"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BuildInfo(_Model):
    id: str
    project_id: str
    status: str = Field(description="Cloud Build status: FAILURE, TIMEOUT, INTERNAL_ERROR, ...")
    status_detail: str
    failure_type: str = Field(description="failureInfo.type, e.g. USER_BUILD_STEP")
    failure_detail: str
    trigger_name: str
    trigger_id: str
    repo: str
    branch: str
    tag: str
    commit: str
    pr_number: str
    log_url: str
    commit_url: str
    create_time: str | None = Field(description="RFC 3339")
    finish_time: str | None = Field(description="RFC 3339")
    duration_s: float | None


class FailingStep(_Model):
    summary: str
    step_index: int | None = Field(None, description="0-based index of the failed build step")
    step_id: str = ""
    image: str = ""
    exit_code: int | None = None
    duration_s: float | None = None
    status: str = ""


class Classification(_Model):
    category: str = Field(description="one of the categories of analyzers/rules.toml")
    rule: str = Field(description="the id of the rule that matched; empty when unclassified")
    hint: str
    doc_url: str

    @property
    def label(self) -> str:
        """`category (rule)`, as reports show it."""
        return f"{self.category} ({self.rule})" if self.rule else self.category


class HistoryInfo(_Model):
    fingerprint: str
    count: int = Field(description="times this fingerprint failed, this build included")
    count_7d: int
    first_build: str
    first_seen: str = Field(description="RFC 3339")
    flaky: bool = Field(description="the same fingerprint also passed on the same commit")
    summary: str


class SincePassingInfo(_Model):
    build: str = Field(description="the trigger and branch's last passing build; empty: unknown")
    commit: str
    finished: str = Field(description="RFC 3339")
    log_url: str
    builds_since: int = Field(description="failed builds since it, this one included")
    compare_url: str = Field(description="the commits between; empty when the host is unknown")
    head_commit: str = Field(description="this build's commit")
    step: int | None = Field(description="the failing step the line counts are about")
    step_lines: int = Field(description="its lines with text")
    new_lines: int = Field(description="of them, lines no remembered passing build printed")
    compared: int = Field(description="remembered passing builds compared; 0: no counts")
    summary: str


class Explanation(_Model):
    analyzer: str
    provider: str
    model: str
    summary: str
    root_cause: str
    fix_steps: list[str]
    confidence: float | None
    cited_lines: list[int]
    reused: bool = Field(description="explained before for the same fingerprint")
    note: str


class FindingInfo(_Model):
    analyzer: str
    kind: str
    summary: str
    lines: list[tuple[int, int]] = Field(description="1-based inclusive log line ranges")


class ExcerptLine(_Model):
    line: int
    text: str = Field(description="as shown: terminal codes removed, secrets redacted")
    step: int | None
    key: bool


class LogCut(_Model):
    first_line: int
    last_line: int
    bytes: int


class LogInfo(_Model):
    source: str
    lines: int
    cut: LogCut | None = Field(description="lines dropped from the middle to bound memory")


class StageError(_Model):
    stage: str
    name: str
    message: str


class PublicReport(_Model):
    """A failed build (kind "failure") or a fixed one (kind "recovery")."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="buildlens report",
        json_schema_extra={"$id": "https://buildlens.dev/schemas/report-4.json"},
    )

    schema_version: Literal["4"]
    kind: Literal["failure", "recovery"]
    fixed_failure: str = Field(description="for a recovery: the build id of the failure fixed")
    title: str
    build: BuildInfo
    failing_step: FailingStep | None
    category: str = Field(description="classification.category, or empty")
    classification: Classification | None
    fingerprint: str = Field(description="stable id of this cause; empty when none")
    history: HistoryInfo | None
    since_passing: SincePassingInfo | None
    key_lines: list[tuple[int, int]] = Field(description="1-based inclusive log line ranges")
    explanations: list[Explanation]
    findings: list[FindingInfo] = Field(description="every analyzer's one-line result")
    excerpt: list[ExcerptLine]
    log: LogInfo
    errors: list[StageError] = Field(description="stages that failed; the report went anyway")
    notes: list[str]


def _str(data: Mapping[str, JSONValue], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _int(data: Mapping[str, JSONValue], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(data: Mapping[str, JSONValue], key: str) -> float | None:
    value = data.get(key)
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None  # type: ignore[arg-type]


def failing_step_section(found: Finding | None) -> FailingStep | None:
    """The `failing_step` finding as the public report types it."""
    if found is None:
        return None
    d = found.data
    return FailingStep(
        summary=found.summary,
        step_index=_int(d, "step_index"),
        step_id=_str(d, "step_id"),
        image=_str(d, "image"),
        exit_code=_int(d, "exit_code"),
        duration_s=_float(d, "duration_s"),
        status=_str(d, "status"),
    )


def classification_section(found: Finding | None) -> Classification | None:
    """The `classification` finding as the public report types it."""
    if found is None:
        return None
    d = found.data
    return Classification(
        category=_str(d, "category"),
        rule=_str(d, "rule"),
        hint=_str(d, "hint"),
        doc_url=_str(d, "doc_url"),
    )


def explanation_section(found: Finding) -> Explanation:
    """An `explanation` finding as the public report types it."""
    d = found.data
    steps = d.get("fix_steps")
    cited = d.get("cited_lines")
    return Explanation(
        analyzer=found.analyzer,
        provider=_str(d, "provider"),
        model=_str(d, "model"),
        summary=found.summary,
        root_cause=_str(d, "root_cause"),
        fix_steps=[s for s in steps if isinstance(s, str)] if isinstance(steps, list) else [],
        confidence=_float(d, "confidence"),
        cited_lines=[n for n in cited if isinstance(n, int)] if isinstance(cited, list) else [],
        reused=d.get("reused") is True,
        note=_str(d, "note"),
    )


def public_report(report: Report) -> PublicReport:
    """The report as it leaves the process. Its texts are the report's, which the pipeline
    has redacted (`notifier.report.redact_report`)."""
    b = report.build
    h = report.history
    cut = report.log_cut
    return PublicReport(
        schema_version=SCHEMA_VERSION,
        kind="recovery" if report.kind == "recovery" else "failure",
        fixed_failure=report.fixed_failure,
        title=report.title,
        build=BuildInfo(
            id=b.id,
            project_id=b.project_id,
            status=b.status,
            status_detail=b.status_detail,
            failure_type=b.failure_type,
            failure_detail=b.failure_detail,
            trigger_name=b.trigger_name,
            trigger_id=b.trigger_id,
            repo=b.repo_full_name or b.repo_name,
            branch=b.branch,
            tag=b.tag,
            commit=b.commit_sha,
            pr_number=b.pr_number,
            log_url=b.log_url,
            commit_url=report.commit_url,
            create_time=b.create_time.isoformat() if b.create_time else None,
            finish_time=b.finish_time.isoformat() if b.finish_time else None,
            duration_s=b.duration_s,
        ),
        failing_step=report.failing_step,
        category=report.category,
        classification=report.classification,
        fingerprint=report.fingerprint,
        history=None
        if h is None
        else HistoryInfo(
            fingerprint=h.fingerprint,
            count=h.count,
            count_7d=h.count_7d,
            first_build=h.first_build,
            first_seen=h.first_seen,
            flaky=h.flaky,
            summary=h.summary,
        ),
        since_passing=_since_passing(report),
        key_lines=[(r.start, r.end) for r in report.key_ranges],
        explanations=list(report.explanations),
        findings=[
            FindingInfo(
                analyzer=f.analyzer,
                kind=f.kind,
                summary=f.summary,
                lines=[(r.start, r.end) for r in f.lines],
            )
            for f in report.findings
        ],
        excerpt=[
            ExcerptLine(line=e.number, text=e.text, step=e.step, key=e.key) for e in report.excerpt
        ],
        log=LogInfo(
            source=report.log_source,
            lines=report.log_lines,
            cut=None
            if cut is None
            else LogCut(first_line=cut.first, last_line=cut.last, bytes=cut.bytes),
        ),
        errors=[StageError(stage=e.stage, name=e.name, message=e.message) for e in report.errors],
        notes=list(report.notes),
    )


def _since_passing(report: Report) -> SincePassingInfo | None:
    since = report.since_passing
    if since is None:
        return None
    return SincePassingInfo(
        build=since.build,
        commit=since.commit,
        finished=since.finished,
        log_url=since.log_url,
        builds_since=since.builds_since,
        compare_url=since.compare_url,
        head_commit=since.head_commit,
        step=since.step,
        step_lines=since.step_lines,
        new_lines=since.new_lines,
        compared=since.compared,
        summary=since.summary,
    )


def json_schema() -> str:
    """The committed `docs/report.schema.json`, byte for byte."""
    return json.dumps(PublicReport.model_json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(json_schema(), end="")
