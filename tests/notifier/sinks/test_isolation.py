"""The real sinks in the real pipeline: one sink down never costs the others their report,
a redelivery retries only the sink that failed, and no secret reaches a log or an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from buildlens_core.build import decode_build
from buildlens_core.errors import TransientError
from buildlens_core.settings import load_settings
from notifier.logsources.fixture import FixtureLogSource
from notifier.pipeline import Notifier
from notifier.sinks import github, slack, webhook
from notifier.sinks.base import Sink
from tests.conftest import FIXTURES
from tests.fakes.github import FakeGitHub
from tests.fakes.http import Response
from tests.fakes.slack import FakeSlack
from tests.fakes.webhook import FakeWebhook
from tests.notifier.sinks.conftest import GITHUB_TOKEN, Logs, Secrets, build_json

CASE = "pytest-failure"
HOOK_SECRET = "/services/T9/B9/isolationHookSECRET"
HMAC_KEY = "isolation-hmac-KEY-42"


def sinks(
    fake_slack: FakeSlack, fake_github: FakeGitHub, fake_webhook: FakeWebhook, secrets: Secrets
) -> list[Sink]:
    settings = load_settings(
        slack_webhook_url=secrets.put(fake_slack.url + HOOK_SECRET),
        github_token=secrets.put(GITHUB_TOKEN),
        github_api_url=fake_github.api_url,
        github_deadline_s=1.0,
        webhook_url=fake_webhook.url + "/in",
        webhook_secret=secrets.put(HMAC_KEY),
    )
    return [slack.create(settings), github.create(settings), webhook.create(settings)]


def deliver(notifier: Notifier, build: dict[str, object]) -> object:
    source = FixtureLogSource(FIXTURES / CASE, 1 << 24)
    # Published just now: the pipeline gives up on a lone failing sink only for old events.
    now = datetime.now(UTC).isoformat()
    return notifier.handle_build(decode_build(build), published=now, log_source=source)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in ("isolationHookSECRET", GITHUB_TOKEN, HMAC_KEY):
            assert secret not in text


def test_one_sink_down_the_others_deliver_and_redelivery_retries_only_it(
    fake_slack: FakeSlack,
    fake_github: FakeGitHub,
    fake_webhook: FakeWebhook,
    secret_manager: Secrets,
    logs: Logs,
) -> None:
    notifier = Notifier(
        load_settings(), sinks=sinks(fake_slack, fake_github, fake_webhook, secret_manager)
    )
    for _ in range(100):
        fake_github.faults.append(Response(503, b'{"message": "unavailable"}'))
    build = build_json(CASE)
    with pytest.raises(TransientError) as info:
        deliver(notifier, build)
    assert "github" in str(info.value)
    assert len(fake_slack.messages()) == 1
    assert len(fake_webhook.requests) == 1
    assert fake_github.repo("acme/payments-api").statuses == []

    fake_github.faults.clear()  # GitHub is back; Pub/Sub redelivers the same message
    outcome = deliver(notifier, build)
    assert outcome.action == "reported"  # type: ignore[attr-defined]
    assert len(fake_github.repo("acme/payments-api").statuses) == 1
    assert len(fake_slack.messages()) == 1  # not sent again
    assert len(fake_webhook.requests) == 1

    assert deliver(notifier, build).action == "duplicate"  # type: ignore[attr-defined]
    assert_no_secret(str(info.value), logs.text())
    assert "sink github failed (will retry)" in logs.text()


def test_a_rejecting_sink_is_reported_not_retried(
    fake_slack: FakeSlack,
    fake_github: FakeGitHub,
    fake_webhook: FakeWebhook,
    secret_manager: Secrets,
    logs: Logs,
) -> None:
    notifier = Notifier(
        load_settings(), sinks=sinks(fake_slack, fake_github, fake_webhook, secret_manager)
    )
    fake_slack.faults.append(Response(403, b"invalid_token", {"Content-Type": "text/plain"}))
    outcome = deliver(notifier, build_json(CASE))
    assert outcome.action == "reported"  # type: ignore[attr-defined]
    [error] = outcome.sink_errors  # type: ignore[attr-defined]
    assert error.name == "slack" and "403" in error.message
    assert len(fake_slack.requests) == 1
    assert len(fake_github.repo("acme/payments-api").statuses) == 1
    [delivered] = fake_webhook.requests
    assert json.loads(delivered.body)["build"]["id"] == outcome.report.build.id  # type: ignore[attr-defined]
    report_json = json.dumps(outcome.report.to_json())  # type: ignore[attr-defined]
    assert_no_secret(error.message, report_json, logs.text())
