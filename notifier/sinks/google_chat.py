"""Google Chat incoming webhook: posts the report as a card (`render/chat_card.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from buildlens_core.settings import Section
from notifier.render import templates
from notifier.render.chat_card import render_chat_card
from notifier.report import Report
from notifier.sinks._config import http_url, required, secret
from notifier.sinks._http import HttpPoster, HttpSettings

if TYPE_CHECKING:
    from buildlens_core.settings import Settings


class GoogleChatSettings(Section):
    prefixes = ("GOOGLE_CHAT_",)

    google_chat_webhook_url: str = ""  # https://chat.googleapis.com/v1/spaces/...; may be sm://
    google_chat_template: str = ""  # a Jinja2 card-HTML template file
    google_chat_deadline_s: float = Field(default=30.0, gt=0)
    google_chat_key_lines: int = Field(default=30, ge=1)


class GoogleChatSink:
    name = "google_chat"

    def __init__(
        self,
        webhook_url: str,
        *,
        template: templates.ReportTemplate | None = None,
        deadline_s: float = 30.0,
        key_lines: int = 30,
        http: HttpSettings | None = None,
    ) -> None:
        self._url = webhook_url
        self._template = template
        self._key_lines = key_lines
        self._poster = HttpPoster("google_chat", deadline_s=deadline_s, http=http)

    def send(self, report: Report) -> None:
        self._poster.request("POST", self._url, json=self.payload(report))

    def payload(self, report: Report) -> dict[str, Any]:
        return render_chat_card(report, key_lines=self._key_lines, template=self._template)


def create(settings: Settings) -> GoogleChatSink:
    own = settings.section(GoogleChatSettings)
    env = "GOOGLE_CHAT_WEBHOOK_URL"
    url = http_url(secret(required(own.google_chat_webhook_url, env, "google_chat"), env), env)
    template = templates.load_optional(own.google_chat_template, "chat", "GOOGLE_CHAT_TEMPLATE")
    return GoogleChatSink(
        url,
        template=template,
        deadline_s=own.google_chat_deadline_s,
        http=settings.section(HttpSettings),
        key_lines=own.google_chat_key_lines,
    )
