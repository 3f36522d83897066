"""Slack incoming webhook: posts the report as a Block Kit message (`render/blockkit.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from buildlens_core.settings import Section
from notifier.render import templates
from notifier.render.blockkit import render_blockkit
from notifier.report import Report
from notifier.sinks._config import http_url, required, secret
from notifier.sinks._http import HttpPoster, HttpSettings

if TYPE_CHECKING:
    from buildlens_core.settings import Settings


class SlackSettings(Section):
    prefixes = ("SLACK_",)

    slack_webhook_url: str = ""  # https://hooks.slack.com/services/...; may be sm://
    slack_template: str = ""  # a Jinja2 mrkdwn template file (see notifier/render/templates.py)
    slack_deadline_s: float = Field(default=30.0, gt=0)  # total time per send, retries included
    slack_key_lines: int = Field(default=20, ge=1)  # most log lines in the code block


class SlackSink:
    name = "slack"

    def __init__(
        self,
        webhook_url: str,
        *,
        template: templates.ReportTemplate | None = None,
        deadline_s: float = 30.0,
        key_lines: int = 20,
        http: HttpSettings | None = None,
    ) -> None:
        self._url = webhook_url
        self._template = template
        self._key_lines = key_lines
        self._poster = HttpPoster(self.name, deadline_s=deadline_s, http=http)

    def send(self, report: Report) -> None:
        self._poster.request("POST", self._url, json=self.payload(report))

    def payload(self, report: Report) -> dict[str, Any]:
        return render_blockkit(report, key_lines=self._key_lines, template=self._template)


def create(settings: Settings) -> SlackSink:
    own = settings.section(SlackSettings)
    url = http_url(
        secret(required(own.slack_webhook_url, "SLACK_WEBHOOK_URL", "slack"), "SLACK_WEBHOOK_URL"),
        "SLACK_WEBHOOK_URL",
    )
    template = templates.load_optional(own.slack_template, "slack", "SLACK_TEMPLATE")
    return SlackSink(
        url,
        template=template,
        deadline_s=own.slack_deadline_s,
        http=settings.section(HttpSettings),
        key_lines=own.slack_key_lines,
    )
