"""The gateway app: API keys, rate limits and an allowlist in front of the model server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable

import anyio
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import Denied, authenticate, check_key, client_host, key_from_headers
from .errors import error_response
from .keys import (
    EnvSource,
    FileSource,
    KeyRecord,
    KeySource,
    KeyStore,
    SecretManagerSource,
    secret_client,
)
from .metrics import CONTENT_TYPE_LATEST, GatewayMetrics
from .openapi import openapi_schema
from .proxy import (
    BodyTooLarge,
    Outcome,
    Proxy,
    parse_request,
    read_body,
    send_response,
)
from .ratelimit import RateLimiter, retry_after_header
from .settings import Settings
from .upstream import Upstream, UpstreamError, UpstreamPool

_log = logging.getLogger("service.gateway")

# The only upstream paths ever requested: the client's path selects one, it is never forwarded.
FORWARDED: dict[str, str] = {
    "/v1/models": "GET",
    "/v1/completions": "POST",
    "/v1/chat/completions": "POST",
    "/v1/embeddings": "POST",
}
_ROUTES_HELP = ", ".join(f"{m} {p}" for p, m in FORWARDED.items()) + ", GET /v1/models/{id}"
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def key_source(settings: Settings) -> KeySource:
    """The configured key source; an error naming the settings when none is configured."""
    if settings.keys_secret:
        client = secret_client(settings.secret_manager_endpoint, settings.secret_manager_anonymous)
        return SecretManagerSource(settings.keys_secret, client)
    if settings.keys_file:
        return FileSource(settings.keys_file)
    if settings.keys_json:
        return EnvSource(settings.keys_json)
    raise ValueError(
        "no API keys configured: set GATEWAY_KEYS_SECRET=projects/P/secrets/S, "
        "GATEWAY_KEYS_FILE=/path/keys.json or GATEWAY_KEYS_JSON"
    )


class _Gateway:
    """Request handling, kept apart from FastAPI wiring so each piece reads on its own."""

    def __init__(self, settings: Settings, upstream: Upstream | None = None) -> None:
        self.settings = settings
        self.store = KeyStore(key_source(settings), settings.admin_names)
        self.metrics = GatewayMetrics()
        self.limiter = RateLimiter()
        self.proxy = Proxy(
            upstream
            or UpstreamPool(
                settings.upstream_url,
                settings.connect_timeout,
                settings.read_timeout,
                settings.max_connections,
            )
        )

    async def reload_keys(self) -> bool:
        result = await anyio.to_thread.run_sync(self.store.reload)
        if not result.ok:
            self.metrics.reload_failures.inc()
        self.metrics.keys.set(len(self.store))
        return result.ok

    async def reload_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.keys_reload_seconds)
            with contextlib.suppress(Exception):  # reload logs its own failures
                await self.reload_keys()

    def refuse(self, denied: Denied) -> Response:
        self.metrics.rejections.labels(denied.reason).inc()
        return error_response(denied.status, denied.message, "authentication_error", denied.code)

    def admit(self, checked: KeyRecord | Denied) -> KeyRecord | Response:
        """Rate-limit an authenticated caller; a Response means the request is refused."""
        if isinstance(checked, Denied):
            return self.refuse(checked)
        rpm = checked.rpm if checked.rpm is not None else self.settings.default_rpm
        wait = self.limiter.acquire(checked.name, rpm)
        if wait is not None:
            self.metrics.rejections.labels("rate_limited").inc()
            _log.warning("rate limit hit", extra={"key_name": checked.name, "rpm": rpm})
            return error_response(
                429,
                f"rate limit of {rpm} requests per minute reached for this key; "
                f"retry after {retry_after_header(wait)}s",
                "rate_limit_error",
                "rate_limit_exceeded",
                headers={"Retry-After": retry_after_header(wait)},
            )
        return checked

    def finisher(
        self, method: str, route: str, key: str, start: float
    ) -> Callable[[Outcome], None]:
        def done(outcome: Outcome) -> None:
            seconds = time.perf_counter() - start
            self.metrics.record(
                key,
                route,
                outcome.status,
                seconds,
                outcome.prompt_tokens,
                outcome.completion_tokens,
            )
            if outcome.error:
                self.metrics.upstream_errors.labels(outcome.error.split(":")[0]).inc()
            level = logging.WARNING if outcome.error else logging.INFO
            if (self.settings.access_log or outcome.error) and _log.isEnabledFor(level):
                # makeRecord + handle: Logger.log would also walk the stack for the caller's
                # file and line, which the JSON lines never show.
                record = _log.makeRecord(
                    _log.name,
                    level,
                    "",
                    0,
                    "%s %s %d",
                    (method, route, outcome.status),
                    None,
                    extra={
                        "route": route,
                        "status": outcome.status,
                        "key_name": key,
                        "latency_ms": round(seconds * 1000, 2),
                        "prompt_tokens": outcome.prompt_tokens,
                        "completion_tokens": outcome.completion_tokens,
                        "client_disconnected": outcome.disconnected,
                        "upstream_error": outcome.error,
                    },
                )
                _log.handle(record)

        return done

    async def forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An allowlisted route, as raw ASGI: FastAPI's routing, middleware and Request objects
        cost as much CPU per request as the proxying itself, so they stay off this path."""
        path = scope["path"]
        try:
            await self._forward(scope, receive, send, path)
        except Exception:
            _log.exception("unhandled error", extra={"path": path})
            failed = error_response(
                500, "internal gateway error; retry", "server_error", "internal"
            )
            with contextlib.suppress(Exception):  # the answer may have begun: then it stays cut
                await send_response(send, failed, close=True)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        start = time.perf_counter()
        request = parse_request(scope)
        key = key_from_headers(request.api_key, request.authorization)
        admitted = self.admit(check_key(key, self.store, client_host(scope), path))
        if isinstance(admitted, Response):
            # Sent before the body was read: close, or the server keeps reading and discarding it.
            await send_response(send, admitted, close=request.has_body)
            return
        try:
            async with asyncio.timeout(self.settings.body_timeout):
                body = await read_body(
                    receive, self.settings.max_body_bytes, request.declared_length
                )
        except TimeoutError:
            # Slow loris: a body trickling in holds a connection and a task; bounded in total.
            self.metrics.rejections.labels("body_timeout").inc()
            timed_out = error_response(
                408,
                f"request body not received within {self.settings.body_timeout:.0f}s",
                "invalid_request_error",
                "request_timeout",
            )
            await send_response(send, timed_out, close=True)
            return
        except BodyTooLarge:
            self.metrics.rejections.labels("too_large").inc()
            limit = self.settings.max_body_bytes
            too_large = error_response(
                413,
                f"request body is larger than {limit} bytes; send a shorter prompt",
                "invalid_request_error",
                "request_too_large",
            )
            await send_response(send, too_large, close=True)
            return
        if body is None:  # the client left while sending its body: nobody to answer
            return
        done = self.finisher(scope["method"], path, admitted.name, start)
        await self.proxy.forward(scope, receive, send, path, request, body, done)

    async def model(self, request: Request, model_id: str) -> Response:
        """GET /v1/models/{id}, answered from the upstream list (vLLM has no such route)."""
        admitted = self.admit(authenticate(request, self.store))
        if isinstance(admitted, Response):
            return admitted
        try:
            status, content = await self.proxy.pool.get("/v1/models")
        except UpstreamError as exc:
            return self.proxy.upstream_error(exc, Outcome(status=0))
        if status != 200:
            return Response(content, status, media_type="application/json")
        try:
            entries = [e for e in json.loads(content)["data"] if isinstance(e, dict)]
        except (ValueError, KeyError, TypeError):
            _log.warning("model server's /v1/models answer is not a model list")
            return error_response(
                502,
                "the model server's model list is unreadable; retry shortly",
                "upstream_unavailable",
                "upstream_unavailable",
            )
        for entry in entries:
            if entry.get("id") == model_id:
                return JSONResponse(entry)
        return error_response(
            404,
            f"model {model_id!r} does not exist here; GET /v1/models lists the served models",
            "invalid_request_error",
            "model_not_found",
        )

    async def health(self) -> Response:
        """200 only when the model server answers and lists a loaded model (startup probe)."""
        pool = self.proxy.pool
        timeout = self.settings.health_timeout

        def unavailable(reason: str) -> Response:
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)

        if not self.store.loaded:
            return unavailable("no API keys loaded yet")
        try:
            alive, _ = await pool.get("/health", timeout=timeout)
            if alive != 200:
                return unavailable(f"model server /health answered {alive}")
            listed, content = await pool.get("/v1/models", timeout=timeout)
        except UpstreamError as exc:
            return unavailable(f"model server not reachable ({type(exc).__name__}); starting?")
        try:
            models = [m["id"] for m in json.loads(content)["data"]]
        except (ValueError, KeyError, TypeError):
            models = []
        if listed != 200 or not models:
            return unavailable("model server is up but lists no model yet")
        return JSONResponse({"status": "ok", "models": models})

    async def metrics_text(self, request: Request) -> Response:
        record = authenticate(request, self.store, admin=True)
        if isinstance(record, Denied):
            return self.refuse(record)
        return Response(self.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def reload(self, request: Request) -> Response:
        record = authenticate(request, self.store, admin=True)
        if isinstance(record, Denied):
            return self.refuse(record)
        _log.info("key reload requested", extra={"key_name": record.name})
        if await self.reload_keys():
            return JSONResponse({"reloaded": True, "keys": len(self.store)})
        return error_response(
            503,
            f"key reload from {self.store.source} failed: {self.store.last_error}; "
            f"kept the last good set of {len(self.store)} keys",
            "server_error",
            "key_reload_failed",
        )


class _GatewayApp(FastAPI):
    """FastAPI for every route but the forwarded ones, which go straight to the gateway."""

    gateway: _Gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and FORWARDED.get(scope["path"]) == scope["method"]:
            await self.gateway.forward(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class _CloseUnreadBodies:
    """Outermost layer: a response sent before the request body was fully received (401, 403,
    404, 408, 413, 429 ...) closes the connection. Otherwise the server keeps reading, and
    discarding, whatever the client still sends, for as long as it sends it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        pending = headers.get(b"content-length", b"0") not in (b"0", b"") or (
            b"transfer-encoding" in headers
        )

        async def tracking_receive() -> Message:
            nonlocal pending
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                pending = False
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and pending:
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"connection", b"close")],
                }
            await send(message)

        await self.app(scope, tracking_receive, closing_send)


def create_app(settings: Settings, upstream: Upstream | None = None) -> FastAPI:
    """Build the gateway; `upstream` replaces the connection pool to the model server (another
    host, TLS settings, tests), which is otherwise made from the settings."""
    gateway = _Gateway(settings, upstream)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not await gateway.reload_keys():
            raise RuntimeError(
                f"no API keys could be loaded from {gateway.store.source}: "
                f"{gateway.store.last_error}; fix the key source and restart"
            )
        task = asyncio.create_task(gateway.reload_forever())
        try:
            yield
        finally:
            task.cancel()
            await gateway.proxy.aclose()

    app = _GatewayApp(
        title="buildlens gateway",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.gateway = gateway
    app.state.gateway = gateway
    app.add_middleware(_CloseUnreadBodies)

    @app.get("/v1/models/{model_id:path}", include_in_schema=False)
    async def model(request: Request, model_id: str) -> Response:
        return await gateway.model(request, model_id)

    @app.get("/health", include_in_schema=False)
    async def health() -> Response:
        return await gateway.health()

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return await gateway.metrics_text(request)

    @app.post("/admin/reload-keys", include_in_schema=False)
    async def reload(request: Request) -> Response:
        return await gateway.reload(request)

    @app.api_route("/{path:path}", methods=_ALL_METHODS, include_in_schema=False)
    async def not_served(path: str) -> Response:
        gateway.metrics.rejections.labels("not_found").inc()
        return error_response(
            404,
            f"this route is not served by the gateway; available: {_ROUTES_HELP}",
            "invalid_request_error",
            "not_found",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # What routing refuses by itself (`OPTIONS *`, unknown methods), in the OpenAI shape.
        gateway.metrics.rejections.labels("not_found").inc()
        return error_response(
            exc.status_code,
            f"{request.method} is not served here; available: {_ROUTES_HELP}",
            "invalid_request_error",
            "not_found" if exc.status_code == 404 else "method_not_allowed",
        )

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        _log.exception("unhandled error", extra={"path": request.url.path})
        return error_response(500, "internal gateway error; retry", "server_error", "internal")

    document = openapi_schema()
    app.openapi = lambda: document  # type: ignore[method-assign]  # FastAPI's documented way
    return app
