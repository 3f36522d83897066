"""Cloud Logging's `entries.write` REST method, recording the entries it was given."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.http import RecordingServer, Request, Response


class FakeLoggingWriter(RecordingServer):
    def respond(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.endswith("/entries:write"):
            return Response(404, b'{"error": {"code": 404, "message": "Not Found"}}')
        body = json.loads(request.body)
        for entry in body.get("entries", []):
            if "logName" not in entry or "resource" not in entry:
                return Response(400, b'{"error": {"code": 400, "message": "bad entry"}}')
        return Response(200, b"{}")

    def entries(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for r in self.requests:
            if r.path.endswith("/entries:write"):
                found += json.loads(r.body).get("entries", [])
        return found
