"""Text helpers shared by the chat sinks: clean log text, clip it, escape it per target."""

from __future__ import annotations

import html
import re

from notifier.repo_links import repo_web
from notifier.report import ExcerptLine, Report, display_text

# Broadcast mentions written as plain words; a word joiner stops chat apps from expanding them.
# No trailing word boundary: clipping `@channel42` after escaping must not leave `@channel…`.
_BROADCAST = re.compile(r"@(channel|here|everyone|all)", re.IGNORECASE)
_WORD_JOINER = "\u2060"
ELLIPSIS = "…"


def clean(text: str) -> str:
    """Log or LLM text without terminal colours and control characters."""
    return display_text(text.replace("\r", ""))


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; a cut is marked with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + ELLIPSIS


_PARTIAL_MARKUP = re.compile(r"(&[#A-Za-z0-9]*|<[^>]*)$")


def clip_markup(text: str, limit: int) -> str:
    """`clip` for escaped text: never leaves half an entity (`&am`) or tag (`<a hr`) behind."""
    if len(text) <= limit:
        return text
    return _PARTIAL_MARKUP.sub("", text[: max(0, limit - 1)]) + ELLIPSIS


def markup_cut(text: str, at: int) -> int:
    """The last index at or before `at` where escaped `text` may be cut without splitting
    an entity or a tag (0 when there is none)."""
    return len(_PARTIAL_MARKUP.sub("", text[:at]))


def no_broadcast(text: str) -> str:
    return _BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), text)


def slack_escape(text: str) -> str:
    """Slack mrkdwn: escape the three control characters, so `<!channel>`, `<@U1>` and
    `<url|text>` in log text stay literal, and defuse plain-word broadcast mentions."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return no_broadcast(text)


LINK_URL_MAX = 1000
LINK_TEXT_MAX = 300


def slack_link(url: str, text: str) -> str:
    """A mrkdwn link; `|` and `>` in the URL would end it early, so they are encoded. Links
    stay short enough that no section is cut inside one: the text is clipped, and a longer
    URL (never a real one) is not linked."""
    shown = slack_escape(clip(text, LINK_TEXT_MAX))
    safe_url = url.replace("&", "&amp;").replace("|", "%7C").replace("<", "%3C")
    safe_url = safe_url.replace(">", "%3E")
    return f"<{safe_url}|{shown}>" if len(safe_url) <= LINK_URL_MAX else shown


_BACKTICK_RUN = re.compile(r"`(?=`)")


def slack_code(text: str) -> str:
    """Inside a Slack code block a run of three backticks would close it: a zero-width
    space after every backtick that another follows leaves no two adjacent (replacing
    triples alone left a live triple in a run of five)."""
    return _BACKTICK_RUN.sub("`\u200b", slack_escape(text))


def html_escape(text: str) -> str:
    """Google Chat card text is a small HTML subset: escape it, and defuse mentions."""
    return no_broadcast(html.escape(text, quote=False))


def html_link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html_escape(text)}</a>'


def chat_text_escape(text: str) -> str:
    """Google Chat *text messages* have no escape syntax: `<users/all>` and `<url|text>` are
    parsed from `<`, so a lookalike character replaces it in untrusted text."""
    return no_broadcast(text.replace("<", "\u2039").replace(">", "\u203a"))


def shown_lines(report: Report) -> list[ExcerptLine]:
    """The lines a chat message shows: the key lines, else the end of the excerpt."""
    key = [line for line in report.excerpt if line.key]
    return key or list(report.excerpt[-15:])


def fit_lines(lines: list[str], budget: int, line_limit: int) -> list[str]:
    """As many of the last lines as fit in `budget` characters (joined by newlines), each
    clipped to `line_limit`; a first line says how many earlier lines were left out."""
    clipped = [clip_markup(line, line_limit) for line in lines]  # lines may be escaped
    kept: list[str] = []
    used = 0
    for line in reversed(clipped):
        cost = len(line) + 1
        if used + cost > budget - 40:  # room for the "left out" note
            break
        kept.append(line)
        used += cost
    kept.reverse()
    dropped = len(clipped) - len(kept)
    if dropped:
        kept.insert(0, f"{ELLIPSIS} {dropped} earlier line{'s' if dropped != 1 else ''} left out")
    return kept


def step_line(report: Report) -> str:
    step = report.failing_step
    return clean(step.summary) if step else ""


def web_url(url: str) -> str:
    """The URL if it is one to link (http or https, of a sane length), else ""."""
    return url if url.startswith(("https://", "http://")) and len(url) <= LINK_URL_MAX else ""


def cause_line(report: Report) -> tuple[str, str, str]:
    """(category summary, hint, doc URL) of the classification, or blanks."""
    found = report.classification
    if found is None:
        return "", "", ""
    return clean(found.label), clean(found.hint), web_url(found.doc_url)


def since_passing(report: Report) -> tuple[str, list[tuple[str, str]]]:
    """(summary, [(URL, label)]) of what changed since the last passing build, or blanks:
    the passing build's log and the compare page, when they are links to show."""
    since = report.since_passing
    if since is None or not since.summary:
        return "", []
    links = [(web_url(since.log_url), "passing build"), (web_url(since.compare_url), "changes")]
    return clean(since.summary), [(url, label) for url, label in links if url]


def explanation(report: Report) -> tuple[str, str, list[str], str]:
    """(summary, root cause, fix steps, "provider model") of the first LLM explanation, or
    blanks."""
    if not report.explanations:
        return "", "", [], ""
    e = report.explanations[0]
    by = f"{e.provider} {e.model}".strip()
    return clean(e.summary), clean(e.root_cause), [clean(s) for s in e.fix_steps], by


def repo_urls(report: Report) -> tuple[str, str, str]:
    """(repo URL, branch URL, pull request URL), where the repository's host is known (the
    same host as the commit and compare links: `notifier/repo_links.py`)."""
    b = report.build
    web = repo_web(b)
    if web is None:
        return "", "", ""
    return web.base, web.branch(b.branch), web.pull_request(b.pr_number)
