"""Hand-written hostile input against the gateway in its production server configuration.

Raw sockets on 127.0.0.1, so nothing is normalised by a client: request smuggling, hop-by-hop
tricks, oversized and trickling requests, path traversal towards vLLM's internal routes, and keys
with Unicode or whitespace. The upstream reflects what it receives and records every path.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from service import create_app
from service.keys import KeySetError, parse_key_set
from tests.service.hardening.conftest import (
    Planted,
    Upstream,
    assert_no_leak,
    gateway_settings,
    production_server,
)
from tests.service.hardening.rawhttp import exchange, read_reply, trickle
from tests.service.hardening.upstreams import ALLOWED

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

BODY_TIMEOUT = 2.0
HEADER_TIMEOUT = 2.0
MAX_BODY = 10_000


@pytest.fixture(scope="module")
def server(reflecting: Upstream, planted: Planted) -> Iterator[tuple[str, int]]:
    settings = gateway_settings(
        reflecting,
        planted,
        body_timeout=BODY_TIMEOUT,
        header_timeout=HEADER_TIMEOUT,
        max_body_bytes=MAX_BODY,
        max_header_bytes=16_384,
    )
    with production_server(settings) as address:
        yield address


@pytest.fixture(autouse=True)
def nothing_internal_reached(reflecting: Upstream) -> Iterator[None]:
    yield
    for request in reflecting.seen.forwarded():
        assert request["path"] in ALLOWED, request
        assert request["raw_path"] in ALLOWED, request
        names = {name for name, _ in request["headers"]}
        assert not names & {"x-api-key", "authorization"}, request


def request(
    method: str, target: str, key: str | None = None, body: bytes = b"", extra: str = ""
) -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: gateway\r\n"
    if key is not None:
        head += f"X-API-Key: {key}\r\n"
    if body or method == "POST":
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + extra + "\r\n").encode("latin-1") + body


# --- request smuggling and hop-by-hop headers -------------------------------------------------

SMUGGLED = b"GET /tokenize HTTP/1.1\r\nHost: gateway\r\n\r\n"


def _post(headers: str, body: bytes) -> bytes:
    return b"POST /v1/completions HTTP/1.1\r\nHost: gateway\r\n" + headers.encode() + b"\r\n" + body


@pytest.mark.parametrize(
    "make",
    [
        # CL.TE and TE.CL: both framings in one request
        lambda k: _post(
            f"X-API-Key: {k}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n",
            b"0\r\n\r\n" + SMUGGLED,
        ),
        lambda k: _post(
            f"X-API-Key: {k}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n",
            b"2\r\n{}\r\n0\r\n\r\n" + SMUGGLED,
        ),
        # conflicting and duplicate Content-Length
        lambda k: _post(f"X-API-Key: {k}\r\nContent-Length: 2\r\nContent-Length: 44\r\n", b"{}"),
        lambda k: _post(f"X-API-Key: {k}\r\nContent-Length: 2, 44\r\n", b"{}" + SMUGGLED),
        lambda k: _post(f"X-API-Key: {k}\r\nContent-Length: +2\r\n", b"{}"),
        lambda k: _post(f"X-API-Key: {k}\r\nContent-Length: 0x2\r\n", b"{}"),
        lambda k: _post(f"X-API-Key: {k}\r\nContent-Length: \xb2\r\n", b"{}"),
        # obfuscated Transfer-Encoding
        lambda k: _post(f"X-API-Key: {k}\r\nTransfer-Encoding: xchunked\r\n", b"0\r\n\r\n"),
        lambda k: _post(f"X-API-Key: {k}\r\nTransfer-Encoding : chunked\r\n", b"0\r\n\r\n"),
        lambda k: _post(
            f"X-API-Key: {k}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
            b"0\r\n\r\n" + SMUGGLED,
        ),
        lambda k: _post(
            f"X-API-Key: {k}\r\nTransfer-Encoding:\tchunked, identity\r\n", b"0\r\n\r\n"
        ),
        # CR/LF/NUL inside header values, obsolete line folding
        lambda k: _post(
            f"X-API-Key: {k}\r\nX-Foo: a\rX-Injected: 1\r\nContent-Length: 2\r\n", b"{}"
        ),
        lambda k: _post(
            f"X-API-Key: {k}\r\nX-Foo: a\nX-Injected: 1\r\nContent-Length: 2\r\n", b"{}"
        ),
        lambda k: _post(f"X-API-Key: {k}\r\nX-Foo: a\x00b\r\nContent-Length: 2\r\n", b"{}"),
        lambda k: _post(f"X-API-Key: {k}\r\nX-Foo: a\r\n b\r\nContent-Length: 2\r\n", b"{}"),
        lambda k: _post(f"X-API-Key: {k}\n Content-Length: 2\r\n", b"{}"),
    ],
    ids=[
        "cl-te",
        "te-cl",
        "dup-cl",
        "cl-list",
        "cl-plus",
        "cl-hex",
        "cl-superscript",
        "te-xchunked",
        "te-space-colon",
        "te-dup",
        "te-list",
        "cr-in-value",
        "lf-in-value",
        "nul-in-value",
        "obs-fold",
        "lf-fold",
    ],
)
def test_smuggling_refused(
    server: tuple[str, int], planted: Planted, reflecting: Upstream, make: object
) -> None:
    before = len(reflecting.seen.requests)
    reply = exchange(*server, make(planted.user), wait=2)  # type: ignore[operator]
    # Either refused outright, or (one unambiguous framing) answered once; never a second
    # request from the body, and never a 5xx.
    assert reply.statuses in ([400], [200], [413], []) or reply.statuses[0] == 400, reply.raw
    assert all(s < 500 for s in reply.statuses)
    if reply.statuses == [400]:
        assert reply.closed
        assert len(reflecting.seen.requests) == before
    assert "/tokenize" not in reflecting.seen.paths()


def test_pipelined_internal_route_not_forwarded(
    server: tuple[str, int], planted: Planted, reflecting: Upstream
) -> None:
    data = request("GET", "/v1/models", planted.user) + request("POST", "/tokenize", planted.admin)
    reply = exchange(*server, data, wait=2)
    assert reply.statuses == [200, 404]


@pytest.mark.parametrize(
    ("connection", "dropped"),
    [
        ("X-API-Key", "x-api-key"),
        ("Authorization", "authorization"),
        ("close, X-Request-Id", "x-request-id"),
        ("keep-alive, x-custom", "x-custom"),
    ],
)
def test_connection_listed_headers_not_forwarded(
    server: tuple[str, int], planted: Planted, reflecting: Upstream, connection: str, dropped: str
) -> None:
    extra = (
        f"Connection: {connection}\r\nX-Request-Id: r1\r\nX-Custom: c\r\nKeep-Alive: timeout=9\r\n"
        "TE: trailers\r\nTrailer: X-T\r\nProxy-Authorization: Basic eA==\r\nUpgrade: h2c\r\n"
        "Proxy-Connection: keep-alive\r\nExpect: 100-continue\r\n"
    )
    reply = exchange(*server, request("POST", "/v1/completions", planted.user, b"{}", extra), 2)
    assert reply.status == 200, reply.raw
    seen = {name for name, _ in reflecting.seen.forwarded()[-1]["headers"]}
    hop = {"keep-alive", "te", "trailer", "proxy-authorization", "upgrade", "proxy-connection"}
    assert not seen & (hop | {dropped, "expect", "x-api-key", "authorization"})
    # What the upstream answered as hop-by-hop (`Connection: x-hop`) is not passed back either.
    assert reply.header("x-hop") is None
    assert reply.header("x-upstream") == "yes"
    assert_no_leak(planted, reply.raw, [])


def test_websocket_upgrade_refused(
    server: tuple[str, int], planted: Planted, reflecting: Upstream
) -> None:
    extra = (
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
    before = len(reflecting.seen.requests)
    reply = exchange(*server, request("GET", "/v1/models", planted.user, extra=extra), 2)
    assert reply.status != 101 and (reply.status or 0) < 500, reply.raw
    assert len(reflecting.seen.requests) in (before, before + 1)


# --- oversized and trickling requests ----------------------------------------------------------


def test_declared_oversized_body_refused_before_it_is_sent(
    server: tuple[str, int], planted: Planted
) -> None:
    head = (
        f"POST /v1/completions HTTP/1.1\r\nHost: g\r\nX-API-Key: {planted.user}\r\n"
        f"Content-Length: {10**12}\r\n\r\n"
    )
    reply = exchange(*server, head.encode(), wait=2)
    assert reply.status == 413
    assert json.loads(reply.body)["error"]["code"] == "request_too_large"
    assert reply.closed, "the connection stays open for a body that will never be read"


def test_chunked_oversized_body_refused(server: tuple[str, int], planted: Planted) -> None:
    chunk = b"x" * 4096
    head = (
        f"POST /v1/completions HTTP/1.1\r\nHost: g\r\nX-API-Key: {planted.user}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(head)
        for _ in range(4):  # 16 KiB > the 10 kB limit
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        reply = read_reply(sock, 2)
    assert reply.status == 413
    assert reply.closed


def test_body_at_the_limit_accepted(server: tuple[str, int], planted: Planted) -> None:
    body = json.dumps({"prompt": "x" * (MAX_BODY - 20)}).encode()
    body += b" " * (MAX_BODY - len(body))
    reply = exchange(*server, request("POST", "/v1/completions", planted.user, body), 3)
    assert reply.status == 200, reply.raw[:300]


def test_unauthenticated_body_not_drained(server: tuple[str, int]) -> None:
    """A 401 comes before the body is read: the connection must close, not swallow the body."""
    head = b"POST /v1/completions HTTP/1.1\r\nHost: g\r\nContent-Length: 100000000\r\n\r\n"
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(head + b"x" * 1000)
        reply = read_reply(sock, 2)
    assert reply.status == 401
    assert reply.header("connection") == "close"
    assert reply.closed


def test_slow_loris_body_gets_408(server: tuple[str, int], planted: Planted) -> None:
    head = (
        f"POST /v1/completions HTTP/1.1\r\nHost: g\r\nX-API-Key: {planted.user}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(head)
        seconds, reacted = trickle(sock, b"{" + b" " * 99, interval=0.5, limit=10)
        reply = read_reply(sock, 2)
    assert reacted, "a body sent a byte at a time held the gateway for 10 s"
    assert BODY_TIMEOUT - 0.5 <= seconds <= BODY_TIMEOUT + 2
    assert reply.status == 408
    assert json.loads(reply.body)["error"]["code"] == "request_timeout"
    assert reply.closed


def test_slow_loris_headers_cut_off(server: tuple[str, int], planted: Planted) -> None:
    data = request("GET", "/v1/models", planted.user)
    with socket.create_connection(server, timeout=5) as sock:
        seconds, reacted = trickle(sock, data, interval=0.25, limit=10)
        reply = read_reply(sock, 2)
    assert reacted, "headers sent a byte at a time held the gateway for 10 s"
    assert seconds <= HEADER_TIMEOUT + 2
    assert reply.status == 408
    assert reply.closed


def test_idle_connection_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as sock:
        start = time.monotonic()
        reply = read_reply(sock, HEADER_TIMEOUT + 3)
    assert reply.closed
    assert time.monotonic() - start <= HEADER_TIMEOUT + 2


def test_endless_headers_refused(server: tuple[str, int], planted: Planted) -> None:
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(f"GET /v1/models HTTP/1.1\r\nX-API-Key: {planted.user}\r\n".encode())
        try:
            for i in range(200):  # 200 x 1 kB, well over the 16 kB limit
                sock.sendall(f"X-Pad-{i}: {'p' * 1000}\r\n".encode())
        except OSError:
            pass  # closed by the server mid-way: what we want
        reply = read_reply(sock, 2)
    assert reply.status in (431, None)
    assert reply.closed


def test_keep_alive_still_works(server: tuple[str, int], planted: Planted) -> None:
    """The deadlines must not break ordinary keep-alive use: three requests, one connection."""
    with socket.create_connection(server, timeout=5) as sock:
        for _ in range(3):
            sock.sendall(request("POST", "/v1/completions", planted.user, b"{}"))
            received = b""
            while b'"object": "echo"' not in received:
                chunk = sock.recv(65536)
                assert chunk, "connection closed between keep-alive requests"
                received += chunk
            assert received.startswith(b"HTTP/1.1 200")
            time.sleep(0.3)


def test_keep_alive_outlasts_a_clients_idle_timeout(
    server: tuple[str, int], planted: Planted
) -> None:
    """A client reuses a connection idle for up to its own expiry (httpx: 5 s): the gateway
    must not be closing it then, or the request sent on it is reset."""
    with socket.create_connection(server, timeout=5) as sock:
        for pause in (5.5, 0):
            sock.sendall(request("GET", "/v1/models", planted.user))
            reply = read_reply(sock, 3)
            assert reply.status == 200 and not reply.closed
            time.sleep(pause)


# --- path traversal towards vLLM's internal routes ---------------------------------------------

TRAVERSALS = [
    "/tokenize",
    "/detokenize",
    "/pause",
    "/invocations",
    "/update_weights",
    "/v1/load_lora_adapter",
    "/v1/../tokenize",
    "/v1/%2e%2e/tokenize",
    "/v1/%2E%2E/tokenize",
    "/v1/.%2e/tokenize",
    "/v1/%252e%252e/tokenize",
    "//tokenize",
    "///tokenize",
    "/./tokenize",
    "/%2e/tokenize",
    "/v1/models/../../metrics",
    "/v1/models/..%2f..%2fmetrics",
    "/v1/models%2f..%2f..%2fpause",
    "/v1/completions%2F..%2F..%2Ftokenize",
    "/v1/completions%252F..%252F..%252Ftokenize",
    "/%2Ftokenize",
    "/%2F%2Ftokenize",
    "/v1\\..\\tokenize",
    "/v1/completions\\..\\..\\tokenize",
    "/v1/%5c..%5ctokenize",
    "/v1/completions;/../../tokenize",
    "/tokenize;/v1/completions",
    "/v1/completions/..;/..;/tokenize",
    "/v1/completions;jsessionid=1",
    "/V1/COMPLETIONS",
    "/V1/Chat/Completions",
    "/TOKENIZE",
    "/Tokenize",
    "/v1/completions/",
    "/v1/completions/.",
    "/v1/completions%00",
    "/v1/completions%00/../../tokenize",
    "/v1/%EF%BC%8E%EF%BC%8E/tokenize",
    "/v1/completions%23/../../tokenize",
    "/v1/completions%3f/../../tokenize",
    "/v1/models/%2e%2e/%2e%2e/metrics",
    "/v1/models/tiny%2f..%2f..%2ftokenize",
    "http://127.0.0.1/tokenize",
    "http://127.0.0.1:8000/v1/../tokenize",
    "*",
]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_never_reaches_internal_routes(
    server: tuple[str, int], planted: Planted, reflecting: Upstream, method: str, target: str
) -> None:
    before = len(reflecting.seen.requests)
    body = b'{"model": "tiny", "prompt": "a"}' if method == "POST" else b""
    reply = exchange(*server, request(method, target, planted.admin, body), wait=2)
    assert reply.status is not None and reply.status < 500, reply.raw[:300]
    assert reply.status in (400, 404, 405), (target, reply.raw[:300])
    if reply.status != 400:
        assert json.loads(reply.body)["error"]["code"] in (
            "not_found",
            "model_not_found",
            "method_not_allowed",
        )
    for seen in reflecting.seen.requests[before:]:  # a model lookup asks /v1/models only
        assert seen["raw_path"] == "/v1/models", seen


def test_encoded_allowlisted_path_goes_to_its_constant_path(
    server: tuple[str, int], planted: Planted, reflecting: Upstream
) -> None:
    reply = exchange(
        *server, request("POST", "/v1/%63ompletions?a=/../tokenize", planted.user, b"{}"), 2
    )
    assert reply.status == 200
    seen = reflecting.seen.forwarded()[-1]
    assert (seen["raw_path"], seen["query"]) == ("/v1/completions", "a=/../tokenize")


# --- keys with Unicode or whitespace ------------------------------------------------------------


def _key_request(header: bytes) -> bytes:
    return b"GET /v1/models HTTP/1.1\r\nHost: g\r\n" + header + b"\r\n\r\n"


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (b"X-API-Key: {k}", 200),
        (b"X-API-Key:    \t{k} \t ", 200),  # optional whitespace is not part of the value
        (b"Authorization: Bearer {k}", 200),
        (b"Authorization: bearer {k}", 200),
        (b"Authorization: BEARER   {k}  ", 200),
        (b"X-API-Key:\r\nAuthorization: Bearer {k}", 200),  # empty X-API-Key: Bearer counts
        (b"Authorization: Bearer\t{k}", 401),
        (b"Authorization: Basic {k}", 401),
        (b"Authorization: {k}", 401),
        (b"X-API-Key: {k}\xc2\xa0", 401),  # a no-break space is part of the key
        (b"X-API-Key: \xc2\xa0{k}", 401),
        (b"X-API-Key: {k}\xe2\x80\x8b", 401),  # zero-width space
        (b"X-API-Key: \xef\xbb\xbf{k}", 401),  # byte-order mark
        (b"X-API-Key: {k}\xa0", 401),  # latin-1 no-break space (not UTF-8)
        (b"X-API-Key: {k}\x85", 401),  # latin-1 NEL
        (b"X-API-Key: {K}", 401),  # case changed
        (b"X-API-Key: {k} {k}", 401),
        (b"X-API-Key: {k},{k}", 401),
        (b"X-API-Key: sk-\xff\xfe\xfd", 401),  # not UTF-8
        (b"X-API-Key: sk-\xe4\xbd\xa0\xe5\xa5\xbd\xf0\x9f\x94\x91", 401),
        (b"X-API-Key: \xd9\xa1\xd9\xa2\xe2\x80\xae{k}", 401),  # Arabic digits, RTL override
        (b"X-API-Key: " + b"x" * 8000, 401),
        (b"X-API-Key: {k}\x00", 400),  # NUL: refused by the HTTP parser
        (b"X-API-Key: {k}\x7f", 400),
    ],
)
def test_keys_with_unicode_or_whitespace(
    server: tuple[str, int], planted: Planted, header: bytes, status: int
) -> None:
    header = header.replace(b"{k}", planted.user.encode()).replace(
        b"{K}", planted.user.swapcase().encode()
    )
    reply = exchange(*server, _key_request(header), wait=2)
    assert reply.status == status, reply.raw[:300]
    assert_no_leak(planted, reply.raw, [])


def test_non_ascii_key_in_plain_mapping_works(reflecting: Upstream, tmp_path: object) -> None:
    """A plain-mapping key with non-ASCII characters: the client sends it as UTF-8 bytes."""
    key = "sk-clé-ünïcödé-✓-ключ"
    settings = gateway_settings(
        reflecting,
        Planted("", "", "", (), tmp_path),  # type: ignore[arg-type]
        keys_file=None,
        keys_json=json.dumps({"intl": key}),
    )
    with production_server(settings) as address:
        ok = exchange(*address, _key_request(b"X-API-Key: " + key.encode()), wait=2)
        bearer = exchange(*address, _key_request(b"Authorization: Bearer " + key.encode()), 2)
        latin = exchange(*address, _key_request(b"X-API-Key: " + key.encode("utf-8")[:-1]), 2)
    assert (ok.status, bearer.status, latin.status) == (200, 200, 401)


@pytest.mark.parametrize("bad", ["", " sk-lead", "sk-trail ", "sk-\tx\n", "sk-\x00"])
def test_unsendable_plain_keys_refused_at_load(bad: str) -> None:
    with pytest.raises(KeySetError, match="no client could send it"):
        parse_key_set(json.dumps({"name": bad}))


# --- responses the router produces by itself; lifespan restarts ---------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"OPTIONS * HTTP/1.1\r\nHost: g\r\n\r\n",
        b"PROPFIND /v1/models HTTP/1.1\r\nHost: g\r\n\r\n",
        b"TRACE /v1/models HTTP/1.1\r\nHost: g\r\n\r\n",
    ],
)
def test_router_errors_in_openai_shape(server: tuple[str, int], raw: bytes) -> None:
    reply = exchange(*server, raw, wait=2)
    assert reply.status in (404, 405)
    assert set(json.loads(reply.body)["error"]) >= {"message", "type", "code"}


def test_app_survives_a_second_lifespan(reflecting: Upstream, planted: Planted) -> None:
    app = create_app(gateway_settings(reflecting, planted))
    for _ in range(2):
        with TestClient(app) as client:
            response = client.get("/v1/models/tiny", headers={"X-API-Key": planted.user})
            assert response.status_code == 200, response.text
            assert client.get("/health").status_code == 200


# --- a client that leaves while upstream is still working ----------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_client_leaving_before_the_answer_hangs_up_upstream(
    server: tuple[str, int], planted: Planted, reflecting: Upstream, stream: bool
) -> None:
    """A non-streamed answer (or a stream whose headers have not come yet) takes long: when
    the client leaves, upstream must be told at once, or the model keeps working for nobody."""
    seen = reflecting.seen
    held, hangups = seen.held, seen.hangups
    body = json.dumps({"hold": 30, "stream": stream}).encode()
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(request("POST", "/v1/chat/completions", planted.user, body))
        deadline = time.monotonic() + 5
        while seen.held == held:
            assert time.monotonic() < deadline, "upstream never got the request"
            time.sleep(0.02)
    deadline = time.monotonic() + 2
    while seen.hangups == hangups:
        assert time.monotonic() < deadline, "upstream still working 2 s after the client left"
        time.sleep(0.02)


def test_httpx_client_sees_no_key_in_any_header(server: tuple[str, int], planted: Planted) -> None:
    host, port = server
    with httpx.Client(base_url=f"http://{host}:{port}") as client:
        for path in ("/v1/models", "/v1/models/tiny", "/metrics", "/health", "/nope"):
            response = client.get(path, headers={"X-API-Key": planted.admin})
            assert_no_leak(planted, response.content, list(response.headers.items()))
