"""The gateway's upstream client on httpx, for bench/gateway.py to compare with the one the
gateway ships (`service.upstream.UpstreamPool`, on aiohttp). Bench only: nothing here is in the
image.

It satisfies `service.upstream.Upstream` and raises the same `Upstream*` errors, so the gateway
answers as it does with its own client (502/504, 499 when the client leaves).

    python -m bench.upstream_clients httpx   # `python -m service` with this client
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import TypeVar

import httpx
import uvicorn

from buildlens_core.jsonlog import configure_logging
from service.app import create_app
from service.server import server_config
from service.settings import Settings
from service.upstream import (
    AbortableExchange,
    GetMixin,
    Upstream,
    UpstreamBroken,
    UpstreamTimeout,
    UpstreamUnavailable,
)

T = TypeVar("T")


# --- httpx ----------------------------------------------------------------------------------------


class HttpxExchange(AbortableExchange):
    def __init__(self, pool: HttpxPool, request: httpx.Request, read_timeout: float) -> None:
        super().__init__()
        self._pool = pool
        self._request = request
        self._read_timeout = read_timeout
        self._response: httpx.Response | None = None
        self._stream: AsyncIterator[bytes] | None = None
        self._done = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []

    async def start(self) -> None:
        pool = self._pool
        self._request.extensions["timeout"] = httpx.Timeout(
            connect=pool.connect_timeout,
            read=self._read_timeout,
            write=self._read_timeout,
            pool=pool.read_timeout,
        ).as_dict()
        try:
            response = await self._guard(pool.client().send(self._request, stream=True))
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"httpx: {exc!r}") from exc
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise UpstreamUnavailable(f"httpx: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise UpstreamBroken(f"httpx: {exc!r}") from exc
        self._response = response
        self._stream = response.aiter_raw()  # closes the response once read to its end
        self.status = response.status_code
        self.headers = [(name.lower(), value) for name, value in response.headers.raw]

    async def read(self) -> bytes:
        assert self._stream is not None
        if self._done:
            return b""
        try:
            return await self._guard(anext(self._stream))
        except StopAsyncIteration:
            self._done = True
            return b""
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"httpx: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise UpstreamBroken(f"httpx: {exc!r}") from exc

    def abort(self) -> None:
        self._abort_wait()

    def close(self) -> None:
        response, self._response = self._response, None
        if response is not None and not response.is_closed:
            # Not read to its end (error, abort): httpx closes asynchronously, the connection is
            # dropped. Only on error paths, so a task here costs the common path nothing.
            asyncio.get_running_loop().create_task(response.aclose())


class HttpxPool(GetMixin):
    """`Upstream` on one streaming httpx.AsyncClient (made on first use, in the running loop)."""

    def __init__(
        self,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        keepalive_expiry: float = 2.0,
    ) -> None:
        self._base = httpx.URL(base_url.rstrip("/"))
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
        )
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            client = httpx.AsyncClient(limits=self._limits, follow_redirects=False)
            # User-Agent, Accept, ...: the service's client sends only what the proxy passes
            # (plus Host and Content-Length), so these would make the comparison unequal.
            for name in list(client.headers):
                del client.headers[name]
            self._client, self._loop = client, loop
        return self._client

    def exchange(
        self,
        method: str,
        path: str,
        query: bytes = b"",
        headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes = b"",
        read_timeout: float | None = None,
    ) -> HttpxExchange:
        url = self._base.copy_with(raw_path=self._base.raw_path.rstrip(b"/") + path.encode())
        if query:
            url = url.copy_with(query=query)
        request = httpx.Request(
            method, url, headers=headers or [], content=body if body or method == "POST" else None
        )
        timeout = self.read_timeout if read_timeout is None else read_timeout
        return HttpxExchange(self, request, timeout)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


CLIENTS: dict[str, type[HttpxPool]] = {"httpx": HttpxPool}


def pool(name: str, settings: Settings) -> Upstream:
    return CLIENTS[name](
        settings.upstream_url,
        settings.connect_timeout,
        settings.read_timeout,
        settings.max_connections,
    )


def main() -> None:
    """`python -m service` (same settings, server and app) with the named upstream client."""
    if len(sys.argv) != 2 or sys.argv[1] not in CLIENTS:
        sys.exit(f"usage: python -m bench.upstream_clients {{{','.join(CLIENTS)}}}")
    settings = Settings()
    configure_logging(settings.log_level)
    app = create_app(settings, pool(sys.argv[1], settings))
    uvicorn.Server(server_config(app, settings)).run()


if __name__ == "__main__":
    main()
