"""The labelled facts every human-readable renderer shows, in one order."""

from __future__ import annotations

from notifier.render._text import since_passing
from notifier.report import Report


def facts(report: Report) -> list[tuple[str, str]]:
    b = report.build
    rows: list[tuple[str, str]] = [
        ("status", b.status + (f" ({b.status_detail})" if b.status_detail else ""))
    ]
    if b.trigger_name:
        rows.append(("trigger", b.trigger_name))
    repo = b.repo_full_name or b.repo_name
    if repo:
        ref = b.branch or b.tag
        rows.append(("repo", f"{repo} @ {ref}" if ref else repo))
    if b.commit_sha:
        rows.append(("commit", b.short_sha))
    if b.pr_number:
        rows.append(("pull request", f"#{b.pr_number}"))
    step = report.failing_step
    if step is not None:
        rows.append(("failing step", step.summary))
    if b.failure_type and (step is None or b.failure_type != "USER_BUILD_STEP"):
        rows.append(("failure", f"{b.failure_type}: {b.failure_detail}".rstrip(": ")))
    classification = report.classification
    if classification is not None:
        hint = classification.hint
        rows.append(("cause", classification.label + (f" - {hint}" if hint else "")))
    if report.history is not None:
        rows.append(("history", report.history.summary))
    since, links = since_passing(report)
    if since:
        rows.append(("since passing", since))
        rows += [("changes", url) for url, label in links if label == "changes"]
    if report.explanations:
        explanation = report.explanations[0]
        note = explanation.note
        rows.append(("summary", explanation.summary + (f" ({note})" if note else "")))
    rows.append(("build", b.id))
    return rows


def log_note(report: Report) -> str:
    note = f"{report.log_lines} log lines from {report.log_source or 'no log source'}"
    if report.log_cut is not None:
        c = report.log_cut
        note += f"; lines {c.first}-{c.last} ({c.bytes} bytes) were cut to bound memory"
    return note
