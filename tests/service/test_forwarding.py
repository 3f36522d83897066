"""The forwarding path's own details: body reading, methods, token counts, the access log."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from service import Settings, create_app
from service.proxy import BodyTooLarge, read_body
from service.upstream import UpstreamPool
from tests.service.conftest import Keys, Upstream
from tests.service.hardening.conftest import production_server
from tests.service.servers import serve


def _receiver(*messages: dict[str, Any]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return receive


def _body(receive: Any, limit: int = 10, declared: int | None = None) -> bytes | None:
    result: bytes | None = asyncio.run(read_body(receive, limit, declared))
    return result


def test_body_in_several_messages() -> None:
    receive = _receiver(
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.request", "body": b"def", "more_body": False},
    )
    assert _body(receive) == b"abcdef"


@pytest.mark.parametrize(
    "messages",
    [
        # The first message alone is over the limit (a fast client's chunked body).
        [{"type": "http.request", "body": b"x" * 11, "more_body": True}],
        [{"type": "http.request", "body": b"x" * 11, "more_body": False}],
        [
            {"type": "http.request", "body": b"x" * 6, "more_body": True},
            {"type": "http.request", "body": b"x" * 6, "more_body": True},
        ],
    ],
)
def test_body_over_the_limit(messages: list[dict[str, Any]]) -> None:
    with pytest.raises(BodyTooLarge):
        _body(_receiver(*messages))


def test_declared_length_over_the_limit_is_refused_unread() -> None:
    with pytest.raises(BodyTooLarge):
        _body(_receiver(), declared=11)  # receiving anything would fail: nothing is queued


def test_client_leaving_mid_body() -> None:
    receive = _receiver(
        {"type": "http.request", "body": b"abc", "more_body": True}, {"type": "http.disconnect"}
    )
    assert _body(receive) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [("HEAD", "/v1/models"), ("GET", "/v1/completions"), ("PUT", "/v1/chat/completions")],
)
def test_other_methods_on_forwarded_routes(
    gateway: str, keys: Keys, upstream: Upstream, method: str, path: str
) -> None:
    """Only the allowlisted method is forwarded; others get the catch-all 404."""
    response = httpx.request(method, gateway + path, headers={"X-API-Key": keys.user})
    assert response.status_code == 404
    if method != "HEAD":
        assert response.json()["error"]["code"] == "not_found"
    assert not upstream.recorder.requests


# An upstream whose answers carry "usage" where it is not the top-level key: in the generated
# text (escaped inside a JSON string) and in a large embeddings answer.
_TEXT_WITH_USAGE = json.dumps(
    {
        "object": "text_completion",
        "choices": [{"index": 0, "text": 'say {"usage": {"prompt_tokens": 1000}}'}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
).encode()
_EMBEDDINGS = json.dumps(
    {
        "object": "list",
        "data": [{"index": i, "embedding": [0.125] * 1536} for i in range(8)],
        "usage": {"prompt_tokens": 11, "total_tokens": 11},
    }
).encode()


async def _usage_upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["path"] == "/health":
        body = b"{}"
    elif scope["path"] == "/v1/models":
        body = b'{"data": [{"id": "tiny"}]}'
    elif scope["path"] == "/v1/embeddings":
        body = _EMBEDDINGS
    else:
        body = _TEXT_WITH_USAGE
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def usage_gateway(keys: Keys) -> Iterator[str]:
    with serve(_usage_upstream) as upstream:
        settings = Settings(upstream_url=upstream, keys_file=keys.file, access_log=True)
        with serve(create_app(settings)) as url:
            yield url


def test_tokens_counted_from_the_top_level_usage_only(
    usage_gateway: str, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="service.gateway")
    user = {"X-API-Key": keys.user}
    completion = httpx.post(usage_gateway + "/v1/completions", json={}, headers=user)
    assert completion.content == _TEXT_WITH_USAGE  # passed through byte for byte
    embeddings = httpx.post(usage_gateway + "/v1/embeddings", json={}, headers=user)
    assert embeddings.content == _EMBEDDINGS
    metrics = httpx.get(usage_gateway + "/metrics", headers={"X-API-Key": keys.admin}).text
    assert 'gateway_tokens_total{key="user",kind="prompt"} 14.0' in metrics
    assert 'gateway_tokens_total{key="user",kind="completion"} 4.0' in metrics

    # One structured access line per forwarded request, with the key's name and never the key.
    access = [r for r in caplog.records if getattr(r, "route", None) == "/v1/embeddings"]
    assert len(access) == 1
    line = access[0].__dict__
    assert (line["status"], line["key_name"], line["prompt_tokens"]) == (200, "user", 11)
    assert access[0].getMessage() == "POST /v1/embeddings 200"
    assert all(keys.user not in str(value) for value in line.values())


@pytest.fixture
def production(upstream: Upstream, keys: Keys) -> Iterator[tuple[str, int]]:
    settings = Settings(upstream_url=upstream.url, keys_file=keys.file, access_log=False)
    with production_server(settings) as address:
        yield address


def _get(key: str) -> bytes:
    return f"GET /v1/models HTTP/1.1\r\nHost: g\r\nX-API-Key: {key}\r\n\r\n".encode()


def test_answer_head_and_body_in_one_write(production: tuple[str, int], keys: Keys) -> None:
    """The production server sends a forwarded answer's head and body in one system call,
    so a single read on loopback gets all of it."""
    with socket.create_connection(production, timeout=5) as sock:
        for _ in range(3):  # and again on the kept-alive connection
            sock.sendall(_get(keys.user))
            first = sock.recv(65536)
            head, _, body = first.partition(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))  # type: ignore[union-attr]
            assert len(body) == length
            assert json.loads(body)["data"][0]["id"] == "tiny"


def test_pipelined_forwarded_requests_answered_in_order(
    production: tuple[str, int], keys: Keys
) -> None:
    bad = _get("sk-wrong")
    with socket.create_connection(production, timeout=5) as sock:
        sock.sendall(_get(keys.user) + bad + _get(keys.user))
        reply = b""
        while reply.count(b"HTTP/1.1 ") < 3 or not reply.endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, "connection closed early"
            reply += chunk
    statuses = [int(part[:3]) for part in reply.split(b"HTTP/1.1 ")[1:]]
    assert statuses == [200, 401, 200]


def test_an_injected_upstream_pool_replaces_the_one_from_the_settings(keys: Keys) -> None:
    with serve(_usage_upstream) as upstream:
        # The settings name a port nothing listens on; the injected pool is what is used.
        settings = Settings(upstream_url="http://127.0.0.1:9", keys_file=keys.file)
        pool = UpstreamPool(upstream, connect_timeout=2, read_timeout=5, max_connections=4)
        with serve(create_app(settings, upstream=pool)) as url:
            got = httpx.get(url + "/v1/models", headers={"X-API-Key": keys.user})
    assert got.status_code == 200
    assert got.json() == {"data": [{"id": "tiny"}]}
