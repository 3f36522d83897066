"""Google Cloud Storage's JSON API, the part that downloads an object (`alt=media`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from tests.fakes.http import RecordingServer, Request, Response

_CHUNK = 1 << 20


def _stream(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


class FakeGcs(RecordingServer):
    """Objects are files on disk, so tests can serve logs of hundreds of megabytes."""

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict[tuple[str, str], Path] = {}

    def put(self, bucket: str, name: str, path: Path) -> None:
        self.objects[(bucket, name)] = path

    def faultable(self, request: Request) -> bool:
        return request.query.get("alt") == ["media"]

    def respond(self, request: Request) -> Response:
        parts = request.path.split("/")
        # /download/storage/v1/b/{bucket}/o/{object} or /storage/v1/b/{bucket}/o/{object}
        if "b" not in parts or "o" not in parts:
            return Response(404, b'{"error": {"code": 404, "message": "Not Found"}}')
        bucket = unquote(parts[parts.index("b") + 1])
        name = unquote("/".join(parts[parts.index("o") + 1 :]))
        path = self.objects.get((bucket, name))
        if path is None:
            body = {"error": {"code": 404, "message": f"No such object: {bucket}/{name}"}}
            return Response(404, json.dumps(body).encode())
        if request.query.get("alt") == ["media"]:
            size = path.stat().st_size
            return Response(200, _stream(path), {"Content-Type": "text/plain"}, length=size)
        meta = {"bucket": bucket, "name": name, "size": str(path.stat().st_size)}
        return Response(200, json.dumps(meta).encode())
