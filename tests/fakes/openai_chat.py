"""A recording OpenAI-compatible `/v1/chat/completions` server, for the openai analyzer.

It answers every completion with the explanation JSON in `answer` and records every byte it
received, so a test can check what left the function.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.gemini import DEFAULT_ANSWER
from tests.fakes.http import RecordingServer, Request, Response


class FakeOpenAI(RecordingServer):
    def __init__(self) -> None:
        super().__init__()
        self.answer: dict[str, Any] = dict(DEFAULT_ANSWER)

    def respond(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.endswith("/chat/completions"):
            return Response(404, b'{"error": {"message": "no such route"}}')
        body = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": json.loads(request.body).get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(self.answer)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def calls(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        super().start()
        return self
