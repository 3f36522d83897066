"""A report as GitHub Markdown (check run output, pull request comment) and a commit
status's one-line description, within GitHub's limits."""

from __future__ import annotations

import dataclasses

from notifier.render import _text
from notifier.render.markdown import render_markdown
from notifier.render.templates import ReportTemplate
from notifier.report import Report

DESCRIPTION_MAX = 140


def render_github_markdown(
    report: Report, limit: int, template: ReportTemplate | None = None
) -> str:
    """The report as GitHub Markdown within `limit` characters (check run text, comment)."""
    if report.kind == "recovery":
        b = report.build
        text = f"### ✅ {_text.clean(report.title)}\n\n"
        text += f"Build `{b.id}` passed"
        text += (
            f"; it fixes the failure of build `{report.fixed_failure}`."
            if report.fixed_failure
            else "."
        )
        return _text.clip(text, limit)
    custom = template.render_or_none(report) if template is not None else None
    if custom is not None:
        return _text.clip(custom, limit)
    return fit_markdown(report, limit)


def description(report: Report, limit: int = DESCRIPTION_MAX) -> str:
    """One line: the failing step, the cause and the history, cut to `limit`."""
    if report.kind == "recovery":
        return _text.clip(f"fixed by {report.build.short_sha}".strip(), limit)
    parts = [_text.step_line(report) or _text.clean(report.title)]
    if report.category:
        parts.append(report.category)
    if report.history is not None and report.history.count > 1:
        parts.append(report.history.summary.split("; ")[-1])
    return _text.clip(" · ".join(parts), limit)


def fit_markdown(report: Report, limit: int) -> str:
    """The Markdown report within `limit` characters: long lines are cut first, then the
    excerpt shrinks to its key lines, then the text is cut."""
    clean = dataclasses.replace(
        report,
        excerpt=tuple(dataclasses.replace(e, text=_text.clean(e.text)) for e in report.excerpt),
    )
    text = render_markdown(clean)
    if len(text) <= limit:
        return text
    short = dataclasses.replace(
        clean,
        excerpt=tuple(dataclasses.replace(e, text=_text.clip(e.text, 500)) for e in clean.excerpt),
    )
    text = render_markdown(short)
    if len(text) <= limit:
        return text
    key_only = dataclasses.replace(short, excerpt=tuple(e for e in short.excerpt if e.key)[-50:])
    text = render_markdown(key_only)
    if len(text) <= limit:
        return text
    return _text.clip(render_markdown(dataclasses.replace(short, excerpt=())), limit)
