"""Planted secrets through the whole pipeline: none reaches the LLM, none reaches a sink.

The Notifier runs with the gemini analyzer (from the registry, configured by environment
variables) against the local generateContent server, and a webhook-like sink that POSTs the
JSON and Markdown reports to a local recording server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from buildlens_core.build import decode_build
from buildlens_core.redact import Redactor
from buildlens_core.settings import load_settings
from notifier.logsources.fixture import FixtureLogSource
from notifier.pipeline import Notifier
from notifier.render.markdown import render_markdown
from notifier.report import Report
from tests.analyzers.llm.corpus import CUSTOM_PATTERN, ordinary_lines, planted_build
from tests.fakes.gemini import FakeGemini
from tests.fakes.http import RecordingServer, Request, Response


class Receiver(RecordingServer):
    def respond(self, request: Request) -> Response:
        return Response(204)


class WebhookLikeSink:
    """POSTs the JSON report and its Markdown rendering, as a webhook sink would."""

    name = "test-webhook"

    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, report: Report) -> None:
        httpx.post(self.url + "/hook", json=report.to_json(), timeout=10).raise_for_status()
        httpx.post(self.url + "/md", content=render_markdown(report), timeout=10)


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    server = FakeGemini().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


def run(
    folder: Path, fake: FakeGemini, sink: WebhookLikeSink, monkeypatch: pytest.MonkeyPatch
) -> Report:
    monkeypatch.setenv("GEMINI_API_KEY", "test-key-not-a-secret")
    monkeypatch.setenv("GEMINI_BASE_URL", fake.url)
    monkeypatch.setenv("LLM_REDACT_PATTERNS", json.dumps([CUSTOM_PATTERN]))
    settings = load_settings(
        analyzers=("failing_step", "tail", "key_lines", "classify", "fingerprint", "gemini"),
        tail_lines=150,
    )
    notifier = Notifier(settings, sinks=[sink])
    build = decode_build(json.loads((folder / "build.json").read_text()))
    source = FixtureLogSource(folder, settings.sources.max_log_bytes)
    outcome = notifier.handle_build(build, log_source=source)
    assert outcome.report is not None
    return outcome.report


def test_no_planted_secret_reaches_gemini(
    tmp_path: Path, fake: FakeGemini, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, lines, secrets = planted_build(tmp_path)
    assert len(secrets) >= 30
    report = run(folder, fake, WebhookLikeSink(receiver.url), monkeypatch)
    assert report.finding("explanation") is not None, report.errors
    sent = fake.received()
    assert len(fake.calls()) == 1
    leaked = [s for s in secrets if s.encode() in sent]
    assert leaked == []
    # The planted lines were sent (redacted), so the check above is not vacuous.
    prompt = json.loads(fake.calls()[0].body)["contents"][0]["parts"][0]["text"]
    redacted = Redactor([CUSTOM_PATTERN]).redact_lines(lines)
    missing = [line for line in redacted if line not in prompt]
    assert missing == []
    assert prompt.count("[REDACTED:") >= len(secrets) - 6  # a PEM block is one marker a line
    # Ordinary lines went through untouched.
    for line in ordinary_lines():
        assert line in prompt


def test_no_planted_secret_reaches_a_sink(
    tmp_path: Path, fake: FakeGemini, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _, secrets = planted_build(tmp_path)
    run(folder, fake, WebhookLikeSink(receiver.url), monkeypatch)
    delivered = b"".join(r.body for r in receiver.requests)
    assert b"FAILED tests/test_invoice.py" in delivered or b"AssertionError" in delivered
    leaked = [s for s in secrets if s.encode() in delivered]
    assert leaked == []
