"""The gateway's upstream HTTP/1.1 client against scripted loopback servers, on both event loops.

The scripted server speaks raw HTTP, so each test controls the framing exactly: keep-alive,
chunked, close-delimited, cut-short, oversized and silent answers. It records each connection and
when the client hangs up on one, so tests assert what the upstream sees, not the pool's insides.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvloop

from service.upstream import (
    MAX_ANSWER_HEADER_LINE,
    Aborted,
    UpstreamBroken,
    UpstreamPool,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tests.service.servers import free_port, serve

# What the scripted server answers to one request: raw bytes, then whether to close.
Script = Callable[[bytes], Awaitable[tuple[bytes, bool]]]


@dataclass
class Scripted:
    port: int
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    closed_by_client: int = 0  # connections the client hung up on (idle, or waiting for answer)

    async def hung_up(self, count: int = 1) -> None:
        """Wait until the client has hung up on `count` connections (bounded: a client that
        never hangs up fails the test instead of hanging it)."""
        async with asyncio.timeout(10):
            while self.closed_by_client < count:
                await asyncio.sleep(0.01)


async def _serve(script: Script) -> tuple[asyncio.Server, Scripted]:
    state = Scripted(port=free_port())

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                request = head + await reader.readexactly(length)
                state.requests.append(request)
                # While the script prepares its answer, watch for the client hanging up (it
                # sends nothing else: one request at a time).
                answering = asyncio.ensure_future(script(request))
                eof = asyncio.ensure_future(reader.read(1))
                await asyncio.wait({answering, eof}, return_when=asyncio.FIRST_COMPLETED)
                if eof.done():
                    answering.cancel()
                    raise ConnectionResetError("client hung up before the answer")
                eof.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await eof  # let the cancelled read end before the next one starts
                answer, close = answering.result()
                writer.write(answer)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            state.closed_by_client += 1
        finally:
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", state.port)
    return server, state


def _head(request: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """A request's line and its headers (names lowercased: their case carries no meaning)."""
    line, *fields = request.split(b"\r\n\r\n")[0].split(b"\r\n")
    pairs = [field.partition(b": ") for field in fields]
    return line, [(name.lower(), value) for name, _, value in pairs]


def _ok(body: bytes, *extra: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" + b"".join(extra)
    return head + b"content-length: %d\r\n\r\n" % len(body) + body


def run(loop_kind: str, main: Coroutine[Any, Any, None]) -> None:
    if loop_kind == "uvloop":
        uvloop.run(main)
    else:
        asyncio.run(main)


LOOPS = pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])


@contextlib.asynccontextmanager
async def _pool(port: int, **overrides: Any) -> AsyncIterator[UpstreamPool]:
    """A pool to 127.0.0.1:`port`, closed at the end as the app closes it at shutdown."""
    values: dict[str, Any] = {"connect_timeout": 2.0, "read_timeout": 5.0, "max_connections": 4}
    values.update(overrides)
    pool = UpstreamPool(f"http://127.0.0.1:{port}", **values)
    try:
        yield pool
    finally:
        await pool.aclose()


@LOOPS
def test_keep_alive_reuses_one_connection_and_sends_the_request_as_given(loop_kind: str) -> None:
    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            return _ok(b'{"n": 1}'), False

        server, state = await _serve(script)
        async with server, _pool(state.port) as pool:
            for _ in range(3):
                status, body = await pool.get("/v1/models")
                assert (status, body) == (200, b'{"n": 1}')
            exchange = pool.exchange(
                "POST", "/v1/completions", b"a=1", [(b"x-request-id", b"abc")], b""
            )
            await exchange.start()
            assert await exchange.read_all() == b'{"n": 1}'
            exchange.close()
        assert state.connections == 1
        host = (b"host", b"127.0.0.1:%d" % state.port)
        # Only the headers given, plus Host and Content-Length: nothing the library adds itself.
        assert _head(state.requests[0]) == (b"GET /v1/models HTTP/1.1", [host])
        line, headers = _head(state.requests[-1])
        assert line == b"POST /v1/completions?a=1 HTTP/1.1"
        assert sorted(headers) == sorted(
            [host, (b"x-request-id", b"abc"), (b"content-length", b"0")]
        )

    run(loop_kind, main())


@LOOPS
def test_chunked_and_close_delimited_answers(loop_kind: str) -> None:
    answers = [
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: t\r\n\r\n",
            False,
        ),
        (b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end", True),
        (_ok(b"fresh"), False),
    ]

    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            return answers.pop(0)

        server, state = await _serve(script)
        async with server, _pool(state.port) as pool:
            assert await pool.get("/a") == (200, b"abcde")
            assert await pool.get("/b") == (200, b"until the end")
            assert await pool.get("/c") == (200, b"fresh")  # a new connection: the last closed
        assert state.connections == 2

    run(loop_kind, main())


@LOOPS
def test_connection_close_answer_is_not_reused(loop_kind: str) -> None:
    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            return _ok(b"x", b"connection: close\r\n"), True

        server, state = await _serve(script)
        async with server, _pool(state.port) as pool:
            for _ in range(2):
                assert await pool.get("/a") == (200, b"x")
        assert state.connections == 2

    run(loop_kind, main())


@LOOPS
def test_silent_upstream_times_out_and_is_hung_up_on(loop_kind: str) -> None:
    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            await asyncio.sleep(30)
            return b"", True

        server, state = await _serve(script)
        async with server, _pool(state.port, read_timeout=0.3) as pool:
            with pytest.raises(UpstreamTimeout, match=r"no answer from upstream within 0\.3s"):
                await pool.get("/slow")
            await state.hung_up()  # the upstream stops working for nobody

    run(loop_kind, main())


@LOOPS
def test_slow_stream_resets_the_read_timeout_on_each_chunk(loop_kind: str) -> None:
    async def main() -> None:
        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for _ in range(4):  # 4 x 0.2 s: longer than the timeout, each gap shorter
                await asyncio.sleep(0.2)
                writer.write(b"1\r\nx\r\n")
            writer.write(b"0\r\n\r\n")
            await writer.drain()

        port = free_port()
        server = await asyncio.start_server(connection, "127.0.0.1", port)
        # The whole answer takes 0.8 s, longer than the timeout: it must still arrive whole.
        async with server, _pool(port, read_timeout=0.5) as pool:
            assert await pool.get("/stream") == (200, b"xxxx")

    run(loop_kind, main())


@LOOPS
def test_stream_that_stalls_mid_body_times_out(loop_kind: str) -> None:
    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            if b"/stall" in request:  # a head and one chunk, then nothing (connection open)
                return b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n", False
            return _ok(b"fine"), False

        server, state = await _serve(script)
        async with server, _pool(state.port, read_timeout=0.3) as pool:
            exchange = pool.exchange("GET", "/stall")
            await exchange.start()
            assert exchange.status == 200
            assert await exchange.read() == b"x"
            with pytest.raises(UpstreamTimeout, match=r"no answer from upstream within 0\.3s"):
                await exchange.read()
            exchange.close()
            await state.hung_up()
            assert await pool.get("/after") == (200, b"fine")
        assert state.connections == 2

    run(loop_kind, main())


@LOOPS
def test_refused_connection_is_unavailable(loop_kind: str) -> None:
    async def main() -> None:
        async with _pool(free_port()) as pool:
            with pytest.raises(UpstreamUnavailable, match="cannot connect to upstream"):
                await pool.get("/v1/models")

    run(loop_kind, main())


@pytest.mark.parametrize(
    "answer",
    [b"NOT HTTP AT ALL\r\n\r\n", _ok(b"0123456789")[:-4]],
    ids=["garbage", "cut-short"],
)
@LOOPS
def test_broken_answers(loop_kind: str, answer: bytes) -> None:
    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            return answer, True

        server, state = await _serve(script)
        async with server, _pool(state.port) as pool:
            with pytest.raises((UpstreamBroken, UpstreamUnavailable)):
                await pool.get("/a")

    run(loop_kind, main())


# How the one failing answer goes wrong, and the error the client must raise for it. Each keeps
# the connection open on the upstream's side: the client has to give it up by itself.
FAILURES = {
    "garbage": (b"NOT HTTP AT ALL\r\n\r\n", UpstreamBroken),
    "header-only-no-status": (b"content-length: 2\r\n\r\nok", UpstreamBroken),
    "silent": (b"", UpstreamTimeout),
}


@pytest.mark.parametrize("failure", FAILURES)
@LOOPS
def test_a_failed_answer_does_not_poison_the_pool(loop_kind: str, failure: str) -> None:
    answer, error = FAILURES[failure]

    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            if b"/fail" not in request:
                return _ok(b"fine"), False
            if not answer:
                await asyncio.sleep(30)
            return answer, False

        server, state = await _serve(script)
        async with server, _pool(state.port, read_timeout=0.3) as pool:
            assert await pool.get("/before") == (200, b"fine")  # connection 1, kept alive
            with pytest.raises(error):
                await pool.get("/fail")  # on connection 1
            await state.hung_up()  # the client gave connection 1 up
            for _ in range(3):
                assert await pool.get("/after") == (200, b"fine")
        # The requests after the failure shared one fresh connection: it is kept alive as usual.
        assert state.connections == 2
        assert len(state.requests) == 5

    run(loop_kind, main())


@pytest.mark.parametrize(
    "cut",
    [
        _ok(b"0123456789")[:-4],  # Content-Length says 10, 6 bytes come
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nab",
    ],
    ids=["content-length", "chunked"],
)
@LOOPS
def test_upstream_closing_mid_body_is_broken(loop_kind: str, cut: bytes) -> None:
    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            if b"/cut" in request:
                return cut, True  # then closes: the answer ends early
            return _ok(b"fine"), False

        server, state = await _serve(script)
        async with server, _pool(state.port) as pool:
            exchange = pool.exchange("GET", "/cut")
            await exchange.start()
            assert exchange.status == 200  # the head came whole: the body is what broke
            with pytest.raises(UpstreamBroken, match="cut short"):
                await exchange.read_all()
            exchange.close()
            assert await pool.get("/next") == (200, b"fine")
            assert await pool.get("/next") == (200, b"fine")
        assert state.connections == 2

    run(loop_kind, main())


@LOOPS
def test_oversized_answer_headers_are_refused_not_waited_for(loop_kind: str) -> None:
    big = b"x-big: " + b"a" * (4 * MAX_ANSWER_HEADER_LINE) + b"\r\n"
    near = b"x-near: " + b"a" * (MAX_ANSWER_HEADER_LINE - 100) + b"\r\n"

    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            if b"/big" in request:  # the connection stays open: a client waiting would hang
                return b"HTTP/1.1 200 OK\r\n" + big + b"content-length: 2\r\n\r\nok", False
            return _ok(b"fine", near), False

        server, state = await _serve(script)
        # A read timeout far beyond the test's own bound: only a refusal can end the first get.
        async with server, _pool(state.port, read_timeout=300) as pool:
            with pytest.raises(UpstreamBroken, match=f"header line over {MAX_ANSWER_HEADER_LINE}"):
                await pool.get("/big")
            await state.hung_up()
            status, body = await pool.get("/near")  # a long header under the limit is fine
        assert (status, body) == (200, b"fine")
        assert state.connections == 2

    run(loop_kind, main())


@LOOPS
def test_abort_while_waiting_hangs_up_at_once(loop_kind: str) -> None:
    async def main() -> None:
        got_request = asyncio.Event()

        async def script(request: bytes) -> tuple[bytes, bool]:
            if b"/v1/completions" in request:
                got_request.set()
                await asyncio.sleep(30)
            return _ok(b"fine"), False

        server, state = await _serve(script)
        async with server, _pool(state.port) as pool:
            exchange = pool.exchange("POST", "/v1/completions", body=b"{}")
            started = asyncio.ensure_future(exchange.start())
            await got_request.wait()
            exchange.abort()
            with pytest.raises(Aborted):
                await started
            exchange.close()
            await state.hung_up()  # the upstream sees the gateway hang up
            assert await pool.get("/v1/models") == (200, b"fine")
        assert state.connections == 2  # the aborted connection was not reused

    run(loop_kind, main())


@LOOPS
def test_abort_mid_stream_hangs_up_and_the_next_read_raises(loop_kind: str) -> None:
    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            if b"/stream" in request:  # one chunk, then the stream goes on (connection open)
                return b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n", False
            return _ok(b"fine"), False

        server, state = await _serve(script)
        async with server, _pool(state.port) as pool:
            exchange = pool.exchange("POST", "/stream", body=b"{}")
            await exchange.start()
            assert await exchange.read() == b"x"
            reading = asyncio.ensure_future(exchange.read())  # waits for a chunk that never comes
            await asyncio.sleep(0)
            exchange.abort()
            with pytest.raises(Aborted):
                await reading
            with pytest.raises(Aborted):
                await exchange.read()
            exchange.close()
            await state.hung_up()
            assert await pool.get("/v1/models") == (200, b"fine")
        assert state.connections == 2

    run(loop_kind, main())


@LOOPS
def test_pool_limit_queues_then_times_out(loop_kind: str) -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def script(request: bytes) -> tuple[bytes, bool]:
            if b"/hold" in request:
                await release.wait()
            return _ok(b"done"), False

        server, state = await _serve(script)
        async with server, _pool(state.port, max_connections=1, read_timeout=0.3) as pool:
            holding = asyncio.ensure_future(pool.get("/hold", timeout=5))
            await asyncio.sleep(0.05)
            with pytest.raises(UpstreamTimeout, match="no free upstream connection"):
                await pool.get("/queued")  # waits for the only slot, which stays taken
            release.set()
            assert await holding == (200, b"done")
            waiting = asyncio.ensure_future(pool.get("/after"))
            assert await waiting == (200, b"done")  # the slot came back
        assert state.connections == 1

    run(loop_kind, main())


@LOOPS
def test_large_answer_read_with_backpressure(loop_kind: str) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB: well over the pause threshold

    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            return _ok(body), False

        server, state = await _serve(script)
        async with server, _pool(state.port) as pool:
            exchange = pool.exchange("GET", "/big")
            await exchange.start()
            received = bytearray()
            while chunk := await exchange.read():
                received += chunk
                await asyncio.sleep(0.001)  # a slow consumer
            exchange.close()
            assert bytes(received) == body
            assert await pool.get("/again") == (200, body)
        assert state.connections == 1  # read to the end: the connection was kept and reused

    run(loop_kind, main())


async def _models(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"models"})


def test_pool_stays_usable_on_a_new_event_loop() -> None:
    """The app may be restarted on a new loop (tests do): the same pool must work there, whether
    or not it was closed on the old one."""
    with serve(_models) as url:
        pool = UpstreamPool(url, connect_timeout=2, read_timeout=5, max_connections=2)

        async def get() -> tuple[int, bytes]:
            return await pool.get("/v1/models")

        async def get_and_close() -> tuple[int, bytes]:
            try:
                return await get()
            finally:
                await pool.aclose()

        assert asyncio.run(get()) == (200, b"models")  # left open: its loop ends under it
        assert uvloop.run(get_and_close()) == (200, b"models")
        assert asyncio.run(get_and_close()) == (200, b"models")


def test_upstream_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="GATEWAY_UPSTREAM_URL"):
        UpstreamPool("unix:///tmp/sock", 1, 1, 1)


@LOOPS
def test_cookies_from_answers_are_never_sent_back(loop_kind: str) -> None:
    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            return _ok(b"x", b"set-cookie: session=one-clients; Path=/\r\n"), False

        server, state = await _serve(script)
        # By name, not IP: cookie jars refuse cookies from IP hosts, which would hide a jar.
        pool = UpstreamPool(f"http://localhost:{state.port}", 2.0, 5.0, 4)
        async with server:
            for _ in range(2):
                assert await pool.get("/v1/models") == (200, b"x")
            await pool.aclose()
        assert [name for name, _ in _head(state.requests[-1])[1]] == [b"host"]

    run(loop_kind, main())
