"""A report as a Slack Block Kit message, kept inside Slack's documented limits.

Limits (Block Kit reference): at most 50 blocks; header text 150 characters; section text
3000; at most 10 section fields of 2000 each; button text 75 and URL 3000; context at most
10 elements. Slack also refuses a message whose blocks hold much more than ~12000 characters
in all (`msg_blocks_too_long`), so each part has a budget below that.
"""

from __future__ import annotations

from typing import Any

from notifier.render import _text
from notifier.render._facts import log_note
from notifier.render._text import clip, clip_markup, slack_escape, slack_link
from notifier.render.templates import ReportTemplate
from notifier.report import Report

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
BLOCKS_MAX = 50
BUTTON_TEXT_MAX = 75
BUTTON_URL_MAX = 3000
CONTEXT_ELEMENTS_MAX = 10
TEXT_MAX = 4000  # the notification fallback; Slack truncates long text anyway
TOTAL_BUDGET = 12000

_ICON = {"FAILURE": "❌", "TIMEOUT": "⏱️", "INTERNAL_ERROR": "⚠️"}


def render_blockkit(
    report: Report, *, key_lines: int = 20, template: ReportTemplate | None = None
) -> dict[str, Any]:
    """The webhook payload: header, body (the template's, else the built-in layout),
    buttons, and the notification text."""
    blocks = [_header(report)]
    if report.kind == "recovery":
        blocks += _recovery_body(report)
    else:
        body = _templated(report, template)
        blocks += body if body is not None else _failure_body(report, key_lines)
    actions = _actions(report)
    if actions:
        blocks.append(actions)
    return {
        "text": clip_markup(_fallback(report), TEXT_MAX),
        "blocks": blocks[:BLOCKS_MAX],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _templated(report: Report, template: ReportTemplate | None) -> list[dict[str, Any]] | None:
    text = template.render_or_none(report) if template is not None else None
    if text is None:
        return None
    # Three full sections leave room for the header and buttons in the total budget.
    chunks = _split(text, SECTION_MAX, TOTAL_BUDGET // SECTION_MAX - 1)
    return [_mrkdwn(chunk) for chunk in chunks if chunk.strip()]


# -- blocks -------------------------------------------------------------------------------


def _header(report: Report) -> dict[str, Any]:
    icon = "✅" if report.kind == "recovery" else _ICON.get(report.build.status, "❌")
    text = clip(_text.clean(f"{icon} {report.title}"), HEADER_MAX)
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_markup(text, SECTION_MAX)}}


def _fields(report: Report) -> dict[str, Any] | None:
    b = report.build
    repo_url, branch_url, pr_url = _text.repo_urls(report)
    pairs: list[tuple[str, str]] = []
    if b.trigger_name:
        pairs.append(("Trigger", slack_escape(b.trigger_name)))
    repo = b.repo_full_name or b.repo_name
    if repo:
        pairs.append(("Repo", slack_link(repo_url, repo) if repo_url else slack_escape(repo)))
    ref = b.branch or b.tag
    if ref:
        pairs.append(("Branch", slack_link(branch_url, ref) if branch_url else slack_escape(ref)))
    if b.commit_sha:
        short = f"`{slack_escape(b.short_sha)}`"
        pairs.append(
            ("Commit", slack_link(report.commit_url, b.short_sha) if report.commit_url else short)
        )
    if b.pr_number:
        text = f"#{b.pr_number}"
        pairs.append(("Pull request", slack_link(pr_url, text) if pr_url else slack_escape(text)))
    status = b.status + (f" ({b.status_detail})" if b.status_detail else "")
    pairs.append(("Status", slack_escape(_text.clean(status))))
    if b.duration_s is not None:
        pairs.append(("Duration", f"{b.duration_s:.0f} s"))
    fields = [
        {"type": "mrkdwn", "text": clip_markup(f"*{label}*\n{value}", 200)}
        for label, value in pairs[:FIELDS_MAX]
    ]
    return {"type": "section", "fields": fields} if fields else None


def _failure_body(report: Report, key_lines: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    fields = _fields(report)
    if fields:
        blocks.append(fields)
    b = report.build
    step = _text.step_line(report)
    if step:
        blocks.append(_mrkdwn(clip_markup(f"*Failing step*\n{slack_escape(step)}", 1000)))
    elif b.failure_type:
        failure = _text.clean(f"{b.failure_type}: {b.failure_detail}".rstrip(": "))
        blocks.append(_mrkdwn(clip_markup(f"*Failure*\n{slack_escape(failure)}", 1000)))
    cause, hint, doc_url = _text.cause_line(report)
    if cause:
        text = f"*Cause*\n{slack_escape(cause)}"
        if hint:
            text += f" — {slack_escape(hint)}"
        if doc_url:
            text += f" ({slack_link(doc_url, 'docs')})"
        blocks.append(_mrkdwn(clip_markup(text, 1000)))
    if report.history is not None:
        blocks.append(
            _mrkdwn(clip_markup(f"*History*\n{slack_escape(report.history.summary)}", 500))
        )
    since, links = _text.since_passing(report)
    if since:
        text = f"*Since the last pass*\n{slack_escape(since)}"
        if links:
            text += " (" + ", ".join(slack_link(url, label) for url, label in links) + ")"
        blocks.append(_mrkdwn(clip_markup(text, 1000)))
    summary, root, fixes, by = _text.explanation(report)
    if summary:
        text = f"*Summary*{f' _({slack_escape(by)})_' if by else ''}\n{slack_escape(summary)}"
        if root:
            text += f"\n*Root cause:* {slack_escape(root)}"
        if fixes:
            text += "\n" + "\n".join(f"• {slack_escape(step)}" for step in fixes[:10])
        blocks.append(_mrkdwn(clip_markup(text, 2500)))
    lines = [_text.clean(line.text) for line in _text.shown_lines(report)][-key_lines:]
    if lines:
        blocks.append(_mrkdwn(_code_block("*Key lines*", lines, SECTION_MAX)))
    context = [log_note(report)] + [
        f"{e.stage} {e.name} failed: {e.message}" for e in report.errors
    ]
    elements = [
        {"type": "mrkdwn", "text": clip_markup(slack_escape(_text.clean(c)), 300)}
        for c in context[:CONTEXT_ELEMENTS_MAX]
    ]
    blocks.append({"type": "context", "elements": elements})
    return blocks


def _code_block(label: str, lines: list[str], limit: int) -> str:
    """`label`, then the lines in a code block, the whole at most `limit` characters."""
    # Clip before escaping, so no cut lands inside an entity like `&amp;`.
    escaped = [_text.slack_code(clip(line, 300)) for line in lines]
    overhead = len(label) + len("\n```\n\n```")
    kept = _text.fit_lines(escaped, limit - overhead, limit)
    return label + "\n```\n" + "\n".join(kept) + "\n```"


def _recovery_body(report: Report) -> list[dict[str, Any]]:
    b = report.build
    where = slack_escape(b.trigger_name or b.repo_full_name or "the build")
    text = f"{where} passes again"
    if b.commit_sha:
        commit = (
            slack_link(report.commit_url, b.short_sha)
            if report.commit_url
            else f"`{slack_escape(b.short_sha)}`"
        )
        text += f", fixed by commit {commit}"
    if b.branch:
        text += f" on `{slack_escape(b.branch)}`"
    if report.fixed_failure:
        text += f" (the failure of build `{slack_escape(report.fixed_failure[:8])}`)"
    return [_mrkdwn(clip_markup(text + ".", SECTION_MAX))]


def _actions(report: Report) -> dict[str, Any] | None:
    buttons = []
    url = report.build.log_url
    if url.startswith(("https://", "http://")) and len(url) <= BUTTON_URL_MAX:
        buttons.append(_button("View build log", url, "build_log", primary=True))
    if report.commit_url and len(report.commit_url) <= BUTTON_URL_MAX:
        buttons.append(_button("View commit", report.commit_url, "commit"))
    return {"type": "actions", "elements": buttons} if buttons else None


def _button(text: str, url: str, action: str, *, primary: bool = False) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT_MAX)},
        "url": url,
        "action_id": f"buildlens_{action}",
    }
    if primary:
        button["style"] = "primary"
    return button


def _fallback(report: Report) -> str:
    """The notification text (and what clients without blocks show)."""
    text = slack_escape(_text.clean(report.title))
    if report.kind == "failure":
        step = _text.step_line(report)
        if step:
            text += f": {slack_escape(step)}"
        if report.history is not None:
            text += f" ({slack_escape(report.history.summary)})"
    return text


def _split(text: str, size: int, most: int) -> list[str]:
    """Cut `text` into at most `most` pieces of `size`, at line ends where possible."""
    pieces: list[str] = []
    rest = text
    while rest and len(pieces) < most:
        if len(rest) <= size:
            pieces.append(rest)
            return pieces
        cut = rest.rfind("\n", 0, size)
        if cut <= size // 2 or _text.markup_cut(rest, cut) < cut:
            cut = _text.markup_cut(rest, size) or size  # never inside an entity or a link
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest and pieces:  # out of pieces: say so at the end of the last one
        pieces[-1] = clip_markup(pieces[-1] + " …", size)
    return pieces
