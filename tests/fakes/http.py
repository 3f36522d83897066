"""A small threaded HTTP server that records requests and can inject faults."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None  # for streamed bodies


class RecordingServer:
    """Subclass and implement `respond`; `faults` are answered first, in order."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: deque[Response] = deque()
        self.delay_s = 0.0  # every answer waits this long: a slow backend
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                request = Request(
                    self.command, url.path, parse_qs(url.query), dict(self.headers), body
                )
                with server._lock:
                    server.requests.append(request)
                    faulty = server.faults and server.faultable(request)
                    fault = server.faults.popleft() if faulty else None
                if server.delay_s:
                    time.sleep(server.delay_s)
                response = fault or server.respond(request)
                self.send_response(response.status)
                headers = {"Content-Type": "application/json", **response.headers}
                if isinstance(response.body, bytes):
                    headers["Content-Length"] = str(len(response.body))
                elif response.length is not None:
                    headers["Content-Length"] = str(response.length)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                chunks = [response.body] if isinstance(response.body, bytes) else response.body
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def respond(self, request: Request) -> Response:
        raise NotImplementedError

    def faultable(self, request: Request) -> bool:
        """Whether an injected fault may answer this request."""
        return True

    def received(self) -> bytes:
        """Every byte the server received: paths, headers and bodies."""
        out = bytearray()
        for r in self.requests:
            out += f"{r.method} {r.path} {r.query}\n".encode()
            for key, value in r.headers.items():
                out += f"{key}: {value}\n".encode()
            out += r.body + b"\n"
        return bytes(out)

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
