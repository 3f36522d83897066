"""Renderers: every way a report is shown, in one place.

`RENDERERS` (text, Markdown, versioned JSON) are the output formats of the stdout sink and
the command line; `blockkit` (Slack), `chat_card` (Google Chat) and `github_markdown` (check
runs, comments, commit status) are the sinks' layouts; `templates` renders a user's Jinja2
template instead of a built-in layout; `_text` holds the escaping and clipping they share.
Sinks only deliver what these return.
"""

from __future__ import annotations

from collections.abc import Callable

from notifier.render.json_report import render_json
from notifier.render.markdown import escape, render_markdown
from notifier.render.text import render_text
from notifier.report import Report

# The only list of output formats.
RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}

__all__ = ["RENDERERS", "escape", "render_json", "render_markdown", "render_text"]
