"""The shared poster: what is retried, how long it waits, and what it never says."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from notifier.sinks._http import HttpPoster, HttpSettings, register_secret, retry_after_s
from notifier.sinks.base import SinkRejected, SinkUnavailable
from tests.fakes.http import RecordingServer, Request, Response
from tests.notifier.sinks.conftest import Logs
from tests.procs import free_port

SECRET_PATH = "/services/T000/B000/s3cr3tPathValue"


class Ok(RecordingServer):
    def respond(self, request: Request) -> Response:
        return Response(200, b"ok")


@pytest.fixture
def server() -> Iterator[Ok]:
    s = Ok()
    s.start()
    yield s
    s.stop()


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def poster(deadline_s: float = 30.0, attempts: int = 5, **kw: object) -> HttpPoster:
    http = HttpSettings(
        sink_http_attempts=attempts,
        sink_http_timeout_s=float(kw.pop("timeout_s", 5.0)),  # type: ignore[arg-type]
        sink_http_backoff_s=0.01,
        sink_http_max_backoff_s=0.05,
    )
    return HttpPoster("slack", deadline_s=deadline_s, http=http, **kw)  # type: ignore[arg-type]


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert retry_after_s("7") == 7.0
    assert retry_after_s(" 1.5 ") == 1.5
    assert retry_after_s(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert retry_after_s(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert retry_after_s("soon") is None
    assert retry_after_s(None) is None


def test_503_then_success(server: Ok) -> None:
    server.faults.append(Response(503, b"busy"))
    response = poster().request("POST", server.url + "/x", json={"a": 1})
    assert response.status_code == 200
    assert len(server.requests) == 2


def test_429_waits_retry_after_seconds(server: Ok) -> None:
    server.faults.append(Response(429, b"slow down", {"Retry-After": "3"}))
    sleeps = Sleeps()
    poster(sleep=sleeps).request("POST", server.url + "/x")
    assert sleeps.calls == [3.0]
    assert len(server.requests) == 2


def test_429_waits_retry_after_http_date(server: Ok) -> None:
    when = datetime.now(UTC) + timedelta(seconds=20)
    server.faults.append(Response(429, b"", {"Retry-After": format_datetime(when, usegmt=True)}))
    sleeps = Sleeps()
    poster(sleep=sleeps).request("POST", server.url + "/x")
    assert len(sleeps.calls) == 1
    assert 17 <= sleeps.calls[0] <= 20


def test_429_really_waits(server: Ok) -> None:
    server.faults.append(Response(429, b"", {"Retry-After": "1"}))
    started = time.monotonic()
    poster().request("POST", server.url + "/x")
    assert time.monotonic() - started >= 1.0
    assert len(server.requests) == 2


def test_retry_after_past_the_deadline_gives_up_at_once(server: Ok) -> None:
    server.faults.append(Response(429, b"", {"Retry-After": "120"}))
    sleeps = Sleeps()
    with pytest.raises(SinkUnavailable, match="past this send's 30 s deadline") as info:
        poster(sleep=sleeps).request("POST", server.url + SECRET_PATH)
    assert sleeps.calls == []
    assert len(server.requests) == 1
    assert "SLACK_DEADLINE_S" in str(info.value)


def test_400_is_not_retried_and_names_sink_and_status(server: Ok) -> None:
    server.faults.append(Response(400, b"invalid_blocks"))
    with pytest.raises(SinkRejected) as info:
        poster().request("POST", server.url + SECRET_PATH)
    message = str(info.value)
    assert len(server.requests) == 1
    assert message.startswith("slack: POST http://127.0.0.1:")
    assert "400" in message and "invalid_blocks" in message
    assert "s3cr3t" not in message and "/services/" not in message


@pytest.mark.parametrize("status", [401, 403, 404, 410, 422])
def test_other_4xx_are_permanent(server: Ok, status: int) -> None:
    server.faults.append(Response(status, b"{}"))
    with pytest.raises(SinkRejected, match=str(status)):
        poster().request("POST", server.url + "/x")
    assert len(server.requests) == 1


def test_5xx_until_attempts_run_out(server: Ok) -> None:
    for _ in range(3):
        server.faults.append(Response(502, b""))
    with pytest.raises(SinkUnavailable, match=r"after 3 attempts.*answered 502"):
        poster(attempts=3).request("POST", server.url + "/x")
    assert len(server.requests) == 3


def test_timeouts_are_retried(server: Ok) -> None:
    def slow() -> Iterator[bytes]:
        time.sleep(1.0)
        yield b"ok"

    server.faults.append(Response(200, slow(), length=2))
    response = poster(timeout_s=0.3).request("POST", server.url + "/x")
    assert response.status_code == 200
    assert len(server.requests) == 2


def test_connection_refused_is_transient() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(SinkUnavailable, match="connection failed"):
        poster(attempts=2).request("POST", url)


def test_deadline_bounds_the_whole_send(server: Ok) -> None:
    for _ in range(1000):
        server.faults.append(Response(503, b""))
    started = time.monotonic()
    with pytest.raises(SinkUnavailable):
        poster(deadline_s=0.5, attempts=1000).request("POST", server.url + "/x")
    assert time.monotonic() - started < 2.0


def test_accepted_statuses_are_returned(server: Ok) -> None:
    server.faults.append(Response(404, b"{}"))
    assert poster().request("GET", server.url + "/x", accept=[404]).status_code == 404


def test_registered_secrets_never_reach_httpx_logs(server: Ok, logs: Logs) -> None:
    url = server.url + SECRET_PATH
    register_secret(url)
    poster().request("POST", url)
    text = logs.text()
    assert "HTTP Request: POST" in text  # httpx did log the request...
    assert "s3cr3tPathValue" not in text  # ...without the secret path
    assert any(r.name == "httpx" for r in logs.records)


def test_httpx_client_is_injectable(server: Ok) -> None:
    client = httpx.Client(headers={"X-Test": "1"})
    poster(client=client).request("POST", server.url + "/x")
    assert server.requests[0].headers.get("X-Test") == "1"
    logging.getLogger(__name__).debug("done")
