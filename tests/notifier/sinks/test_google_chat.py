"""The Google Chat sink against a local webhook that enforces the card limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from buildlens_core.errors import ConfigError
from buildlens_core.settings import load_settings
from notifier.sinks import SINKS
from notifier.sinks.base import SinkRejected
from notifier.sinks.google_chat import GoogleChatSink, create
from tests.fakes.google_chat import FakeGoogleChat, card_texts, chat_problems
from tests.fakes.http import Response
from tests.notifier.sinks.conftest import (
    Logs,
    Secrets,
    fixture_report,
    hostile_report,
    recovery_report,
    write_template,
)

HOOK = "/v1/spaces/AAAA1234/messages?key=KEYsecret123&token=TOKENsecret456"


def sink(fake: FakeGoogleChat, **kw: object) -> GoogleChatSink:
    return create(load_settings(google_chat_webhook_url=fake.url + HOOK, **kw))


def test_registered() -> None:
    assert SINKS["google_chat"] is create


def test_fixture_report_card(fake_chat: FakeGoogleChat) -> None:
    report = fixture_report()
    sink(fake_chat).send(report)
    [message] = fake_chat.messages()
    assert chat_problems(message) == []
    assert fake_chat.requests[0].query == {"key": ["KEYsecret123"], "token": ["TOKENsecret456"]}
    card = message["cardsV2"][0]["card"]
    assert "payments-api-main failed" in card["header"]["title"]
    assert card["header"]["subtitle"] == "acme/payments-api · main · e2b9c1c"
    texts = "\n".join(card_texts(message))
    assert '<a href="https://github.com/acme/payments-api/tree/main">main</a>' in texts
    assert "AssertionError" in texts and "\x1b[" not in texts
    headers = [s.get("header") for s in card["sections"]]
    assert "Failing step" in headers and "Key lines" in headers
    buttons = card["sections"][-1]["widgets"][0]["buttonList"]["buttons"]
    assert buttons[0]["onClick"]["openLink"]["url"] == report.build.log_url
    assert message["fallbackText"] == report.title


@pytest.mark.parametrize("case", ["npm-error", "timeout", "push-failed", "internal-error"])
def test_every_fixture_is_accepted(fake_chat: FakeGoogleChat, case: str) -> None:
    sink(fake_chat).send(fixture_report(case))
    assert chat_problems(fake_chat.messages()[0]) == []


def test_hostile_report_within_limits_and_escaped(fake_chat: FakeGoogleChat) -> None:
    sink(fake_chat).send(hostile_report())
    [message] = fake_chat.messages()
    assert chat_problems(message) == []
    assert len(json.dumps(message, ensure_ascii=False).encode()) <= 32000
    for text in card_texts(message):
        assert "<b>html</b>" not in text  # log HTML is shown, not rendered
        assert "<!channel>" not in text
        assert "javascript:" not in text
    texts = "\n".join(card_texts(message))
    assert "&lt;b&gt;html&lt;/b&gt;" in texts
    assert "earlier lines left out" in texts


def test_recovery(fake_chat: FakeGoogleChat) -> None:
    sink(fake_chat).send(recovery_report())
    [message] = fake_chat.messages()
    assert chat_problems(message) == []
    card = message["cardsV2"][0]["card"]
    assert card["header"]["title"].startswith("✅") and "fixed" in card["header"]["title"]
    assert "passes again" in card_texts(message)[0]


def test_template_is_html_escaped(fake_chat: FakeGoogleChat, tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        "<b>{{ trigger }}</b><br>{{ repo_url | link(repo) }}<br>{{ key_lines[:3] | code }}",
    )
    sink(fake_chat, google_chat_template=path).send(hostile_report())
    [message] = fake_chat.messages()
    assert chat_problems(message) == []
    body = card_texts(message)[0]
    assert body.startswith("<b>&lt;!channel&gt; deploy @\u2060here")
    assert '<a href="https://github.com/acme/payments-api">acme/payments-api</a>' in body


def test_429_retry_after_then_success(fake_chat: FakeGoogleChat) -> None:
    fake_chat.faults.append(Response(429, b"{}", {"Retry-After": "1"}))
    sink(fake_chat).send(fixture_report())
    assert len(fake_chat.requests) == 2


def test_503_then_success(fake_chat: FakeGoogleChat) -> None:
    fake_chat.faults.append(Response(503, b"{}"))
    sink(fake_chat).send(fixture_report())
    assert len(fake_chat.requests) == 2


def test_400_not_retried_and_secret_free(fake_chat: FakeGoogleChat, logs: Logs) -> None:
    fake_chat.faults.append(Response(400, b'{"error": {"message": "Invalid JSON payload"}}'))
    with pytest.raises(SinkRejected) as info:
        sink(fake_chat).send(fixture_report())
    assert len(fake_chat.requests) == 1
    for secret in ("KEYsecret123", "TOKENsecret456", "AAAA1234"):
        assert secret not in str(info.value)
        assert secret not in logs.text()


def test_missing_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_CHAT_WEBHOOK_URL", raising=False)
    with pytest.raises(ConfigError, match="GOOGLE_CHAT_WEBHOOK_URL"):
        create(load_settings())


def test_url_from_secret_manager(
    fake_chat: FakeGoogleChat, secret_manager: Secrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CHAT_WEBHOOK_URL", secret_manager.put(fake_chat.url + HOOK))
    create(load_settings()).send(fixture_report())
    assert fake_chat.requests[0].path == "/v1/spaces/AAAA1234/messages"
