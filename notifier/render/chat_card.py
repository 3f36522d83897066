"""A report as a Google Chat card (cardsV2), with the same content as the Slack message.

Limits (Chat API reference): a message, cards included, is at most 32,000 bytes; a card at
most 32 KB and 100 widgets (more are dropped). Card text is a small HTML subset (`<b>`, `<i>`,
`<a href>`, `<br>`, `<font color>`), so all report text is HTML-escaped. A message that is too
large is rebuilt with every text's share halved (`budget`) until it fits.
"""

from __future__ import annotations

import json
from typing import Any

from notifier.render import _text
from notifier.render._facts import log_note
from notifier.render._text import clip, html_escape, html_link
from notifier.render.templates import ReportTemplate
from notifier.report import Report

MESSAGE_MAX_BYTES = 32000
WIDGETS_MAX = 100
TITLE_MAX = 200  # not a documented limit: longer titles are cut off on screen anyway
FALLBACK_MAX = 1000  # the notification text: the title
URL_MAX = 1000  # longer URLs (never from Cloud Build or GitHub) get no link or button
_BUDGET_BYTES = 30000  # headroom below the message limit for JSON escaping surprises
_FULL_BUDGET = 8000  # characters of log lines in the first try; halved until it fits

_ICON = {"FAILURE": "❌", "TIMEOUT": "⏱️", "INTERNAL_ERROR": "⚠️"}


def render_chat_card(
    report: Report, *, key_lines: int = 30, template: ReportTemplate | None = None
) -> dict[str, Any]:
    """The webhook payload, rebuilt with every text's share halved until it fits."""
    budget = _FULL_BUDGET
    while True:
        message = _message(report, key_lines, template, budget)
        size = len(json.dumps(message, ensure_ascii=False).encode())
        if size <= _BUDGET_BYTES or budget < 100:
            return message
        budget //= 2


def _message(
    report: Report, key_lines: int, template: ReportTemplate | None, budget: int
) -> dict[str, Any]:
    b = report.build
    icon = "✅" if report.kind == "recovery" else _ICON.get(b.status, "❌")
    header: dict[str, Any] = {"title": clip(_text.clean(f"{icon} {report.title}"), TITLE_MAX)}
    subtitle = " · ".join(
        x for x in (b.repo_full_name or b.repo_name, b.branch or b.tag, b.short_sha) if x
    )
    if subtitle:
        header["subtitle"] = clip(_text.clean(subtitle), TITLE_MAX)
    if report.kind == "recovery":
        sections = _recovery_sections(report, budget)
    else:
        body = _templated(report, template, budget)
        sections = body if body is not None else _failure_sections(report, key_lines, budget)
    buttons = _buttons(report)
    if buttons:
        sections.append({"widgets": [{"buttonList": {"buttons": buttons}}]})
    sections = _cap_widgets(sections, WIDGETS_MAX)
    card = {"header": header, "sections": sections}
    return {
        "fallbackText": clip(_text.clean(report.title), FALLBACK_MAX),
        "cardsV2": [{"cardId": f"buildlens-{b.id}"[:64], "card": card}],
    }


def _templated(
    report: Report, template: ReportTemplate | None, budget: int
) -> list[dict[str, Any]] | None:
    text = template.render_or_none(report) if template is not None else None
    if text is None:
        return None
    # Cutting HTML could leave a tag open; Chat shows the text plain in that case.
    return [{"widgets": [_paragraph(_text.clip_markup(text, budget * 2))]}]


# -- sections -----------------------------------------------------------------------------


def _paragraph(html: str) -> dict[str, Any]:
    return {"textParagraph": {"text": html}}


def _fact(label: str, html: str) -> dict[str, Any]:
    return {"decoratedText": {"topLabel": label, "text": html, "wrapText": True}}


def _scaled(limit: int, budget: int) -> int:
    """`limit` at the full budget; it shrinks with the budget, so every part of a message
    that is too large does, not only the log lines."""
    return max(20, limit * budget // _FULL_BUDGET)


def _shown(text: str, budget: int, limit: int = 300) -> str:
    """Report text as card HTML: clipped to the (scaled) limit, then escaped."""
    return html_escape(clip(text, _scaled(limit, budget)))


def _link(url: str, text: str, budget: int) -> str:
    """A link to `url` showing `text`, or only the text when there is no URL or it is too
    long for the budget."""
    if url and len(url) <= _scaled(URL_MAX, budget):
        return html_link(url, clip(text, _scaled(300, budget)))
    return _shown(text, budget)


def _failure_sections(report: Report, key_lines: int, budget: int) -> list[dict[str, Any]]:
    b = report.build
    repo_url, branch_url, pr_url = _text.repo_urls(report)
    facts: list[dict[str, Any]] = []
    if b.trigger_name:
        facts.append(_fact("Trigger", _shown(b.trigger_name, budget)))
    repo = b.repo_full_name or b.repo_name
    if repo:
        facts.append(_fact("Repository", _link(repo_url, repo, budget)))
    ref = b.branch or b.tag
    if ref:
        facts.append(_fact("Branch", _link(branch_url, ref, budget)))
    if b.commit_sha:
        facts.append(_fact("Commit", _link(report.commit_url, b.short_sha, budget)))
    if b.pr_number:
        facts.append(_fact("Pull request", _link(pr_url, f"#{b.pr_number}", budget)))
    status = b.status + (f" ({b.status_detail})" if b.status_detail else "")
    facts.append(_fact("Status", _shown(_text.clean(status), budget)))
    sections: list[dict[str, Any]] = [{"widgets": facts}]

    step = _text.step_line(report)
    if step:
        sections.append(_titled("Failing step", _shown(step, budget, 1000)))
    elif b.failure_type:
        failure = _text.clean(f"{b.failure_type}: {b.failure_detail}".rstrip(": "))
        sections.append(_titled("Failure", _shown(failure, budget, 1000)))
    cause, hint, doc_url = _text.cause_line(report)
    if cause:
        text = f"<b>{_shown(cause, budget)}</b>"
        if hint:
            text += f" — {_shown(hint, budget, 700)}"
        if doc_url and len(doc_url) <= _scaled(URL_MAX, budget):
            text += f" ({html_link(doc_url, 'docs')})"
        sections.append(_titled("Cause", text))
    if report.history is not None:
        sections.append(_titled("History", html_escape(report.history.summary)))
    since, links = _text.since_passing(report)
    if since:
        text = html_escape(clip(since, budget // 4))
        shown = [
            html_link(url, label) for url, label in links if len(url) <= _scaled(URL_MAX, budget)
        ]
        if shown:
            text += " (" + ", ".join(shown) + ")"
        sections.append(_titled("Since the last pass", text))
    summary, root, fixes, by = _text.explanation(report)
    if summary:
        text = html_escape(clip(summary, budget // 4))
        if root:
            text += f"<br><b>Root cause:</b> {html_escape(clip(root, budget // 8))}"
        for fix in fixes[:10]:
            text += f"<br>• {_shown(fix, budget)}"
        sections.append(_titled("Summary" + (f" ({clip(by, 60)})" if by else ""), text))
    lines = [_text.clean(line.text) for line in _text.shown_lines(report)][-key_lines:]
    if lines:
        escaped = _text.fit_lines([html_escape(clip(line, 300)) for line in lines], budget, budget)
        sections.append(
            {
                "header": "Key lines",
                "widgets": [
                    _paragraph('<font color="#444444">' + "<br>".join(escaped) + "</font>")
                ],
            }
        )
    notes = [log_note(report)] + [f"{e.stage} {e.name} failed: {e.message}" for e in report.errors]
    sections.append(
        {
            "widgets": [
                _paragraph(
                    '<font color="#80868b">'
                    + "<br>".join(_shown(_text.clean(n), budget) for n in notes[:10])
                    + "</font>"
                )
            ]
        }
    )
    return sections


def _titled(title: str, html: str) -> dict[str, Any]:
    return {"header": html_escape(title), "widgets": [_paragraph(html)]}


def _recovery_sections(report: Report, budget: int) -> list[dict[str, Any]]:
    b = report.build
    text = f"{_shown(b.trigger_name or b.repo_full_name or 'The build', budget)} passes again"
    if b.commit_sha:
        text += f", fixed by commit {_link(report.commit_url, b.short_sha, budget)}"
    if b.branch:
        text += f" on <b>{_shown(b.branch, budget)}</b>"
    if report.fixed_failure:
        text += f" (the failure of build {html_escape(report.fixed_failure[:8])})"
    return [{"widgets": [_paragraph(text + ".")]}]


def _buttons(report: Report) -> list[dict[str, Any]]:
    buttons = []
    url = report.build.log_url
    if url.startswith(("https://", "http://")) and len(url) <= URL_MAX:
        buttons.append(_button("View build log", url))
    if report.commit_url and len(report.commit_url) <= URL_MAX:
        buttons.append(_button("View commit", report.commit_url))
    return buttons


def _button(text: str, url: str) -> dict[str, Any]:
    return {"text": text, "onClick": {"openLink": {"url": url}}}


def _cap_widgets(sections: list[dict[str, Any]], most: int) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    left = most
    for section in sections:
        widgets = section["widgets"][:left]
        if not widgets:
            break
        kept.append({**section, "widgets": widgets})
        left -= len(widgets)
    return kept
