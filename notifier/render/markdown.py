"""Markdown, for GitHub comments and anything else that renders it. Log text is escaped."""

from __future__ import annotations

import re

from notifier.render._facts import facts, log_note
from notifier.report import Report

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~@])")


def escape(text: str) -> str:
    """Escape Markdown so log or LLM text cannot add links, mentions or formatting."""
    return _SPECIAL.sub(r"\\\1", text)


def fence(text: str) -> str:
    """A code block whose fence is longer than any backtick run inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def render_markdown(report: Report) -> str:
    b = report.build
    out = [f"### ❌ {escape(report.title)}", ""]
    out += ["| | |", "|---|---|"]
    for label, value in facts(report):
        if label == "commit" and report.commit_url:
            out.append(f"| {label} | [`{escape(b.short_sha)}`]({report.commit_url}) |")
        else:
            out.append(f"| {label} | {escape(value)} |")
    if b.log_url:
        out.append(f"| log | [build log]({b.log_url}) |")
    if report.excerpt:
        body = []
        previous = None
        for line in report.excerpt:
            if previous is not None and line.number != previous + 1:
                body.append("...")
            mark = ">" if line.key else " "
            body.append(f"{mark} {line.number:>5} | {line.text}")
            previous = line.number
        out += ["", f"<details open><summary>Excerpt ({escape(log_note(report))})</summary>", ""]
        out += [fence("\n".join(body)), "", "</details>"]
    for note in report.notes:
        out.append(f"\n_{escape(note)}_")
    if report.errors:
        out.append("")
        out += [
            f"- ⚠️ {escape(e.stage)} `{e.name}` failed: {escape(e.message)}" for e in report.errors
        ]
    return "\n".join(out) + "\n"
