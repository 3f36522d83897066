"""The gateway's HTTP/1.1 client for its one upstream: aiohttp, with a keep-alive pool.

Why aiohttp: `bench/gateway.py` compared it with the hand-written httptools client this module
used to hold. Over three runs that client led aiohttp by only 0.1-0.3 ms p50 and -3% to +5%
throughput (the bar for keeping our own code was 0.3 ms p50 or 10% throughput), while httpx was
1.0-1.4 ms slower per request (h11 in pure Python); so the maintained library won.

Used narrowly: one fixed upstream, no redirects, cookies, auth, proxies or decompression (the
proxy relays Content-Encoding untouched), and only the headers the proxy passes, plus Host and
Content-Length. Timeouts follow httpx's meaning: `connect_timeout` to open a connection;
`read_timeout` for each wait on the upstream (an answer's head, or its next bytes) and for a free
pool slot. A slow reader slows the upstream (aiohttp stops reading the socket while its buffer is
full) rather than growing the gateway's memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

__all__ = [
    "MAX_ANSWER_HEADER_LINE",
    "AbortableExchange",
    "Aborted",
    "Exchange",
    "GetMixin",
    "Upstream",
    "UpstreamBroken",
    "UpstreamError",
    "UpstreamExchange",
    "UpstreamPool",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]

T = TypeVar("T")

# Longest status line or header line accepted from the upstream (aiohttp's max_line_size and
# max_field_size): vLLM's are under 200 bytes; a longer one is a broken upstream, refused at once.
MAX_ANSWER_HEADER_LINE = 16 * 1024

# Headers aiohttp would add by itself: the upstream gets only what the proxy passes.
_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


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


class AbortableExchange:
    """An exchange whose `abort()` may come at any time from another task (the client left): a
    wait in progress then raises `Aborted` at once. Subclasses await through `_guard` and
    implement `read`."""

    def __init__(self) -> None:
        self._aborted = False
        self._waiting: asyncio.Task[object] | None = None

    async def read(self) -> bytes:
        raise NotImplementedError

    async def read_all(self) -> bytes:
        chunks = []
        while chunk := await self.read():
            chunks.append(chunk)
        return b"".join(chunks)

    def _abort_wait(self) -> None:
        self._aborted = True
        if self._waiting is not None:
            self._waiting.cancel()  # ends the wait at once; _guard turns it into Aborted

    async def _guard(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` so that `abort()` from another task ends it. Cancelling the waiting
        task costs nothing on the common path (no extra task per request); `uncancel()` keeps
        that cancellation from leaking into the caller."""
        if self._aborted:
            if isinstance(awaitable, Coroutine):
                awaitable.close()  # never awaited: closed so that Python does not warn
            raise Aborted("the client left")
        task = asyncio.current_task()
        self._waiting = task
        try:
            return await awaitable
        except asyncio.CancelledError:
            if self._aborted and task is not None and task.uncancel() == 0:
                raise Aborted("the client left") from None
            raise
        finally:
            self._waiting = None


class Exchange(AbortableExchange):
    """One request to the upstream and its answer, on aiohttp."""

    def __init__(
        self,
        pool: UpstreamPool,
        method: str,
        url: URL,
        headers: list[tuple[str, str]],
        body: bytes,
        read_timeout: float,
    ) -> None:
        self._pool = pool
        self._method = method
        self._url = url
        self._headers = headers
        self._body = body
        self._read_timeout = read_timeout
        super().__init__()
        self._response: aiohttp.ClientResponse | None = None
        self._counted = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []

    async def start(self) -> None:
        """Send the request and wait for the answer's status and headers."""
        pool = self._pool
        session = pool.session()
        saturated = pool.in_use >= pool.max_connections  # it waits for a slot (for the message)
        pool.in_use += 1
        self._counted = True
        try:
            response = await self._guard(
                session.request(
                    self._method,
                    self._url,
                    headers=self._headers,
                    # A POST always carries Content-Length, 0 when empty (servers may wait for
                    # a body otherwise); other methods only with a body.
                    data=self._body if self._body or self._method == "POST" else None,
                    timeout=pool.timeout(self._read_timeout),
                    allow_redirects=False,
                    skip_auto_headers=_AUTO_HEADERS,
                    max_line_size=MAX_ANSWER_HEADER_LINE,
                    max_field_size=MAX_ANSWER_HEADER_LINE,
                )
            )
        except aiohttp.ConnectionTimeoutError:
            if saturated:
                raise UpstreamTimeout(
                    f"no free upstream connection within {pool.connect_budget:g}s: all "
                    f"{pool.max_connections} are busy; retry later, or raise "
                    "GATEWAY_MAX_CONNECTIONS if the model server can take more"
                ) from None
            raise UpstreamTimeout(
                f"could not connect to upstream within {pool.connect_timeout:g}s: "
                "check that the model server is up and GATEWAY_UPSTREAM_URL points at it"
            ) from None
        except TimeoutError:
            raise UpstreamTimeout(
                f"no answer from upstream within {self._read_timeout:g}s"
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamUnavailable(
                f"cannot connect to upstream: {exc}; check that the model server is up"
            ) from exc
        except aiohttp.ClientConnectionError as exc:  # disconnected, reset: no answer began
            raise UpstreamUnavailable(
                f"upstream closed the connection without answering: {exc!r}"
            ) from exc
        except aiohttp.ClientResponseError as exc:  # the answer's head did not parse
            raise UpstreamBroken(
                "upstream answer is not valid HTTP/1.1 (or has a header line over "
                f"{MAX_ANSWER_HEADER_LINE} bytes): {exc.message}"
            ) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamBroken(f"upstream exchange failed: {exc!r}") from exc
        self._response = response
        self.status = response.status
        self.headers = [(name.lower(), value) for name, value in response.raw_headers]

    async def read(self) -> bytes:
        """The body bytes received since the last call, joined; b"" once the answer is over."""
        assert self._response is not None
        try:
            return await self._guard(self._response.content.readany())
        except TimeoutError:
            raise UpstreamTimeout(
                f"no answer from upstream within {self._read_timeout:g}s"
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamBroken(f"upstream answer was cut short or is malformed: {exc!r}") from exc

    def abort(self) -> None:
        self._abort_wait()
        if self._response is not None:
            self._response.close()

    def close(self) -> None:
        """Give the connection back if the answer was read to its end, else drop it."""
        response, self._response = self._response, None
        if response is not None:
            if response.content.at_eof() and not self._aborted:
                response.release()  # back to the pool, unless the upstream asked to close
            else:
                response.close()
        if self._counted:
            self._counted = False
            self._pool.in_use = max(0, self._pool.in_use - 1)


class GetMixin:
    """`get` for the gateway's own small calls, on any client's `exchange`."""

    def exchange(
        self, method: str, path: str, *, read_timeout: float | None = None
    ) -> UpstreamExchange:
        raise NotImplementedError

    async def get(self, path: str, timeout: float | None = None) -> tuple[int, bytes]:
        """GET `path`: its status and body."""
        exchange = self.exchange("GET", path, read_timeout=timeout)
        try:
            await exchange.start()
            return exchange.status, await exchange.read_all()
        finally:
            exchange.close()


class UpstreamPool(GetMixin):
    """Keep-alive connections to one upstream, at most `max_connections` at a time, on one
    aiohttp.ClientSession made on first use in the running event loop."""

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
        self._base = base_url.rstrip("/")
        self.prefix = parts.path.rstrip("/").encode()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        # Under the upstream's own keep-alive (uvicorn/vLLM: 5 s): never reuse a closing socket.
        self._expiry = keepalive_expiry
        self.in_use = 0  # exchanges started and not closed, in the current loop
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession:
        """The session of the running loop: a session belongs to one loop, and a restarted app
        runs on a new one (the old session's connections die with their loop)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                limit=self.max_connections, keepalive_timeout=self._expiry
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # bytes as upstream sent them: Content-Encoding is relayed
                # No cookie jar: a cookie from one client's answer must never ride on another's.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._loop = loop
            self.in_use = 0
        return self._session

    @property
    def connect_budget(self) -> float:
        """aiohttp's `connect` timeout covers both the wait for a pool slot (`read_timeout`, as
        for any wait on the upstream) and the connect after it."""
        return self.read_timeout + self.connect_timeout

    def timeout(self, read_timeout: float) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            total=None,
            connect=self.connect_budget,
            sock_connect=self.connect_timeout,
            sock_read=read_timeout,
        )

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
        target = self._base + path + ("?" + query.decode("latin-1") if query else "")
        pairs = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in headers or ()]
        timeout = self.read_timeout if read_timeout is None else read_timeout
        # `encoded`: the proxy has made the query safe already; yarl must not re-quote it.
        return Exchange(self, method, URL(target, encoded=True), pairs, body, timeout)

    async def aclose(self) -> None:
        """Close the session and its connections (at shutdown). The pool stays usable: a later
        event loop (a restarted app) starts afresh."""
        session, self._session = self._session, None
        loop, self._loop = self._loop, None
        # A session from a loop that is gone cannot be closed from this one: it is dropped.
        if session is not None and loop is asyncio.get_running_loop():
            await session.close()
