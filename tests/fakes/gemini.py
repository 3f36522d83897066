"""A local server speaking Gemini's `generateContent` REST API, recording what it received.

Point `google-genai` at it with `HttpOptions(base_url=server.url)` and an API key. Scripted
answers are served first, in order; then the default answer. Helpers build the usual shapes:
a JSON answer, an HTTP error, a delay, a safety-blocked candidate, no candidates.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.fakes.http import RecordingServer, Request, Response


@dataclass
class Delay:
    """Wait `seconds` before answering with `then` (longer than the client's timeout)."""

    seconds: float
    then: Response


def candidate_response(
    text: str,
    *,
    finish_reason: str = "STOP",
    prompt_tokens: int = 321,
    output_tokens: int = 54,
    thought: str | None = None,
) -> Response:
    parts: list[dict[str, Any]] = []
    if thought is not None:
        parts.append({"text": thought, "thought": True})
    parts.append({"text": text})
    body = {
        "candidates": [
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": finish_reason,
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": "gemini-fake",
    }
    return Response(200, json.dumps(body).encode())


def json_answer(obj: dict[str, Any], **kwargs: Any) -> Response:
    return candidate_response(json.dumps(obj), **kwargs)


def error(status: int, message: str = "", retry_after: float | None = None) -> Response:
    names = {
        400: "INVALID_ARGUMENT",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }
    body = {"error": {"code": status, "message": message or names.get(status, "error"),
                      "status": names.get(status, "UNKNOWN")}}  # fmt: skip
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return Response(status, json.dumps(body).encode(), headers)


_BLOCKED_RATING = {
    "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
    "probability": "HIGH",
    "blocked": True,
}


def safety_blocked() -> Response:
    body = {
        "candidates": [
            {
                "finishReason": "SAFETY",
                "index": 0,
                "safetyRatings": [
                    {
                        "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                        "probability": "HIGH",
                        "blocked": True,
                    }
                ],
            }
        ],
        "usageMetadata": {"promptTokenCount": 300, "totalTokenCount": 300},
    }
    return Response(200, json.dumps(body).encode())


def no_candidates(block_reason: str | None = None) -> Response:
    body: dict[str, Any] = {"usageMetadata": {"promptTokenCount": 300, "totalTokenCount": 300}}
    if block_reason:
        body["promptFeedback"] = {"blockReason": block_reason}
    else:
        body["candidates"] = []
    return Response(200, json.dumps(body).encode())


DEFAULT_ANSWER = {
    "summary": "The unit-tests step failed because a test assertion did not hold.",
    "root_cause": "An assertion in the tests failed.",
    "fix_steps": ["Run the failing test locally", "Fix the code or the test"],
    "confidence": 0.7,
    "cited_lines": [],
}


class FakeGemini(RecordingServer):
    def __init__(self) -> None:
        super().__init__()
        self.script: deque[Response | Delay] = deque()
        self.default: dict[str, Any] = dict(DEFAULT_ANSWER)
        self._script_lock = threading.Lock()

    def respond(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.endswith(":generateContent"):
            return error(404, f"no route {request.method} {request.path}")
        with self._script_lock:
            step = self.script.popleft() if self.script else None
        if isinstance(step, Delay):
            time.sleep(step.seconds)
            return step.then
        if step is not None:
            return step
        return json_answer(self.default)

    def calls(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith(":generateContent")]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.calls()]

    def start(self) -> FakeGemini:
        super().start()
        return self
