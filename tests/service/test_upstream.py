"""The gateway's upstream HTTP/1.1 client against scripted loopback servers, on both event loops.

The scripted server speaks raw HTTP, so each test controls the framing exactly: keep-alive,
chunked, close-delimited, cut-short and silent answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvloop

from service.upstream import (
    Aborted,
    UpstreamBroken,
    UpstreamPool,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tests.service.servers import free_port

# What the scripted server answers to one request: raw bytes, then whether to close.
Script = Callable[[bytes], Awaitable[tuple[bytes, bool]]]


@dataclass
class Scripted:
    port: int
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    closed_by_client: int = 0


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
                answer, close = await script(request)
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


def _ok(body: bytes, *extra: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" + b"".join(extra)
    return head + b"content-length: %d\r\n\r\n" % len(body) + body


def run(loop_kind: str, main: Coroutine[Any, Any, None]) -> None:
    if loop_kind == "uvloop":
        uvloop.run(main)
    else:
        asyncio.run(main)


LOOPS = pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])


def _pool(port: int, **overrides: Any) -> UpstreamPool:
    values: dict[str, Any] = {"connect_timeout": 2.0, "read_timeout": 5.0, "max_connections": 4}
    values.update(overrides)
    return UpstreamPool(f"http://127.0.0.1:{port}", **values)


@LOOPS
def test_keep_alive_reuses_one_connection_and_sends_the_request_as_given(loop_kind: str) -> None:
    async def main() -> None:
        async def script(request: bytes) -> tuple[bytes, bool]:
            return _ok(b'{"n": 1}'), False

        server, state = await _serve(script)
        async with server:
            pool = _pool(state.port)
            for _ in range(3):
                status, body = await pool.get("/v1/models")
                assert (status, body) == (200, b'{"n": 1}')
            exchange = pool.exchange(
                "POST", "/v1/completions", b"a=1", [(b"x-request-id", b"abc")], b""
            )
            await exchange.start()
            assert await exchange.read_all() == b'{"n": 1}'
            exchange.close()
            await pool.aclose()
        assert state.connections == 1
        assert state.requests[0].startswith(
            b"GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1:%d\r\n\r\n" % state.port
        )
        assert state.requests[-1] == (
            b"POST /v1/completions?a=1 HTTP/1.1\r\nhost: 127.0.0.1:%d\r\n"
            b"x-request-id: abc\r\ncontent-length: 0\r\n\r\n" % state.port
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
        async with server:
            pool = _pool(state.port)
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
        async with server:
            pool = _pool(state.port)
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
        async with server:
            pool = _pool(state.port, read_timeout=0.3)
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(UpstreamTimeout):
                await pool.get("/slow")
            assert loop.time() - start < 2

    run(loop_kind, main())


@LOOPS
def test_slow_stream_resets_the_read_timeout_on_each_chunk(loop_kind: str) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for _ in range(4):  # 4 x 0.2 s: longer than the timeout, each gap shorter
                await asyncio.sleep(0.2)
                writer.write(b"1\r\nx\r\n")
            writer.write(b"0\r\n\r\n")
            await writer.drain()

        port = free_port()
        async with await asyncio.start_server(connection, "127.0.0.1", port):
            pool = _pool(port, read_timeout=0.5)
            start = loop.time()
            assert await pool.get("/stream") == (200, b"xxxx")
            assert loop.time() - start > 0.7

    run(loop_kind, main())


@LOOPS
def test_refused_connection_is_unavailable(loop_kind: str) -> None:
    async def main() -> None:
        with pytest.raises(UpstreamUnavailable):
            await _pool(free_port()).get("/v1/models")

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
        async with server:
            with pytest.raises((UpstreamBroken, UpstreamUnavailable)):
                await _pool(state.port).get("/a")

    run(loop_kind, main())


@LOOPS
def test_abort_while_waiting_hangs_up_at_once(loop_kind: str) -> None:
    async def main() -> None:
        got_request = asyncio.Event()

        async def script(request: bytes) -> tuple[bytes, bool]:
            got_request.set()
            await asyncio.sleep(30)
            return b"", True

        server, state = await _serve(script)
        async with server:
            pool = _pool(state.port)
            exchange = pool.exchange("POST", "/v1/completions", body=b"{}")
            started = asyncio.ensure_future(exchange.start())
            await got_request.wait()
            exchange.abort()
            with pytest.raises(Aborted):
                await started
            exchange.close()
            # A new exchange gets a new connection: the aborted one is not reused.
            assert pool.idle_connection() is None

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
        async with server:
            pool = _pool(state.port, max_connections=1, read_timeout=0.3)
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
        async with server:
            pool = _pool(state.port)
            exchange = pool.exchange("GET", "/big")
            await exchange.start()
            received = bytearray()
            while chunk := await exchange.read():
                received += chunk
                await asyncio.sleep(0.001)  # a slow consumer
            exchange.close()
            assert bytes(received) == body
            assert pool.idle_connection() is not None  # read to the end: kept

    run(loop_kind, main())


def test_upstream_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="GATEWAY_UPSTREAM_URL"):
        UpstreamPool("unix:///tmp/sock", 1, 1, 1)
