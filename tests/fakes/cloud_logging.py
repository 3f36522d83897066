"""Cloud Logging's `entries.list` REST method, paged, with the filter it was given recorded."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.http import RecordingServer, Request, Response


class FakeCloudLogging(RecordingServer):
    def __init__(self, entries: list[dict[str, Any]] | None = None, page_size: int = 0) -> None:
        super().__init__()
        self.entries = entries or []
        self.page_size = page_size  # 0: honour the request's pageSize

    def respond(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.endswith("/entries:list"):
            return Response(404, b'{"error": {"code": 404, "message": "Not Found"}}')
        body = json.loads(request.body or b"{}")
        size = self.page_size or int(body.get("pageSize") or 1000)
        start = int(body.get("pageToken") or 0)
        entries = self.entries
        wanted = re.search(r'resource\.labels\.build_id="([^"]*)"', body.get("filter", ""))
        if wanted and any("resource" in e for e in entries):
            build_id = wanted.group(1)
            entries = [e for e in entries if e["resource"]["labels"]["build_id"] == build_id]
        page: dict[str, Any] = {"entries": entries[start : start + size]}
        if start + size < len(entries):
            page["nextPageToken"] = str(start + size)
        return Response(200, json.dumps(page).encode())

    def list_requests(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests if r.path.endswith("/entries:list")]
