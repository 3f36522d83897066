"""User templates for the Slack text, the Google Chat card text and the Markdown report.

A template is a Jinja2 file, rendered in a sandbox with `StrictUndefined`. It is compiled and
test-rendered against sample reports (a full failure, a bare failure and a recovery) when the
sink is created, so a syntax error, a misspelt variable or a forbidden attribute fails at
start-up with the file and line, never when a build fails.

Every `{{ expression }}` is escaped for its target; the literal text of the template is not:

- ``slack`` (SLACK_TEMPLATE): Slack mrkdwn. `&`, `<`, `>` are escaped and `@channel`/`@here`
  defused. The output becomes the message's section blocks (split at 3000 characters).
- ``chat`` (GOOGLE_CHAT_TEMPLATE): the HTML subset of Google Chat cards (`<b>`, `<i>`,
  `<a href>`, `<br>`, `<font color>`); values are HTML-escaped. Use `<br>` for line breaks.
  The output becomes the card's body paragraph.
- ``markdown`` (GITHUB_TEMPLATE): GitHub Markdown; values are Markdown-escaped. The output is
  the pull request comment and the check run text.

Variables (strings are "" when unknown, never None):

  kind ("failure" | "recovery"), is_recovery, title, status, status_detail, trigger, build_id,
  project_id, repo, branch, tag, commit, short_sha, pr_number, log_url, commit_url, repo_url,
  branch_url, pr_url, failing_step (one-line summary), exit_code (int or None), category,
  cause (classification summary), hint, doc_url, history (e.g. "new failure" or "first seen
  in build ab12cd34 on 2026-11-20; 4th time in 7 days"), flaky, since_passing (e.g. "last
  passed in build ab12cd34 at commit 1a2b3c4, 2 builds ago; 3 of 40 lines of step #2 are new
  since the passing builds"), last_passing_build, compare_url, summary (the LLM explanation),
  root_cause, fix_steps (list), llm ("provider model"), key_lines (list of log lines, colours
  removed), excerpt (list of {number, text, key, step}), facts (list of [label, value] rows as
  the text report shows them), errors (list of "stage name: message"), fixed_failure (for a
  recovery: the failed build it fixes), report (the whole versioned JSON report as a dict).

Filters: ``link(url, text)`` makes a link in the target's syntax, ``code`` a code block of a
string or a list of lines; both are already escaped. Jinja's own filters (``truncate``,
``join``, ``default``...) and tests work as usual.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from analyzers.base import Finding, LineRange
from buildlens_core.build import BuildEvent, Step
from buildlens_core.errors import ConfigError
from buildlens_core.jsonlog import log
from notifier.render import _text
from notifier.render._facts import facts
from notifier.render.markdown import escape as markdown_escape
from notifier.render.markdown import fence
from notifier.report import ExcerptLine, History, Report

Target = Literal["slack", "chat", "markdown"]
TARGETS: tuple[Target, ...] = ("slack", "chat", "markdown")


def context(report: Report) -> dict[str, Any]:
    """The variables a template sees (documented in the module docstring)."""
    b = report.build
    step = report.failing_step
    exit_code = step.exit_code if step else None
    cause, hint, doc_url = _text.cause_line(report)
    summary, root_cause, fix_steps, llm = _text.explanation(report)
    repo_url, branch_url, pr_url = _text.repo_urls(report)
    history = report.history
    since = report.since_passing
    return {
        "kind": report.kind,
        "is_recovery": report.kind == "recovery",
        "title": report.title,
        "status": b.status,
        "status_detail": b.status_detail,
        "trigger": b.trigger_name,
        "build_id": b.id,
        "project_id": b.project_id,
        "repo": b.repo_full_name or b.repo_name,
        "branch": b.branch,
        "tag": b.tag,
        "commit": b.commit_sha,
        "short_sha": b.short_sha,
        "pr_number": b.pr_number,
        "log_url": b.log_url,
        "commit_url": report.commit_url,
        "repo_url": repo_url,
        "branch_url": branch_url,
        "pr_url": pr_url,
        "failing_step": _text.step_line(report),
        "exit_code": exit_code,
        "category": report.category,
        "cause": cause,
        "hint": hint,
        "doc_url": doc_url,
        "history": history.summary if history else "",
        "flaky": bool(history and history.flaky),
        "since_passing": since.summary if since else "",
        "last_passing_build": since.build if since else "",
        "compare_url": since.compare_url if since else "",
        "summary": summary,
        "root_cause": root_cause,
        "fix_steps": fix_steps,
        "llm": llm,
        "key_lines": [_text.clean(line.text) for line in _text.shown_lines(report)],
        "excerpt": [
            {"number": e.number, "text": _text.clean(e.text), "key": e.key, "step": e.step}
            for e in report.excerpt
        ],
        "facts": [[label, _text.clean(value)] for label, value in facts(report)],
        "errors": [f"{e.stage} {e.name}: {e.message}" for e in report.errors],
        "fixed_failure": report.fixed_failure,
        "report": report.to_json(),
    }


# -- per-target escaping ------------------------------------------------------------------


def _safe(text: str) -> Markup:
    """Mark filter output as final: every untrusted part in it is already escaped."""
    return Markup(text)  # noqa: S704 - callers build `text` from escaped parts only


def _lines(value: object) -> str:
    if isinstance(value, list | tuple):
        return "\n".join(str(v) for v in value)
    return str(value)


def _slack_code(value: object) -> Markup:
    return _safe("```\n" + _text.slack_code(_lines(value)) + "\n```")


def _chat_code(value: object) -> Markup:
    lines = _lines(value).split("\n")
    return _safe('<font color="#555555">' + "<br>".join(map(_text.html_escape, lines)) + "</font>")


def _markdown_link(url: object, text: object) -> Markup:
    return _safe(f"[{markdown_escape(str(text))}]({str(url).replace(')', '%29')})")


def _finalizer(escape: Callable[[str], str]) -> Callable[[object], object]:
    def finalize(value: object) -> object:
        if isinstance(value, Markup):
            return value
        return escape("" if value is None else str(value))

    return finalize


def _environment(target: Target, folder: Path) -> SandboxedEnvironment:
    loader = jinja2.FileSystemLoader(str(folder))
    common: dict[str, Any] = {
        "loader": loader,
        "undefined": jinja2.StrictUndefined,
        "keep_trailing_newline": True,
        "auto_reload": False,
    }
    if target == "chat":
        # autoescape guards literal-string expressions; finalize also defuses @mentions.
        env = SandboxedEnvironment(
            autoescape=True, finalize=_finalizer(lambda v: _safe(_text.html_escape(v))), **common
        )
        env.filters["link"] = lambda url, text: _safe(_text.html_link(str(url), str(text)))
        env.filters["code"] = _chat_code
    elif target == "slack":
        env = SandboxedEnvironment(
            autoescape=False, finalize=_finalizer(_text.slack_escape), **common
        )
        env.filters["link"] = lambda url, text: _safe(_text.slack_link(str(url), str(text)))
        env.filters["code"] = _slack_code
    else:
        env = SandboxedEnvironment(autoescape=False, finalize=_finalizer(markdown_escape), **common)
        env.filters["link"] = _markdown_link
        env.filters["code"] = lambda value: _safe(fence(_lines(value)))
    return env


# -- loading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportTemplate:
    path: Path
    target: Target
    template: jinja2.Template
    setting: str = ""  # the variable that named it, for messages

    def render(self, report: Report) -> str:
        """The rendered text; raises only if the template fails on this report."""
        return self.template.render(context(report)).strip()

    def render_or_none(self, report: Report) -> str | None:
        """The rendered text, or None (logged) when the template fails on this report: the
        renderer then falls back to its built-in layout, so the report still goes out."""
        try:
            return self.render(report)
        except Exception as exc:  # checked at start-up; never lose the report over it
            log(
                "WARNING",
                f"{self.setting} failed on this report, using the built-in layout: "
                f"{exc.__class__.__name__}",
                build_id=report.build.id,
            )
            return None


def load_optional(path: str, target: Target, setting: str) -> ReportTemplate | None:
    """The template at `path`, or None when the setting is empty (the built-in layout)."""
    return load(path, target, setting) if path else None


def load(path: str, target: Target, setting: str) -> ReportTemplate:
    """Compile and test-render the template at `path`; a `ConfigError` says what is wrong."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ConfigError(f"{setting}={path}: no such template file")
    env = _environment(target, file.parent)
    try:
        template = env.get_template(file.name)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"{setting}: template {file}, line {exc.lineno}: {exc.message} (fix the template "
            f"or unset {setting})"
        ) from None
    loaded = ReportTemplate(file, target, template, setting)
    for name, sample in sample_reports().items():
        try:
            loaded.render(sample)
        except Exception as exc:
            line = _template_line(exc, file)
            where = f", line {line}" if line else ""
            raise ConfigError(
                f"{setting}: template {file}{where} fails on a {name} report: "
                f"{exc.__class__.__name__}: {exc} (templates see the variables listed in "
                "notifier/render/templates.py; guard optional ones with `{% if %}`)"
            ) from None
    return loaded


def _template_line(exc: BaseException, file: Path) -> int | None:
    """Jinja rewrites tracebacks so template frames carry the template's file and line."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == file:
            line = frame.lineno
    return line


# -- sample reports for the start-up check -------------------------------------------------


def sample_reports() -> dict[str, Report]:
    when = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    subs = {
        "TRIGGER_NAME": "payments-api-main",
        "REPO_NAME": "payments-api",
        "REPO_FULL_NAME": "acme/payments-api",
        "BRANCH_NAME": "main",
        "COMMIT_SHA": "e2b9c1c3620264e5fea673c7f503a61c7e66b098",
        "SHORT_SHA": "e2b9c1c",
        "_PR_NUMBER": "42",
    }
    build = BuildEvent(
        id="f8014d9a-15cd-4667-ae1d-39392e23abd8",
        project_id="buildlens-demo",
        status="FAILURE",
        failure_type="USER_BUILD_STEP",
        failure_detail='build step 1 "python:3.11-slim" failed',
        steps=(
            Step(0, "install", "python:3.11-slim"),
            Step(1, "unit-tests", "python", exit_code=1),
        ),
        log_url="https://console.cloud.google.com/cloud-build/builds/f8014d9a?project=1",
        substitutions=subs,
        create_time=when,
        start_time=when,
        finish_time=when,
    )
    findings = (
        Finding(
            "failing_step",
            "failing_step",
            'step 1 "unit-tests" (python) exited with 1',
            data={
                "step_index": 1,
                "step_id": "unit-tests",
                "image": "python:3.11-slim",
                "args": ["-m", "pytest"],
                "exit_code": 1,
                "duration_s": 27.1,
            },
        ),
        Finding("key_lines", "key_lines", "1 key line", lines=(LineRange(3, 3),)),
        Finding(
            "classification",
            "classification",
            "test failure",
            data={
                "category": "test",
                "rule": "pytest",
                "hint": "run pytest locally",
                "doc_url": "https://docs.pytest.org/",
            },
        ),
        Finding("fingerprint", "fingerprint", "fp", data={"fingerprint": "ab12", "normalized": ""}),
        Finding(
            "explanation",
            "explanation",
            "The rounding mode changed.",
            data={
                "summary": "The rounding mode changed.",
                "root_cause": "ROUND_HALF_EVEN",
                "fix_steps": ["use ROUND_HALF_UP"],
                "confidence": 0.8,
                "provider": "openai",
                "model": "r1-distill",
            },
        ),
    )
    excerpt = (
        ExcerptLine(1, "collected 6 items", 1),
        ExcerptLine(2, "", 1),
        ExcerptLine(3, "E   AssertionError: assert Decimal('0.12') == Decimal('0.13')", 1, True),
    )
    history = History("ab12", 4, 4, "0badcafe-0000", "2026-11-18T09:00:00Z", flaky=True)
    full = Report(build, findings, excerpt, log_source="sample", log_lines=3, history=history)
    bare = Report(BuildEvent(id="0", project_id="", status="INTERNAL_ERROR"))
    passed = BuildEvent(
        id="9", project_id="buildlens-demo", status="SUCCESS", substitutions=subs, log_url=""
    )
    recovery = Report(passed, kind="recovery", fixed_failure=build.id)
    return {"full failure": full, "bare failure": bare, "recovery": recovery}
