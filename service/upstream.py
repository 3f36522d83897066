"""A lean HTTP/1.1 client for the one upstream the gateway forwards to, with a keep-alive pool.

Why not httpx here: on the forwarding path httpx/httpcore (h11 in pure Python, anyio checkpoints,
a request written in several syscalls) cost about 1.3 ms of CPU per request on the 2-core
benchmark machine, more than the gateway's whole overhead budget. This client writes each request
in one syscall, parses answers with httptools (C; the parser uvicorn already uses) and does
nothing else: one fixed upstream, no redirects, cookies, auth, proxies or decompression.

Timeouts follow httpx's meaning: `connect_timeout` to open a connection; `read_timeout` for each
wait on the upstream (an answer's head, or its next bytes) and for a free pool slot.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Protocol, cast
from urllib.parse import urlsplit

import httptools

__all__ = [
    "Aborted",
    "Exchange",
    "Upstream",
    "UpstreamBroken",
    "UpstreamError",
    "UpstreamExchange",
    "UpstreamPool",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]

# Above this many buffered answer bytes, stop reading the socket until the consumer catches up:
# a slow client then slows the upstream (TCP backpressure) instead of growing the gateway's memory.
_HIGH_WATER = 256 * 1024


class UpstreamError(Exception):
    """The upstream exchange failed; the subclass says how."""


class UpstreamTimeout(UpstreamError):
    pass


class UpstreamUnavailable(UpstreamError):
    """No answer at all: cannot connect, or the connection dropped before the answer began."""


class UpstreamBroken(UpstreamError):
    """The answer began but was cut short or is not valid HTTP."""


class Aborted(UpstreamError):
    """The gateway hung up itself (its client left)."""


class UpstreamExchange(Protocol):
    """What the proxy needs of one exchange (`Exchange` is the one the gateway ships)."""

    status: int
    headers: list[tuple[bytes, bytes]]

    async def start(self) -> None: ...
    async def read(self) -> bytes: ...
    async def read_all(self) -> bytes: ...
    def abort(self) -> None: ...
    def close(self) -> None: ...


class Upstream(Protocol):
    """What the gateway needs of its upstream client (`UpstreamPool`; the bench compares others
    through this seam). Failures raise the `UpstreamError` subclasses above."""

    read_timeout: float

    def exchange(
        self,
        method: str,
        path: str,
        query: bytes = b"",
        headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes = b"",
        read_timeout: float | None = None,
    ) -> UpstreamExchange: ...

    async def get(self, path: str, timeout: float | None = None) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one exchange at a time. httptools calls the `on_*`
    methods from `feed_data`; the exchange waits on `_waiter` for the head or more body."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self._busy = False
        self._head_done = False
        self._complete = False
        self._until_close = False  # no length and not chunked: the body ends when upstream closes
        self._keep_alive = False
        self._error: UpstreamError | None = None
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._read_timeout = 0.0
        self._last_activity = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's does not subclass asyncio.Transport, so no isinstance).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if not self._busy or self._complete:  # nothing was asked: not a server we can trust
            self.fail(UpstreamBroken("upstream sent bytes nobody asked for"))
            return
        self._last_activity = self.loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.fail(UpstreamBroken(f"upstream answer is not valid HTTP/1.1: {exc}"))
        except httptools.HttpParserUpgrade:
            self.fail(UpstreamBroken("upstream switched protocols; nothing asked it to"))

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        if not self._busy or self._complete:
            return
        if self._head_done and self._until_close and self._error is None:
            self._complete = True
            self._wake()
        elif self._head_done:
            self.fail(UpstreamBroken("upstream closed the connection in the middle of an answer"))
        else:
            self.fail(UpstreamUnavailable("upstream closed the connection without answering"))

    # --- httptools callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._head_done:  # afterwards: chunked trailers, which are not passed on
            self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            return
        self.status = status
        self._head_done = True
        chunked = any(
            n == b"transfer-encoding" and b"chunked" in v.lower() for n, v in self.headers
        )
        sized = any(n == b"content-length" for n, _ in self.headers)
        self._until_close = not chunked and not sized and status not in (204, 304)
        self._keep_alive = self._parser.should_keep_alive()  # only valid until the body starts
        self._wake()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self.transport.pause_reading()
            self._paused = True
        self._wake()

    def on_message_complete(self) -> None:
        if not self._head_done:  # the end of an interim answer
            return
        self._complete = True
        self._cancel_timer()
        self._wake()

    # --- used by Exchange -------------------------------------------------------------------

    def send(self, request: bytes, read_timeout: float) -> None:
        assert self.transport is not None
        self._busy, self._head_done, self._complete = True, False, False
        self._until_close = self._keep_alive = False
        self.status, self.headers, self._error = 0, [], None
        self._read_timeout = read_timeout
        self._last_activity = self.loop.time()
        self._timer = self.loop.call_later(read_timeout, self._check_timeout)
        self.transport.write(request)

    async def head(self) -> None:
        while not self._head_done:
            if self._error is not None:
                raise self._error
            await self._wait()

    async def read(self) -> bytes:
        """The body bytes received since the last call, joined; b"" once the answer is over."""
        while not self._chunks:
            if self._complete:  # before errors: bytes after a complete answer do not undo it
                return b""
            if self._error is not None:
                raise self._error
            await self._wait()
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    def fail(self, error: UpstreamError) -> None:
        """End the exchange with `error` and drop the connection (it is in an unknown state)."""
        if self._error is None:
            self._error = error
        self.closed = True
        self._cancel_timer()
        if self.transport is not None:
            self.transport.abort()
        self._wake()

    def reusable(self) -> bool:
        return (
            self._complete
            and self._error is None
            and not self.closed
            and not self._until_close
            and self._keep_alive
        )

    def idle(self, now: float) -> None:
        self._busy = False
        self._chunks.clear()
        self.idle_since = now

    # --- internals --------------------------------------------------------------------------

    async def _wait(self) -> None:
        self._last_activity = self.loop.time()  # a read timeout counts from the wait's start
        waiter = self._waiter = self.loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _check_timeout(self) -> None:
        self._timer = None
        if not self._busy or self._complete or self._error is not None:
            return
        if self._waiter is None:  # nobody waits on upstream now (our consumer is busy): later
            self._timer = self.loop.call_later(self._read_timeout, self._check_timeout)
            return
        remaining = self._read_timeout - (self.loop.time() - self._last_activity)
        if remaining > 0.001:  # bytes came, or a new wait began, since this timer was set
            self._timer = self.loop.call_later(remaining, self._check_timeout)
            return
        self.fail(UpstreamTimeout(f"no answer from upstream within {self._read_timeout:g}s"))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class Exchange:
    """One request to the upstream and its answer. `abort()` may be called at any time, from
    another task (the client left): a wait in progress then raises `Aborted` at once."""

    def __init__(self, pool: UpstreamPool, request: bytes, read_timeout: float) -> None:
        self._pool = pool
        self._request = request
        self._read_timeout = read_timeout
        self._connection: _Connection | None = None
        self._slot: asyncio.Future[None] | None = None
        self._holds_slot = False
        self._aborted = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []

    async def start(self) -> None:
        """Send the request and wait for the answer's status and headers."""
        pool = self._pool
        self._holds_slot = True  # set first: a failed wait below gives the slot back in close()
        try:
            await pool.acquire(self)
        except BaseException:
            self._holds_slot = False
            raise
        if self._aborted:
            raise Aborted("the client left")
        connection = pool.idle_connection()
        if connection is None:
            connection = await pool.connect()
            if self._aborted:
                connection.fail(Aborted("the client left"))
                raise Aborted("the client left")
        self._connection = connection
        connection.send(self._request, self._read_timeout)
        await connection.head()
        self.status = connection.status
        self.headers = connection.headers

    async def read(self) -> bytes:
        assert self._connection is not None
        return await self._connection.read()

    async def read_all(self) -> bytes:
        chunks = []
        while chunk := await self.read():
            chunks.append(chunk)
        return b"".join(chunks)

    def abort(self) -> None:
        self._aborted = True
        if self._slot is not None and not self._slot.done():
            self._slot.set_exception(Aborted("the client left"))
        if self._connection is not None:
            self._connection.fail(Aborted("the client left"))

    def close(self) -> None:
        """Give the connection back if the answer was read to its end, else drop it."""
        connection, self._connection = self._connection, None
        if connection is not None:
            if connection.reusable():
                self._pool.keep(connection)
            else:
                connection.fail(Aborted("answer not read to its end"))
        if self._holds_slot:
            self._holds_slot = False
            self._pool.release()


class UpstreamPool:
    """Keep-alive connections to one upstream, at most `max_connections` at a time."""

    def __init__(
        self,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        keepalive_expiry: float = 2.0,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"upstream URL {base_url!r} is not http(s)://host[:port]: "
                "set GATEWAY_UPSTREAM_URL to the model server, e.g. http://127.0.0.1:8000"
            )
        default_port = 443 if parts.scheme == "https" else 80
        self._host = parts.hostname
        self._port = parts.port or default_port
        host = f"[{self._host}]" if ":" in self._host else self._host
        netloc = host if self._port == default_port else f"{host}:{self._port}"
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self.prefix = parts.path.rstrip("/").encode()
        self.host_header = netloc.encode("idna")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._max = max_connections
        # Under the upstream's own keep-alive (uvicorn/vLLM: 5 s): never reuse a closing socket.
        self._expiry = keepalive_expiry
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[_Connection] = []
        self._in_use = 0
        self._queue: deque[asyncio.Future[None]] = deque()

    def exchange(
        self,
        method: str,
        path: str,
        query: bytes = b"",
        headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes = b"",
        read_timeout: float | None = None,
    ) -> Exchange:
        """An exchange for `path` under the upstream URL; headers are sent as given (the caller
        filters them), plus Host and Content-Length."""
        target = self.prefix + path.encode() + (b"?" + query if query else b"")
        parts = [method.encode(), b" ", target, b" HTTP/1.1\r\nhost: ", self.host_header, b"\r\n"]
        for name, value in headers or ():
            parts += (name, b": ", value, b"\r\n")
        if body or method == "POST":
            parts += (b"content-length: ", str(len(body)).encode(), b"\r\n")
        parts += (b"\r\n", body)
        timeout = self.read_timeout if read_timeout is None else read_timeout
        return Exchange(self, b"".join(parts), timeout)

    async def get(self, path: str, timeout: float | None = None) -> tuple[int, bytes]:
        """GET `path`: its status and body (for the gateway's own small calls)."""
        exchange = self.exchange("GET", path, read_timeout=timeout)
        try:
            await exchange.start()
            return exchange.status, await exchange.read_all()
        finally:
            exchange.close()

    async def aclose(self) -> None:
        """Close idle connections (at shutdown; connections in use close when their exchange
        ends). The pool stays usable: a later event loop (a restarted app) starts afresh."""
        idle, self._idle = self._idle, []
        for connection in idle:
            if connection.transport is not None:
                connection.transport.close()

    # --- used by Exchange ---------------------------------------------------------------------

    async def acquire(self, exchange: Exchange) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections and waiters belong to one loop
            self._loop, self._idle, self._in_use, self._queue = loop, [], 0, deque()
        if self._in_use < self._max:
            self._in_use += 1
            return
        slot = exchange._slot = loop.create_future()
        self._queue.append(slot)
        timer = loop.call_later(self.read_timeout, _expire, slot, self.read_timeout)
        try:
            await slot
        except BaseException:
            if slot.done() and not slot.cancelled() and slot.exception() is None:
                self.release()  # handed a slot just as this wait failed: pass it on
            raise
        finally:
            timer.cancel()
            exchange._slot = None
            if slot in self._queue:
                self._queue.remove(slot)

    def release(self) -> None:
        while self._queue:
            slot = self._queue.popleft()
            if not slot.done():
                slot.set_result(None)  # the slot passes straight to the next waiter
                return
        self._in_use = max(0, self._in_use - 1)  # an exchange from a previous loop may end late

    def idle_connection(self) -> _Connection | None:
        assert self._loop is not None  # set by acquire()
        now = self._loop.time()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < self._expiry:
                return connection
            if connection.transport is not None:
                connection.transport.close()
        return None

    async def connect(self) -> _Connection:
        loop = self._loop
        assert loop is not None
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop),
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl else None,
                )
        except TimeoutError:
            raise UpstreamTimeout(
                f"could not connect to upstream within {self.connect_timeout:g}s"
            ) from None
        except OSError as exc:
            raise UpstreamUnavailable(f"cannot connect to upstream: {exc}") from exc
        return connection

    def keep(self, connection: _Connection) -> None:
        if connection.loop is not self._loop:  # from a loop that is gone: useless there
            connection.fail(Aborted("event loop replaced"))
            return
        connection.idle(connection.loop.time())
        self._idle.append(connection)


def _expire(slot: asyncio.Future[None], seconds: float) -> None:
    if not slot.done():
        slot.set_exception(UpstreamTimeout(f"no free upstream connection within {seconds:g}s"))
