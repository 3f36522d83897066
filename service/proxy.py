"""Forwarding to the upstream model server: headers, body limit, errors, unbuffered streaming.

Works on raw ASGI messages (no Starlette Request/Response on the way): it is the hot path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .errors import error_response
from .upstream import Aborted, Upstream, UpstreamError, UpstreamExchange, UpstreamTimeout

_log = logging.getLogger("service.proxy")

# RFC 9110 7.6.1 plus the ones a proxy must never pass on.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# `expect`: the gateway has read the whole body already, there is nothing left to continue.
_DROP_REQUEST = HOP_BY_HOP | {b"host", b"content-length", b"authorization", b"x-api-key", b"expect"}
_DROP_RESPONSE = HOP_BY_HOP | {b"content-length", b"server", b"date"}
_DROP_STREAM = _DROP_RESPONSE | {b"cache-control"}
_STREAM_HEADERS = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


@dataclass(slots=True)
class Outcome:
    """What happened to one forwarded request, for metrics and the access log."""

    status: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    disconnected: bool = False


Done = Callable[[Outcome], None]


class BodyTooLarge(Exception):
    pass


# Status recorded (never sent: nobody is listening) when the client leaves before the answer.
CLIENT_CLOSED = 499
# How long an exchange runs before it starts watching for its client leaving (see forward()).
_WATCH_AFTER = 0.05


def _connection_tokens(value: bytes) -> set[bytes]:
    return {token.strip().lower() for token in value.split(b",")}


def filter_headers(
    pairs: list[tuple[bytes, bytes]], drop: frozenset[bytes]
) -> list[tuple[bytes, bytes]]:
    """`pairs` without hop-by-hop headers, `drop`, and whatever `Connection` names."""
    listed: set[bytes] = set()
    kept = []
    for name, value in pairs:
        lower = name.lower()
        if lower == b"connection":
            listed |= _connection_tokens(value)
        elif lower not in drop:
            kept.append((lower, value))
    if listed - drop:
        kept = [(name, value) for name, value in kept if name not in listed]
    return kept


@dataclass(slots=True)
class ClientRequest:
    """What forwarding needs from a client's request, found in one pass over its headers."""

    api_key: bytes | None  # the first X-API-Key, as sent
    authorization: bytes | None  # the first Authorization, as sent
    declared_length: int | None  # Content-Length, when it is a plain number
    has_body: bool  # a body was announced (Content-Length > 0 or Transfer-Encoding)
    forward: list[tuple[bytes, bytes]]  # headers to send upstream


def parse_request(scope: Scope) -> ClientRequest:
    api_key = authorization = length = None
    chunked = False
    listed: set[bytes] = set()
    forward = []
    for name, value in scope["headers"]:
        lower = name.lower()
        if lower in _DROP_REQUEST:
            if lower == b"x-api-key":
                api_key = value if api_key is None else api_key
            elif lower == b"authorization":
                authorization = value if authorization is None else authorization
            elif lower == b"content-length":
                length = value if length is None else length
            elif lower == b"transfer-encoding":
                chunked = True
            elif lower == b"connection":
                listed |= _connection_tokens(value)
        else:
            forward.append((lower, value))
    if listed - _DROP_REQUEST:
        forward = [(name, value) for name, value in forward if name not in listed]
    declared = int(length) if length is not None and length.isdigit() else None
    has_body = chunked or (length is not None and length not in (b"0", b""))
    return ClientRequest(api_key, authorization, declared, has_body, forward)


async def read_body(receive: Receive, limit: int, declared: int | None) -> bytes | None:
    """The request body (None if the client left), refusing more than `limit` bytes before
    reading it all."""
    if declared is not None and declared > limit:
        raise BodyTooLarge
    message = await receive()
    if message["type"] != "http.request":
        return None
    body: bytes = message.get("body", b"")
    if len(body) > limit:
        raise BodyTooLarge
    if not message.get("more_body", False):  # the usual case: the whole body in one message
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _count(usage: object, outcome: Outcome) -> None:
    if isinstance(usage, dict):
        outcome.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        outcome.completion_tokens += int(usage.get("completion_tokens") or 0)


def _usage(payload: bytes, outcome: Outcome) -> None:
    try:
        _count(json.loads(payload).get("usage"), outcome)
    except (ValueError, AttributeError, TypeError):
        return


_USAGE_KEY = re.compile(rb'"usage"\s*:\s*')
_DECODER = json.JSONDecoder()


def _usage_in_answer(payload: bytes, outcome: Outcome) -> None:
    """Token counts from a JSON answer without parsing all of it (embeddings answers are large):
    the object after the last `"usage":` key. Inside JSON strings that key is escaped (`\\"`), so
    only a real key matches; vLLM writes the top-level `usage` after `choices`/`data`."""
    start = payload.rfind(b'"usage"')
    if start < 0:
        return
    key = _USAGE_KEY.match(payload, start)
    if key is None:
        return
    try:
        usage, _ = _DECODER.raw_decode(payload[key.end() :].decode("utf-8"))
        _count(usage, outcome)
    except (ValueError, TypeError):
        return


class _SseUsage:
    """Finds `usage` in SSE data lines without buffering the stream (only a partial line)."""

    def __init__(self, outcome: Outcome) -> None:
        self._outcome = outcome
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk if self._tail else chunk
        end = data.rfind(b"\n")
        self._tail = data[end + 1 :][-65536:]
        if b'"usage"' not in data:
            return
        for line in data[: end + 1].split(b"\n"):
            if line.startswith(b"data:") and b'"usage":{' in line.replace(b" ", b""):
                _usage(line[5:].strip(), self._outcome)


# Bytes a request target must not carry: they would end the request line or confuse a parser.
_UNSAFE_QUERY = re.compile(rb"[^\x21-\x7e]|#")


def _safe_query(query: bytes) -> bytes:
    if _UNSAFE_QUERY.search(query) is None:
        return query
    return _UNSAFE_QUERY.sub(lambda m: b"%%%02X" % m.group()[0], query)


async def send_whole(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """A complete response in two ASGI messages."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_response(send: Send, response: Response, close: bool = False) -> None:
    """A Starlette response with a body (errors) sent as raw ASGI; `close` adds Connection: close
    (a refusal sent before the request body was read: else the server would keep reading it)."""
    headers = response.raw_headers
    if close:
        headers = [*headers, (b"connection", b"close")]
    await send_whole(send, response.status_code, headers, bytes(response.body))


class Proxy:
    """Sends allowlisted requests to the upstream server through one keep-alive pool."""

    def __init__(self, pool: Upstream) -> None:
        self.pool = pool
        self.read_timeout = pool.read_timeout

    async def aclose(self) -> None:
        await self.pool.aclose()

    def upstream_error(self, exc: UpstreamError, outcome: Outcome) -> Response:
        if isinstance(exc, UpstreamTimeout):
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

    async def forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: str,
        request: ClientRequest,
        body: bytes,
        done: Done,
    ) -> None:
        """Forward to the constant upstream `path` (never the client's raw path) and relay the
        answer. Call only once the request body has been read."""
        outcome = Outcome(status=0)
        query = scope.get("query_string", b"")
        exchange = self.pool.exchange(
            scope["method"], path, _safe_query(query) if query else b"", request.forward, body
        )
        finished = False
        watcher: asyncio.Task[None] | None = None

        async def watch() -> None:
            # Nothing else notices a client that leaves: without this the model server keeps
            # working for nobody (a long answer, a stream, or a request queued behind others).
            while (await receive())["type"] != "http.disconnect":
                pass
            if not finished:
                outcome.disconnected = True
                exchange.abort()

        def start_watching() -> None:
            nonlocal watcher
            if not finished:
                watcher = loop.create_task(watch())

        # Most answers come within a few milliseconds: watching starts only for the others, which
        # spares a task per request; a client that leaves is still noticed within _WATCH_AFTER.
        loop = asyncio.get_running_loop()
        timer = loop.call_later(_WATCH_AFTER, start_watching)
        try:
            try:
                await exchange.start()
            except Aborted:
                outcome.status = CLIENT_CLOSED
                done(outcome)
                await send_whole(send, CLIENT_CLOSED, [], b"")
                return
            except UpstreamError as exc:
                response = self.upstream_error(exc, outcome)
                done(outcome)
                await send_response(send, response)
                return
            outcome.status = exchange.status
            if any(
                name == b"content-type" and value.startswith(b"text/event-stream")
                for name, value in exchange.headers
            ):
                await self._relay(exchange, send, outcome)
            else:
                await self._answer(exchange, send, outcome)
        finally:
            finished = True
            timer.cancel()
            if watcher is not None:
                watcher.cancel()
            exchange.close()
        done(outcome)

    async def _answer(self, exchange: UpstreamExchange, send: Send, outcome: Outcome) -> None:
        """A whole (non-streamed) answer: read, count its tokens, send with its length."""
        try:
            payload = await exchange.read_all()
        except Aborted:
            outcome.status = CLIENT_CLOSED
            await send_whole(send, CLIENT_CLOSED, [], b"")
            return
        except UpstreamError as exc:
            await send_response(send, self.upstream_error(exc, outcome))
            return
        headers = filter_headers(exchange.headers, _DROP_RESPONSE)
        if b'"usage"' in payload and not any(n == b"content-encoding" for n, _ in headers):
            _usage_in_answer(payload, outcome)
        headers.append((b"content-length", b"%d" % len(payload)))
        await send_whole(send, exchange.status, headers, payload)

    async def _relay(self, exchange: UpstreamExchange, send: Send, outcome: Outcome) -> None:
        """A stream, chunk by chunk as upstream sends it (never buffered)."""
        headers = filter_headers(exchange.headers, _DROP_STREAM) + _STREAM_HEADERS
        usage = _SseUsage(outcome)
        try:
            await send(
                {"type": "http.response.start", "status": exchange.status, "headers": headers}
            )
            while chunk := await exchange.read():
                usage.feed(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (OSError, Aborted):
            outcome.disconnected = True
        except UpstreamError as exc:
            # Headers are gone already: all we can do is end the stream (unfinished) and log.
            outcome.error = f"upstream stream broke: {type(exc).__name__}"
