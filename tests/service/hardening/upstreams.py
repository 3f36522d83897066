"""Network-boundary fakes for the hardening tests: an upstream that reflects everything it got.

Reflecting makes leaks visible: if the gateway ever forwarded a key (in a header, the query or
the body), it would come back in the response the test inspects. The upstream also records every
request path, so a test can prove that nothing but the allowlisted routes was ever reached.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

MODEL = "tiny"
ALLOWED = frozenset(
    {"/health", "/v1/models", "/v1/completions", "/v1/chat/completions", "/v1/embeddings"}
)


@dataclass
class Seen:
    """What reached the upstream; appended from the server's thread."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0  # requests that asked to be held until the gateway hangs up
    hangups: int = 0  # ... and that saw the gateway hang up
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> set[str]:
        with self.lock:
            return {r["path"] for r in self.requests}

    def forwarded(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"] != "/health"]


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _json(send: Any, status: int, payload: Any, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def reflecting_upstream(seen: Seen) -> Any:
    """A raw ASGI upstream answering every path with an echo of the request it received."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = await _body(receive)
        echo = {
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": scope.get("raw_path", b"").decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body": body.decode("latin-1"),
        }
        with seen.lock:
            seen.requests.append(echo)
        if scope["path"] == "/health":
            await _json(send, 200, {}, [])
            return
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = None
        options = parsed if isinstance(parsed, dict) else {}
        # Upstream headers that a gateway must not pass on, next to one it must.
        extra = [(b"x-upstream", b"yes"), (b"connection", b"x-hop"), (b"x-hop", b"1")]
        if options.get("hold"):
            await _hold(seen, receive, send, float(options["hold"]))
            return
        if scope["path"] == "/v1/models":
            models = [{"id": MODEL, "object": "model", "owned_by": "vllm"}]
            await _json(send, 200, {"object": "list", "data": models, "echo": echo}, extra)
        elif options.get("stream") is True:
            headers = [(b"content-type", b"text/event-stream"), *extra]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            for event in ({"echo": echo}, {"usage": {"prompt_tokens": 1, "completion_tokens": 1}}):
                data = b"data: " + json.dumps(event).encode() + b"\n\n"
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        elif parsed is None:
            await _json(send, 400, {"error": {"message": "not JSON", "type": "bad"}}, extra)
        else:
            await _json(send, 200, {"object": "echo", "echo": echo}, extra)

    return app


async def _hold(seen: Seen, receive: Any, send: Any, seconds: float) -> None:
    """Answer nothing for `seconds`, noting whether the gateway hangs up meanwhile."""
    with seen.lock:
        seen.held += 1
    try:
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
        with seen.lock:
            seen.hangups += 1
        return
    except TimeoutError:
        pass
    await _json(send, 200, {"object": "held"}, [])
