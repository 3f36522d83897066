"""Forwarding to the upstream model server: headers, body limit, errors, unbuffered streaming."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .errors import error_response

_log = logging.getLogger("service.proxy")

# RFC 9110 7.6.1 plus the ones a proxy must never pass on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# `expect`: the gateway has read the whole body already, there is nothing left to continue.
_DROP_REQUEST = HOP_BY_HOP | {"host", "content-length", "authorization", "x-api-key", "expect"}
_DROP_RESPONSE = HOP_BY_HOP | {"content-length", "server", "date"}


@dataclass
class Outcome:
    """What happened to one forwarded request, for metrics and the access log."""

    status: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    disconnected: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


Done = Callable[[Outcome], None]


class BodyTooLarge(Exception):
    pass


# Status recorded (never sent: nobody is listening) when the client leaves before the answer.
CLIENT_CLOSED = 499


async def until_disconnect(receive: Receive) -> None:
    """Returns once the client has gone (call only after the request body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _headers(pairs: list[tuple[bytes, bytes]], drop: frozenset[str]) -> list[tuple[bytes, bytes]]:
    connection_listed: set[str] = set()
    for name, value in pairs:
        if name.lower() == b"connection":
            connection_listed |= {t.strip().lower() for t in value.decode("latin-1").split(",")}
    return [
        (name, value)
        for name, value in pairs
        if (lower := name.decode("latin-1").lower()) not in drop and lower not in connection_listed
    ]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes before reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _usage(payload: bytes, outcome: Outcome) -> None:
    try:
        usage = json.loads(payload).get("usage")
    except (ValueError, AttributeError):
        return
    if isinstance(usage, dict):
        outcome.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        outcome.completion_tokens += int(usage.get("completion_tokens") or 0)


class _SseUsage:
    """Finds `usage` in SSE data lines without buffering the stream (only a partial line)."""

    def __init__(self, outcome: Outcome) -> None:
        self._outcome = outcome
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        lines = data.split(b"\n")
        self._tail = lines.pop()[-65536:]
        if b'"usage"' not in data:
            return
        for line in lines:
            if line.startswith(b"data:") and b'"usage":{' in line.replace(b" ", b""):
                _usage(line[5:].strip(), self._outcome)


class StreamedUpstream(Response):
    """Relays an upstream stream chunk by chunk; closes upstream on finish or client disconnect."""

    def __init__(self, upstream: httpx.Response, outcome: Outcome, done: Done) -> None:
        self.status_code = upstream.status_code
        self.background = None
        self._upstream = upstream
        self._outcome = outcome
        self._done = done
        kept = _headers(upstream.headers.raw, _DROP_RESPONSE | {"cache-control"})
        self.raw_headers = [*kept, (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        usage = _SseUsage(self._outcome)
        try:
            async with anyio.create_task_group() as group:

                async def relay() -> None:
                    try:
                        await send(
                            {
                                "type": "http.response.start",
                                "status": self.status_code,
                                "headers": self.raw_headers,
                            }
                        )
                        async for chunk in self._upstream.aiter_raw():
                            usage.feed(chunk)
                            await send(
                                {"type": "http.response.body", "body": chunk, "more_body": True}
                            )
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                    except OSError:
                        self._outcome.disconnected = True
                    except httpx.HTTPError as exc:
                        # Headers are gone already: all we can do is end the stream and log.
                        self._outcome.error = f"upstream stream broke: {type(exc).__name__}"
                    group.cancel_scope.cancel()

                async def watch() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    self._outcome.disconnected = True
                    group.cancel_scope.cancel()

                group.start_soon(relay)
                group.start_soon(watch)
        finally:
            with anyio.CancelScope(shield=True):
                await self._upstream.aclose()
                self._done(self._outcome)


class Proxy:
    """Sends allowlisted requests to the upstream server through one pooled httpx client."""

    def __init__(
        self,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.read_timeout = read_timeout
        self._urls: dict[str, httpx.URL] = {}  # parsed once per path: URL parsing is not free
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            # Under the upstream keep-alive (uvicorn/vLLM: 5 s): never reuse a closing socket.
            keepalive_expiry=2.0,
        )
        timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=60.0, pool=read_timeout
        )
        self._timeout = timeout.as_dict()
        self._given_transport = transport
        self._limits = limits
        self._client_timeout = timeout
        self.transport: httpx.AsyncBaseTransport
        self.client: httpx.AsyncClient
        self.open()

    def open(self) -> None:
        """(Re)create the upstream connection pool: at start-up, and when an app's lifespan runs
        again after a shutdown (test clients and some servers do that), which closed the pool."""
        self.transport = self._given_transport or httpx.AsyncHTTPTransport(limits=self._limits)
        # For the gateway's own calls (/health, model lookup); forwarding uses the transport.
        self.client = httpx.AsyncClient(
            transport=self.transport, timeout=self._client_timeout, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    def upstream_error(self, exc: httpx.HTTPError, outcome: Outcome) -> Response:
        if isinstance(exc, httpx.TimeoutException):
            outcome.status, outcome.error = 504, "timeout"
            return error_response(
                504,
                f"the model server did not answer within {self.read_timeout:.0f}s; "
                "retry later, or ask for fewer tokens",
                "upstream_timeout",
                "upstream_timeout",
            )
        outcome.status, outcome.error = 502, "connection"
        _log.warning("upstream request failed: %s: %s", type(exc).__name__, exc)
        return error_response(
            502,
            "cannot reach the model server; it may be starting or restarting: retry shortly",
            "upstream_unavailable",
            "upstream_unavailable",
        )

    async def forward(self, request: Request, path: str, body: bytes, done: Done) -> Response:
        """Forward to the constant upstream `path` (never the client's raw path)."""
        outcome = Outcome(status=0)
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self.base_url + path)
        query: bytes = request.scope.get("query_string", b"")
        if query:
            url = url.copy_with(query=query)
        upstream_request = httpx.Request(
            request.method,
            url,
            content=body,
            headers=_headers(request.headers.raw, _DROP_REQUEST),
            extensions={"timeout": self._timeout},
        )
        response: Response | None = None
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                # Until upstream answers, nothing else notices a client that leaves: without
                # this the model server keeps working for nobody (a long non-streamed answer,
                # or a request queued behind others).
                await until_disconnect(request.receive)
                outcome.disconnected = True
                group.cancel_scope.cancel()

            group.start_soon(watch)
            response = await self._exchange(upstream_request, outcome, done)
            group.cancel_scope.cancel()
        if response is None:  # cancelled: the client left; the upstream request is closed
            outcome.status = CLIENT_CLOSED
            done(outcome)
            return Response(status_code=CLIENT_CLOSED)
        return response

    async def _exchange(
        self, upstream_request: httpx.Request, outcome: Outcome, done: Done
    ) -> Response:
        try:
            # The transport directly: AsyncClient.send's auth/redirect/cookie layers add CPU
            # per request and nothing a fixed upstream needs. The response still streams.
            upstream = await self.transport.handle_async_request(upstream_request)
        except httpx.HTTPError as exc:
            response = self.upstream_error(exc, outcome)
            done(outcome)
            return response
        outcome.status = upstream.status_code
        if upstream.headers.get("content-type", "").startswith("text/event-stream"):
            return StreamedUpstream(upstream, outcome, done)
        try:
            payload = b"".join([chunk async for chunk in upstream.aiter_raw()])
        except httpx.HTTPError as exc:
            response = self.upstream_error(exc, outcome)
            done(outcome)
            return response
        finally:
            with anyio.CancelScope(shield=True):
                await upstream.aclose()
        if b'"usage"' in payload and "content-encoding" not in upstream.headers:
            _usage(payload, outcome)
        done(outcome)
        response = Response(payload, status_code=upstream.status_code)
        response.raw_headers = [
            *_headers(upstream.headers.raw, _DROP_RESPONSE),
            (b"content-length", str(len(payload)).encode()),
        ]
        return response
