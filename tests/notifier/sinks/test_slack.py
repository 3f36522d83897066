"""The Slack sink against a local webhook that enforces Block Kit's limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from buildlens_core.errors import ConfigError
from buildlens_core.settings import load_settings
from notifier.sinks import SINKS
from notifier.sinks.base import SinkRejected, SinkUnavailable
from notifier.sinks.slack import SlackSink, create
from tests.fakes.http import Response
from tests.fakes.slack import FakeSlack, mrkdwn_texts, slack_problems
from tests.notifier.sinks.conftest import (
    Logs,
    Secrets,
    fixture_report,
    hostile_report,
    recovery_report,
    write_template,
)

HOOK = "/services/T0001/B0001/abcdefSECRETxyz"


def sink(fake: FakeSlack, **kw: object) -> SlackSink:
    return create(load_settings(slack_webhook_url=fake.url + HOOK, **kw))


def test_registered() -> None:
    assert SINKS["slack"] is create


def test_fixture_report_shape(fake_slack: FakeSlack) -> None:
    report = fixture_report()
    sink(fake_slack).send(report)
    [message] = fake_slack.messages()
    assert fake_slack.problems == [[]]
    blocks = message["blocks"]
    assert blocks[0]["type"] == "header"
    assert "payments-api-main" in blocks[0]["text"]["text"]
    assert "failed" in blocks[0]["text"]["text"]
    fields = "\n".join(f["text"] for f in blocks[1]["fields"])
    assert "<https://github.com/acme/payments-api|acme/payments-api>" in fields
    assert "<https://github.com/acme/payments-api/tree/main|main>" in fields
    assert f"<{report.commit_url}|{report.build.short_sha}>" in fields
    texts = "\n".join(mrkdwn_texts(message))
    assert "*Failing step*" in texts and "unit-tests" in texts
    code = next(t for t in texts.split("*Key lines*")[1:])
    assert code.startswith("\n```\n") and "AssertionError" in code
    assert "\x1b[" not in texts  # terminal colours removed
    actions = blocks[-1]
    assert actions["type"] == "actions"
    assert actions["elements"][0]["url"] == report.build.log_url
    assert message["text"].startswith("payments-api-main failed")


@pytest.mark.parametrize(
    "case", ["pytest-failure", "npm-error", "timeout", "push-failed", "internal-error"]
)
def test_every_fixture_is_accepted(fake_slack: FakeSlack, case: str) -> None:
    sink(fake_slack).send(fixture_report(case))
    assert fake_slack.problems == [[]]


def test_hostile_report_stays_within_limits_and_defused(fake_slack: FakeSlack) -> None:
    sink(fake_slack).send(hostile_report())
    [message] = fake_slack.messages()
    assert slack_problems(message) == []
    for text in mrkdwn_texts(message):
        # No live mention, link or special command survives from log or LLM text.
        assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text
        assert "<https://evil.example|" not in text
        assert not re.search(r"(?<![\w\u2060])@(here|channel)\b", text.replace("@\u2060", ""))
        assert "@here" not in text and "@channel" not in text
    code = next(t for t in mrkdwn_texts(message) if t.startswith("*Key lines*"))
    body = code.removeprefix("*Key lines*\n```\n").removesuffix("\n```")
    assert "```" not in body  # log backticks cannot close the block early
    assert "earlier lines left out" in body
    assert "javascript:" not in str(message)  # only http(s) doc links are linked
    header = message["blocks"][0]["text"]["text"]
    assert len(header) <= 150


def test_recovery_is_short(fake_slack: FakeSlack) -> None:
    sink(fake_slack).send(recovery_report())
    [message] = fake_slack.messages()
    assert fake_slack.problems == [[]]
    assert "fixed" in message["blocks"][0]["text"]["text"]
    assert "by commit ad8fc11" in message["blocks"][0]["text"]["text"]
    assert len(message["blocks"]) <= 3
    assert "passes again" in message["blocks"][1]["text"]["text"]


def test_template_overrides_the_body(fake_slack: FakeSlack, tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        "*{{ title }}* on {{ branch }} {{ commit_url | link(short_sha) }}\n"
        "{% if history %}_{{ history }}_{% endif %}\n{{ key_lines | code }}",
    )
    report = hostile_report()
    sink(fake_slack, slack_template=path).send(report)
    [message] = fake_slack.messages()
    assert fake_slack.problems == [[]]
    body = message["blocks"][1]["text"]["text"]
    assert body.startswith("*&lt;!channel&gt; deploy @\u2060here")  # literal * kept, value escaped
    assert f"<{report.commit_url}|{report.build.short_sha}>" in body
    assert message["blocks"][-1]["type"] == "actions"


def test_429_with_retry_after_then_success(fake_slack: FakeSlack) -> None:
    fake_slack.faults.append(Response(429, b"rate_limited", {"Retry-After": "1"}))
    sink(fake_slack).send(fixture_report())
    assert len(fake_slack.requests) == 2
    assert fake_slack.problems == [[]]


def test_503_then_success(fake_slack: FakeSlack) -> None:
    fake_slack.faults.append(Response(503, b"busy"))
    sink(fake_slack).send(fixture_report())
    assert len(fake_slack.requests) == 2


def test_400_is_not_retried(fake_slack: FakeSlack) -> None:
    fake_slack.faults.append(Response(400, b"invalid_payload", {"Content-Type": "text/plain"}))
    with pytest.raises(SinkRejected, match="400") as info:
        sink(fake_slack).send(fixture_report())
    assert len(fake_slack.requests) == 1
    assert "SECRET" not in str(info.value) and "/services/" not in str(info.value)


def test_down_is_transient(fake_slack: FakeSlack) -> None:
    for _ in range(10):
        fake_slack.faults.append(Response(500, b""))
    with pytest.raises(SinkUnavailable):
        sink(fake_slack, slack_deadline_s=2.0).send(fixture_report())


def test_missing_url_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    with pytest.raises(ConfigError, match=r"SLACK_WEBHOOK_URL.*remove slack from SINKS"):
        create(load_settings())


def test_settings_from_the_environment(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", fake_slack.url + HOOK)
    monkeypatch.setenv("SLACK_KEY_LINES", "3")
    create(load_settings()).send(fixture_report())
    code = next(t for t in mrkdwn_texts(fake_slack.messages()[0]) if "*Key lines*" in t)
    assert code.count("\n") == 3 + 2  # three lines between the fences


def test_url_from_secret_manager_never_logged(
    fake_slack: FakeSlack, secret_manager: Secrets, logs: Logs, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = secret_manager.put(fake_slack.url + HOOK)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", ref)
    slack = create(load_settings())
    slack.send(fixture_report())
    assert fake_slack.requests[-1].path == HOOK
    fake_slack.faults.append(Response(404, b"no_service"))
    with pytest.raises(SinkRejected) as info:
        slack.send(fixture_report())
    assert "abcdefSECRETxyz" not in str(info.value)
    assert "abcdefSECRETxyz" not in logs.text()
    assert "HTTP Request" in logs.text()


def test_bad_url_secret_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "hooks.slack.com/services/T/B/notASchemeSecret")
    with pytest.raises(ConfigError) as info:
        create(load_settings())
    assert "notASchemeSecret" not in str(info.value)
