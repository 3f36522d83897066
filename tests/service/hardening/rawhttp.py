"""Raw HTTP/1.1 over a loopback socket: requests exactly as written, no client normalisation."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass
class Reply:
    raw: bytes  # without an interim `100 Continue`
    closed: bool  # the server closed the connection after answering
    continued: bool = False  # the server sent `100 Continue` first

    @property
    def status(self) -> int | None:
        if not self.raw.startswith(b"HTTP/1."):
            return None
        return int(self.raw.split(b" ", 2)[1])

    @property
    def statuses(self) -> list[int]:
        """Every response status in the reply (pipelined requests give several)."""
        out = []
        for part in self.raw.split(b"HTTP/1.1 ")[1:]:
            head = part.split(b" ", 1)[0]
            if head.isdigit():
                out.append(int(head))
        return out

    def header(self, name: str) -> str | None:
        head = self.raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        for line in head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    @property
    def body(self) -> bytes:
        return self.raw.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.raw else b""


def exchange(host: str, port: int, data: bytes, wait: float = 3.0) -> Reply:
    """Send `data`, read until the server closes or goes quiet for `wait` seconds."""
    with socket.create_connection((host, port), timeout=wait) as sock:
        sock.sendall(data)
        return read_reply(sock, wait)


def read_reply(sock: socket.socket, wait: float) -> Reply:
    reply = _read(sock, wait)
    if reply.raw.startswith(_CONTINUE):
        return Reply(reply.raw[len(_CONTINUE) :], reply.closed, continued=True)
    return reply


def _complete(data: bytes) -> bool:
    """Whether `data` ends with a whole response (Content-Length framed or chunked)."""
    if b"\r\n\r\n" not in data:
        return False
    head, _, body = data.rpartition(b"HTTP/1.1 ")[2].partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return body.endswith(b"0\r\n\r\n")


def _read(sock: socket.socket, wait: float, grace: float = 0.3) -> Reply:
    """Read until the server closes, or `grace` s of quiet after a whole response (so that a
    second, smuggled response would still be seen), or `wait` s of quiet."""
    sock.settimeout(wait)
    received = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return Reply(received, closed=True)
            received += chunk
            if _complete(received.removeprefix(_CONTINUE)):
                sock.settimeout(grace)
    except TimeoutError:
        return Reply(received, closed=False)
    except ConnectionResetError:
        return Reply(received, closed=True)


def trickle(sock: socket.socket, data: bytes, interval: float, limit: float) -> tuple[float, bool]:
    """Send `data` a byte every `interval` s until the server answers or closes, or `limit` s.

    Returns (seconds until the server reacted, whether it did)."""
    start = time.monotonic()
    sock.settimeout(interval)
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:  # closed by the server
            return time.monotonic() - start, True
        try:
            if sock.recv(65536, socket.MSG_PEEK) is not None:
                return time.monotonic() - start, True
        except TimeoutError:
            pass
        except OSError:
            return time.monotonic() - start, True
        if time.monotonic() - start > limit:
            break
    return time.monotonic() - start, False
