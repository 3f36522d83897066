"""The generic webhook: signed versioned JSON, auth headers, retries."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from buildlens_core.errors import ConfigError
from buildlens_core.settings import load_settings
from notifier.public_report import SCHEMA_VERSION
from notifier.sinks import SINKS
from notifier.sinks.base import SinkRejected
from notifier.sinks.webhook import SIGNATURE_HEADER, WebhookSink, create
from tests.fakes.http import Response
from tests.fakes.webhook import FakeWebhook
from tests.notifier.sinks.conftest import Logs, Secrets, fixture_report, recovery_report

KEY = "hmac-key-0123456789"


def sink(fake: FakeWebhook, **kw: str) -> WebhookSink:
    return create(load_settings(webhook_url=fake.url + "/hooks/buildlens", **kw))


def header(request: object, name: str) -> str:
    headers = {k.lower(): v for k, v in request.headers.items()}  # type: ignore[attr-defined]
    return headers.get(name.lower(), "")


def test_registered() -> None:
    assert SINKS["webhook"] is create


def test_body_is_the_versioned_report_and_the_signature_verifies(
    fake_webhook: FakeWebhook,
) -> None:
    report = fixture_report()
    sink(fake_webhook, webhook_secret=KEY).send(report)
    [request] = fake_webhook.requests
    body = json.loads(request.body)
    assert body["schema_version"] == SCHEMA_VERSION
    assert body["build"]["id"] == report.build.id
    assert body == json.loads(json.dumps(report.to_json()))
    expected = "sha256=" + hmac.new(KEY.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(header(request, SIGNATURE_HEADER), expected)
    assert header(request, "Content-Type") == "application/json"
    assert header(request, "X-Buildlens-Event") == "failure"
    assert header(request, "X-Buildlens-Delivery") == f"{report.build.id}/FAILURE/failure"
    assert header(request, "X-Buildlens-Timestamp").isdigit()
    assert header(request, "Authorization") == ""


def test_a_tampered_body_fails_verification(fake_webhook: FakeWebhook) -> None:
    sink(fake_webhook, webhook_secret=KEY).send(fixture_report())
    [request] = fake_webhook.requests
    tampered = request.body.replace(b"FAILURE", b"SUCCESS")
    forged = "sha256=" + hmac.new(KEY.encode(), tampered, hashlib.sha256).hexdigest()
    assert header(request, SIGNATURE_HEADER) != forged


def test_no_secret_no_signature(fake_webhook: FakeWebhook) -> None:
    sink(fake_webhook).send(recovery_report())
    [request] = fake_webhook.requests
    assert header(request, SIGNATURE_HEADER) == ""
    assert header(request, "X-Buildlens-Event") == "recovery"


def test_bearer_and_extra_headers_from_secret_manager(
    fake_webhook: FakeWebhook, secret_manager: Secrets, logs: Logs
) -> None:
    token = secret_manager.put("bearer-token-abcdef")
    api_key = secret_manager.put("api-key-value-xyz")
    key = secret_manager.put(KEY)
    headers = json.dumps({"X-Team": "payments", "X-Api-Key": api_key})
    webhook = sink(fake_webhook, webhook_token=token, webhook_headers=headers, webhook_secret=key)
    webhook.send(fixture_report())
    [request] = fake_webhook.requests
    assert header(request, "Authorization") == "Bearer bearer-token-abcdef"
    assert header(request, "X-Team") == "payments"
    assert header(request, "X-Api-Key") == "api-key-value-xyz"
    expected = "sha256=" + hmac.new(KEY.encode(), request.body, hashlib.sha256).hexdigest()
    assert header(request, SIGNATURE_HEADER) == expected
    fake_webhook.faults.append(Response(401, b'{"error": "bad token bearer-token-abcdef"}'))
    with pytest.raises(SinkRejected) as info:
        webhook.send(fixture_report())
    for secret in ("bearer-token-abcdef", "api-key-value-xyz", KEY):
        assert secret not in str(info.value)
        assert secret not in logs.text()


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("not json", "JSON object"),
        ('["a"]', "map header names"),
        ('{"X-A": 1}', "map header names"),
        ('{"Content-Type": "text/plain"}', "may not set Content-Type"),
        (f'{{"{SIGNATURE_HEADER}": "x"}}', "may not set"),
    ],
)
def test_bad_extra_headers(fake_webhook: FakeWebhook, raw: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        sink(fake_webhook, webhook_headers=raw)


def test_429_retry_after_then_success(fake_webhook: FakeWebhook) -> None:
    fake_webhook.faults.append(Response(429, b"", {"Retry-After": "1"}))
    sink(fake_webhook, webhook_secret=KEY).send(fixture_report())
    assert len(fake_webhook.requests) == 2
    # The retry carries the same body, so the same signature.
    first, second = fake_webhook.requests
    assert first.body == second.body
    assert header(first, SIGNATURE_HEADER) == header(second, SIGNATURE_HEADER)


def test_503_then_success(fake_webhook: FakeWebhook) -> None:
    fake_webhook.faults.append(Response(503, b""))
    sink(fake_webhook).send(fixture_report())
    assert len(fake_webhook.requests) == 2


def test_400_not_retried(fake_webhook: FakeWebhook) -> None:
    fake_webhook.faults.append(Response(400, b"bad"))
    with pytest.raises(
        SinkRejected, match=r"webhook: POST http://127.0.0.1:\d+ was refused with 400"
    ):
        sink(fake_webhook).send(fixture_report())
    assert len(fake_webhook.requests) == 1


def test_missing_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBHOOK_URL", raising=False)
    with pytest.raises(ConfigError, match="needs WEBHOOK_URL"):
        create(load_settings())
