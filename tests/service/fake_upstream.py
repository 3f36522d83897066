"""A small OpenAI-compatible upstream (vLLM's shape) that records what reached it.

Network-boundary fake for the gateway's fast tests and the overhead benchmark.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "tiny"


@dataclass
class Recorder:
    requests: list[dict[str, Any]] = field(default_factory=list)
    streams_closed: int = 0
    streams_finished: int = 0
    healthy: bool = True
    models: list[str] = field(default_factory=lambda: [MODEL])


def _usage(prompt: int = 5, completion: int = 7) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def make_upstream(recorder: Recorder | None = None, record: bool = True) -> Starlette:
    rec = recorder or Recorder()

    async def remember(request: Request) -> dict[str, Any]:
        body = await request.body()
        entry = {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": dict(request.headers),
            "body": json.loads(body) if body else None,
        }
        if record:
            rec.requests.append(entry)
        return entry

    async def health(request: Request) -> Response:
        return Response(status_code=200 if rec.healthy else 503)

    async def models(request: Request) -> Response:
        await remember(request)
        data = [
            {"id": m, "object": "model", "owned_by": "vllm", "max_model_len": 512}
            for m in rec.models
        ]
        return JSONResponse({"object": "list", "data": data})

    async def completions(request: Request) -> Response:
        entry = await remember(request)
        body = entry["body"] or {}
        delay = float(body.get("delay", 0))
        if delay:
            await asyncio.sleep(delay)
        if body.get("stream"):
            return StreamingResponse(_stream(body), media_type="text/event-stream")
        headers = {
            "x-upstream": "yes",
            "connection": "keep-alive, x-secret-hop",
            "x-secret-hop": "1",
        }
        if body.get("status"):
            return JSONResponse({"error": {"message": "bad"}}, status_code=int(body["status"]))
        if "messages" in body:
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": "ok"},
                "finish_reason": "stop",
            }
            payload = {"id": "c1", "object": "chat.completion", "model": MODEL, "choices": [choice]}
        else:
            choice = {"index": 0, "text": "ok", "finish_reason": "stop"}
            payload = {"id": "c1", "object": "text_completion", "model": MODEL, "choices": [choice]}
        payload["created"] = int(time.time())
        payload["usage"] = _usage()
        return JSONResponse(payload, headers=headers)

    async def _stream(body: dict[str, Any]):  # type: ignore[no-untyped-def]
        chunks = int(body.get("chunks", 3))
        interval = float(body.get("interval", 0))
        try:
            for i in range(chunks):
                data = {
                    "id": "s1",
                    "object": "chat.completion.chunk",
                    "model": MODEL,
                    "created": 0,
                    "choices": [{"index": 0, "delta": {"content": f"t{i}"}, "finish_reason": None}],
                }
                yield f"data: {json.dumps(data)}\n\n".encode()
                if interval:
                    await asyncio.sleep(interval)
            if body.get("stream_options", {}).get("include_usage"):
                usage = {
                    "id": "s1",
                    "object": "chat.completion.chunk",
                    "model": MODEL,
                    "created": 0,
                    "choices": [],
                    "usage": _usage(3, chunks),
                }
                yield f"data: {json.dumps(usage)}\n\n".encode()
            yield b"data: [DONE]\n\n"
            rec.streams_finished += 1
        finally:
            rec.streams_closed += 1

    async def internal(request: Request) -> Response:
        await remember(request)
        return JSONResponse({"internal": True})

    routes = [
        Route("/health", health),
        Route("/v1/models", models),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/chat/completions", completions, methods=["POST"]),
        Route("/v1/embeddings", completions, methods=["POST"]),
        Route("/tokenize", internal, methods=["GET", "POST"]),
        Route("/pause", internal, methods=["GET", "POST"]),
        Route("/metrics", internal, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.recorder = rec
    return app
