"""No secret leaves the function, by any way out.

A failed build whose failing step prints 59 planted fake secrets of over 40 kinds, in every
context a CI log puts them (`NAME=value`, `env: NAME=value`, `export`, `--flag=value`,
`--set-env-vars=A=x,B=y`, JSON, YAML, URLs with passwords, `Authorization:` and `X-Api-Key:`
headers, `-p` / `--password`, provider tokens, PEM blocks, service-account JSON), runs
through the real pipeline with both LLM analyzers (Gemini and OpenAI-compatible, each
against a local recording server) and every HTTP sink (Slack Block Kit, Google Chat card,
GitHub status and comment, webhook, Cloud Logging), then is rendered in every format. No
secret is in what any server received, in any rendering, in any string of the JSON report or
in the function's own logs; the ordinary lines printed beside them come through unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from buildlens_core.build import decode_build
from buildlens_core.settings import load_settings
from notifier.logsources.fixture import FixtureLogSource
from notifier.pipeline import Notifier
from notifier.render import RENDERERS
from notifier.report import Report
from notifier.sinks import cloud_logging, github, google_chat, slack, webhook
from notifier.sinks.base import Sink
from tests.analyzers.llm.corpus import CUSTOM_PATTERN, ordinary_lines, planted_build
from tests.fakes.cloud_logging_write import FakeLoggingWriter
from tests.fakes.gemini import FakeGemini
from tests.fakes.github import FakeGitHub
from tests.fakes.google_chat import FakeGoogleChat
from tests.fakes.http import RecordingServer
from tests.fakes.openai_chat import FakeOpenAI
from tests.fakes.slack import FakeSlack
from tests.fakes.webhook import FakeWebhook
from tests.jsonwalk import strings
from tests.notifier.sinks.conftest import GITHUB_TOKEN, Logs


@pytest.fixture
def llms() -> Iterator[tuple[FakeGemini, FakeOpenAI]]:
    gemini, openai = FakeGemini().start(), FakeOpenAI().start()
    yield gemini, openai
    gemini.stop()
    openai.stop()


def leaks(text: str | bytes, secrets: list[str]) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [s[:12] + "..." for s in secrets if s.encode() in data]


def test_no_planted_secret_leaves_by_any_way_out(
    tmp_path: Path,
    llms: tuple[FakeGemini, FakeOpenAI],
    fake_slack: FakeSlack,
    fake_chat: FakeGoogleChat,
    fake_github: FakeGitHub,
    fake_webhook: FakeWebhook,
    fake_logging_writer: FakeLoggingWriter,
    logs: Logs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gemini, openai = llms
    folder, _, secrets = planted_build(tmp_path)
    kinds = {s[:3] for s in secrets}  # a rough floor: distinct prefixes of distinct formats
    assert len(secrets) >= 50 and len(kinds) >= 40
    monkeypatch.setenv("GEMINI_API_KEY", "test-key-not-a-secret")
    monkeypatch.setenv("GEMINI_BASE_URL", gemini.url)
    monkeypatch.setenv("OPENAI_BASE_URL", openai.url + "/v1")
    monkeypatch.setenv("OPENAI_MODEL", "r1-distill")
    monkeypatch.setenv("LLM_REDACT_PATTERNS", json.dumps([CUSTOM_PATTERN]))
    settings = load_settings(
        analyzers=(
            "failing_step", "tail", "key_lines", "classify", "fingerprint", "gemini", "openai",
        ),
        tail_lines=150,
        cloud_logging_endpoint=fake_logging_writer.url,
        google_cloud_project="ops-project",
        slack_webhook_url=fake_slack.url + "/services/T1/B1/x",
        google_chat_webhook_url=fake_chat.url + "/v1/spaces/AAA/messages",
        github_token=GITHUB_TOKEN,
        github_api_url=fake_github.api_url,
        github_mode="check_run",
        webhook_url=fake_webhook.url + "/in",
    )  # fmt: skip
    sinks: list[Sink] = [
        module.create(settings) for module in (slack, google_chat, github, webhook, cloud_logging)
    ]
    notifier = Notifier(settings, sinks=sinks)
    build = decode_build(json.loads((folder / "build.json").read_text()))
    outcome = notifier.handle_build(
        build,
        published=datetime.now(UTC).isoformat(),
        log_source=FixtureLogSource(folder, settings.sources.max_log_bytes),
    )
    report = outcome.report
    assert isinstance(report, Report)
    assert outcome.action == "reported" and not outcome.sink_errors, outcome.sink_errors
    assert [f.analyzer for f in report.findings if f.kind == "explanation"] == [
        "gemini",
        "openai",
    ], report.errors

    servers: list[RecordingServer] = [
        gemini, openai, fake_slack, fake_chat, fake_github, fake_webhook, fake_logging_writer,
    ]  # fmt: skip
    for server in servers:
        assert server.requests, type(server).__name__
        assert leaks(server.received(), secrets) == [], type(server).__name__
    renderings = {name: render(report) for name, render in RENDERERS.items()}
    for name, text in renderings.items():
        assert leaks(text, secrets) == [], name
    public = report.to_json()
    assert [s for s in strings(public) if leaks(s, secrets)] == []
    assert leaks(logs.text(), secrets) == []

    # Not vacuous: the planted lines were in what the LLMs and the report saw (redacted) ...
    for server in (gemini, openai):
        assert server.received().count(b"[REDACTED:") >= len(secrets) - 6  # PEM: one per line
    shown = "\n".join(e.text for e in report.excerpt)
    assert shown.count("[REDACTED:") >= len(secrets) - 6
    # ... and no ordinary value beside them was touched, in the prompts or the report.
    for line in ordinary_lines():
        for server in (gemini, openai):
            assert json.dumps(line)[1:-1].encode() in server.received(), line
        assert line in shown, line
        assert line in renderings["text"], line
