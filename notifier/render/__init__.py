"""Renderers: a report as text, Markdown or versioned JSON."""

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
