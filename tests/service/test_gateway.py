"""The gateway against a local upstream: auth, allowlist, limits, headers, streaming, errors."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from urllib.parse import urlsplit

import httpx
import openai
import pytest

from service.keys import digest_prefix
from tests.service.conftest import GatewayFactory, Keys, Upstream, key_record
from tests.service.servers import free_port


def _error(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}
    assert {"message", "type", "code"} <= set(body["error"])
    return dict(body["error"])


def _raw(url: str, method: str, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """Send a request line exactly as given (no client-side path normalisation)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    conn.putrequest(method, target, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", "2")
    conn.endheaders(b"{}")
    response = conn.getresponse()
    return response.status, response.read()


def test_openai_sdk_with_bearer_key(gateway: str, keys: Keys) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key=keys.user, max_retries=0)
    assert [m.id for m in client.models.list()] == ["tiny"]
    assert client.models.retrieve("tiny").id == "tiny"
    completion = client.completions.create(model="tiny", prompt="hi", max_tokens=3)
    assert completion.choices[0].text == "ok"
    chat = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=3
    )
    assert chat.choices[0].message.content == "ok"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("missing")


def test_x_api_key_header(gateway: str, keys: Keys) -> None:
    response = httpx.get(gateway + "/v1/models", headers={"X-API-Key": keys.user})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer sk-wrong"}, "invalid_api_key"),
        ({"X-API-Key": "sk-wrong"}, "invalid_api_key"),
        ({"Authorization": "Basic abc"}, "missing_api_key"),
    ],
)
def test_refused_with_openai_error(gateway: str, headers: dict[str, str], code: str) -> None:
    response = httpx.post(gateway + "/v1/chat/completions", json={}, headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == code


def test_sdk_raises_authentication_error(gateway: str) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key="sk-nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="invalid API key"):
        client.models.list()


def test_refusal_logged_without_key(
    gateway: str, caplog: pytest.LogCaptureFixture, keys: Keys
) -> None:
    caplog.set_level("WARNING", logger="service")
    wrong = "sk-this-is-not-a-valid-key"
    httpx.get(gateway + "/v1/models", headers={"Authorization": f"Bearer {wrong}"})
    refused = [r for r in caplog.records if r.getMessage().startswith("API key refused")]
    assert refused
    record = refused[-1].__dict__
    assert record["key_digest_prefix"] == digest_prefix(wrong)
    assert record["client"] == "127.0.0.1"
    assert all(wrong not in str(v) for v in record.values())


def test_expired_key_refused(gateway_factory: GatewayFactory, keys: Keys) -> None:
    from datetime import UTC, datetime, timedelta

    keys.write([key_record("old", keys.user, expires=datetime.now(UTC) - timedelta(days=1))])
    with gateway_factory() as url:
        response = httpx.get(url + "/v1/models", headers={"X-API-Key": keys.user})
    assert response.status_code == 401
    assert _error(response)["code"] == "expired_api_key"


def test_upstream_never_sees_client_key_or_hop_headers(
    gateway: str, keys: Keys, upstream: Upstream
) -> None:
    response = httpx.post(
        gateway + "/v1/completions?x=1",
        json={"prompt": "hi"},
        headers={
            "Authorization": f"Bearer {keys.user}",
            "Connection": "keep-alive, x-drop-me",
            "X-Drop-Me": "1",
            "Keep-Alive": "timeout=5",
            "X-Request-Id": "abc",
        },
    )
    assert response.status_code == 200
    seen = upstream.recorder.requests[-1]
    assert seen["path"] == "/v1/completions"
    assert seen["query"] == "x=1"
    assert "authorization" not in seen["headers"]
    assert "x-api-key" not in seen["headers"]
    assert "x-drop-me" not in seen["headers"]
    assert "keep-alive" not in seen["headers"]
    assert seen["headers"]["x-request-id"] == "abc"
    # Response: upstream's Connection-listed header dropped, others kept, length correct.
    assert response.headers["x-upstream"] == "yes"
    assert "x-secret-hop" not in response.headers
    assert int(response.headers["content-length"]) == len(response.content)


def test_upstream_error_status_passes_through(gateway: str, keys: Keys) -> None:
    response = httpx.post(
        gateway + "/v1/completions", json={"status": 400}, headers={"X-API-Key": keys.user}
    )
    assert response.status_code == 400
    assert response.json() == {"error": {"message": "bad"}}


@pytest.mark.parametrize(
    "target",
    [
        "/tokenize",
        "/pause",
        "/metrics/../tokenize",
        "/v1/../tokenize",
        "/v1/%2e%2e/tokenize",
        "/v1/completions/../../tokenize",
        "/%74okenize",
        "/v1/completions%2f..%2f..%2ftokenize",
        "//tokenize",
        "/invocations",
        "/v1/load_lora_adapter",
    ],
)
def test_internal_routes_unreachable(
    gateway: str, keys: Keys, upstream: Upstream, target: str
) -> None:
    status, _ = _raw(gateway, "POST", target, {"X-API-Key": keys.admin})
    assert status in (401, 403, 404, 405)
    assert all(r["path"] not in ("/tokenize", "/pause") for r in upstream.recorder.requests)
    assert all(r["path"] != "/metrics" for r in upstream.recorder.requests)


def test_encoded_allowlisted_path_goes_to_constant_path(
    gateway: str, keys: Keys, upstream: Upstream
) -> None:
    status, _ = _raw(gateway, "POST", "/v1/%63ompletions", {"X-API-Key": keys.user})
    assert status == 200
    assert upstream.recorder.requests[-1]["path"] == "/v1/completions"


def test_body_limit(gateway_factory: GatewayFactory, keys: Keys) -> None:
    with gateway_factory(max_body_bytes=1000) as url:
        big = {"prompt": "x" * 2000}
        response = httpx.post(url + "/v1/completions", json=big, headers={"X-API-Key": keys.user})
        assert response.status_code == 413
        assert _error(response)["code"] == "request_too_large"

        def chunks():  # type: ignore[no-untyped-def]
            yield b'{"prompt": "'
            yield b"x" * 2000
            yield b'"}'

        chunked = httpx.post(
            url + "/v1/completions", content=chunks(), headers={"X-API-Key": keys.user}
        )
        assert chunked.status_code == 413


def test_rate_limit_with_retry_after(gateway: str, keys: Keys) -> None:
    headers = {"X-API-Key": keys.limited}
    statuses = [httpx.get(gateway + "/v1/models", headers=headers) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert _error(statuses[-1])["code"] == "rate_limit_exceeded"
    assert 1 <= int(statuses[-1].headers["retry-after"]) <= 30
    # Other keys are not affected.
    assert httpx.get(gateway + "/v1/models", headers={"X-API-Key": keys.user}).status_code == 200


def test_default_rpm(gateway_factory: GatewayFactory, keys: Keys) -> None:
    with gateway_factory(default_rpm=1) as url:
        headers = {"X-API-Key": keys.user}
        assert httpx.get(url + "/v1/models", headers=headers).status_code == 200
        assert httpx.get(url + "/v1/models", headers=headers).status_code == 429


def test_upstream_down_is_502(gateway_factory: GatewayFactory, keys: Keys) -> None:
    with gateway_factory(upstream_url=f"http://127.0.0.1:{free_port()}") as url:
        response = httpx.get(url + "/v1/models", headers={"X-API-Key": keys.user})
        assert response.status_code == 502
        assert "retry" in _error(response)["message"]
        health = httpx.get(url + "/health")
        assert health.status_code == 503
        assert "not reachable" in health.json()["reason"]


def test_upstream_timeout_is_504(gateway_factory: GatewayFactory, keys: Keys) -> None:
    with gateway_factory(read_timeout=0.3) as url:
        response = httpx.post(
            url + "/v1/completions", json={"delay": 2}, headers={"X-API-Key": keys.user}
        )
    assert response.status_code == 504
    assert _error(response)["code"] == "upstream_timeout"


def test_health(gateway: str, upstream: Upstream) -> None:
    assert httpx.get(gateway + "/health").json() == {"status": "ok", "models": ["tiny"]}
    upstream.recorder.healthy = False
    assert httpx.get(gateway + "/health").status_code == 503
    upstream.recorder.healthy = True
    upstream.recorder.models = []
    response = httpx.get(gateway + "/health")
    assert response.status_code == 503
    assert "no model" in response.json()["reason"]


def test_stream_passes_through_chunk_by_chunk(gateway: str, keys: Keys) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key=keys.user, max_retries=0)
    start = time.monotonic()
    arrivals = []
    stream = client.chat.completions.create(
        model="tiny",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        extra_body={"chunks": 4, "interval": 0.3},
    )
    with stream:
        for chunk in stream:
            arrivals.append((time.monotonic() - start, chunk.choices[0].delta.content))
    assert [text for _, text in arrivals] == ["t0", "t1", "t2", "t3"]
    # Unbuffered: the first chunk arrives long before the upstream finishes (4 x 0.3 s).
    assert arrivals[0][0] < 0.6
    assert arrivals[-1][0] - arrivals[0][0] > 0.6


def test_stream_headers(gateway: str, keys: Keys) -> None:
    with httpx.stream(
        "POST",
        gateway + "/v1/chat/completions",
        json={"stream": True, "messages": []},
        headers={"X-API-Key": keys.user},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        assert response.headers["cache-control"] == "no-cache"
        assert "content-length" not in response.headers
        assert b"data: [DONE]" in response.read()


def test_client_disconnect_closes_upstream(gateway: str, keys: Keys, upstream: Upstream) -> None:
    parts = urlsplit(gateway)
    body = json.dumps({"stream": True, "messages": [], "chunks": 1000, "interval": 0.05})
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(
        (
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-API-Key: {keys.user}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
    )
    received = b""
    while b"data:" not in received:
        received += sock.recv(4096)
    sock.close()
    deadline = time.monotonic() + 3
    while upstream.recorder.streams_closed == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert upstream.recorder.streams_closed == 1
    assert upstream.recorder.streams_finished == 0


def test_metrics_need_admin_and_count_tokens(gateway: str, keys: Keys) -> None:
    headers = {"X-API-Key": keys.user}
    httpx.post(gateway + "/v1/completions", json={}, headers=headers)
    httpx.post(
        gateway + "/v1/chat/completions",
        json={"stream": True, "chunks": 2, "stream_options": {"include_usage": True}},
        headers=headers,
    )
    httpx.get(gateway + "/v1/models", headers={"X-API-Key": "sk-bad"})
    assert httpx.get(gateway + "/metrics").status_code == 401
    forbidden = httpx.get(gateway + "/metrics", headers=headers)
    assert forbidden.status_code == 403
    assert _error(forbidden)["code"] == "admin_key_required"
    text = httpx.get(gateway + "/metrics", headers={"X-API-Key": keys.admin}).text
    assert 'gateway_requests_total{code="200",key="user",route="/v1/completions"} 1.0' in text
    assert 'gateway_tokens_total{key="user",kind="prompt"} 8.0' in text
    assert 'gateway_tokens_total{key="user",kind="completion"} 9.0' in text
    assert 'gateway_rejections_total{reason="bad_key"} 1.0' in text
    assert "gateway_request_duration_seconds_bucket" in text
    assert keys.user not in text


def test_reload_endpoint_and_revocation(gateway: str, keys: Keys) -> None:
    user = {"X-API-Key": keys.user}
    admin = {"Authorization": f"Bearer {keys.admin}"}
    assert httpx.post(gateway + "/admin/reload-keys", headers=user).status_code == 403
    keys.write([key_record("admin", keys.admin, admin=True)])
    assert httpx.get(gateway + "/v1/models", headers=user).status_code == 200  # not yet reloaded
    response = httpx.post(gateway + "/admin/reload-keys", headers=admin)
    assert response.json() == {"reloaded": True, "keys": 1}
    assert httpx.get(gateway + "/v1/models", headers=user).status_code == 401


def test_failed_reload_keeps_last_good_set(gateway: str, keys: Keys) -> None:
    keys.file.write_text("{not json")
    response = httpx.post(gateway + "/admin/reload-keys", headers={"X-API-Key": keys.admin})
    assert response.status_code == 503
    message = _error(response)["message"]
    assert "kept the last good set of 3 keys" in message
    assert httpx.get(gateway + "/v1/models", headers={"X-API-Key": keys.user}).status_code == 200


def test_timer_reload_revokes(gateway_factory: GatewayFactory, keys: Keys) -> None:
    with gateway_factory(keys_reload_seconds=0.2) as url:
        headers = {"X-API-Key": keys.user}
        assert httpx.get(url + "/v1/models", headers=headers).status_code == 200
        keys.write([key_record("admin", keys.admin, admin=True)])
        deadline = time.monotonic() + 5
        while httpx.get(url + "/v1/models", headers=headers).status_code == 200:
            assert time.monotonic() < deadline, "revoked key still accepted after 5 s"
            time.sleep(0.1)


def test_plain_mapping_keys_from_env(gateway_factory: GatewayFactory) -> None:
    mapping = {"ops": "sk-ops-plain-key", "ci": "sk-ci-plain-key"}
    with gateway_factory(
        keys_file=None, keys_json=json.dumps(mapping), admin_names=frozenset({"ops"})
    ) as url:
        assert httpx.get(url + "/v1/models", headers={"X-API-Key": "sk-ci-plain-key"}).is_success
        admin = {"X-API-Key": "sk-ops-plain-key"}
        assert httpx.get(url + "/metrics", headers=admin).status_code == 200
        assert (
            httpx.get(url + "/metrics", headers={"X-API-Key": "sk-ci-plain-key"}).status_code == 403
        )


def test_concurrent_streams(gateway: str, keys: Keys) -> None:
    results: list[int] = []

    def one() -> None:
        with httpx.stream(
            "POST",
            gateway + "/v1/chat/completions",
            json={"stream": True, "chunks": 5, "interval": 0.01},
            headers={"X-API-Key": keys.user},
        ) as response:
            results.append(response.read().count(b"data:"))

    threads = [threading.Thread(target=one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [6] * 10
