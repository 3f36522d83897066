"""The analyzers through the notifier's interface: a Build, its BuildLog, findings in order."""

from __future__ import annotations

from typing import Any

from analyzers import ANALYZERS, AnalysisContext
from buildlens_core.build import BuildEvent, Step
from buildlens_core.buildlog import build_log_from_bytes
from buildlens_core.settings import load_settings
from tests.analyzers import snippets
from tests.analyzers.helpers import cloudbuild_log


def _context() -> tuple[AnalysisContext, Any]:
    text, where = cloudbuild_log(snippets.PYTEST, step=1, step_id="test")
    log = build_log_from_bytes([text.encode()], max_bytes=1 << 20)
    build = BuildEvent(
        id="b1",
        project_id="p",
        status="FAILURE",
        steps=(
            Step(index=0, id="s0", name="python:3.12", status="SUCCESS"),
            Step(index=1, id="test", name="python:3.12", args=("pytest",), status="FAILURE"),
        ),
    )
    return AnalysisContext(build, log), where


def test_registered_names() -> None:
    assert {"failing_step", "tail", "key_lines", "excerpt", "classify", "fingerprint"} <= set(
        ANALYZERS
    )


def test_pipeline_findings_follow_the_contract() -> None:
    ctx, where = _context()
    settings = load_settings()
    for name in ("failing_step", "key_lines", "excerpt", "classify", "fingerprint"):
        analyzer = ANALYZERS[name](settings)
        ctx.findings.extend(analyzer.analyze(ctx))
    kinds = [f.kind for f in ctx.findings]
    assert kinds == ["failing_step", "key_lines", "excerpt", "classification", "fingerprint"]
    key = ctx.first("key_lines")
    assert key is not None and key.lines[0].start >= where.start - 2
    excerpt = ctx.first("excerpt")
    assert excerpt is not None and sum(r.size for r in excerpt.lines) <= 150
    verdict = ctx.first("classification")
    assert verdict is not None
    assert set(verdict.data) == {"category", "rule", "hint", "doc_url"}
    assert verdict.data["category"] == "test_failure"
    fp = ctx.first("fingerprint")
    assert fp is not None and set(fp.data) == {"fingerprint", "normalized"}


def test_analyzers_work_without_key_lines_first() -> None:
    ctx, _ = _context()
    settings = load_settings()
    for name in ("excerpt", "classify", "fingerprint"):
        assert ANALYZERS[name](settings).analyze(ctx), name
