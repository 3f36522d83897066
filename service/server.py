"""The uvicorn server the gateway runs in, with a deadline on request headers (slow loris).

uvicorn bounds idle keep-alive connections, but not a client that opens a connection and sends
nothing, nor one that sends its headers a byte at a time (any byte cancels the keep-alive timer).
The protocol below gives each request `header_timeout` seconds, from the connection's start or
the request's first byte, to finish its headers; then it answers 408 and closes the connection.
Slow bodies are bounded by the app (`body_timeout`, also a 408). The same protocol also sends
each response's head together with its body (`CoalescingTransport`).

uvicorn's `loop="auto"` runs on uvloop (a `service` dependency) and the protocol is httptools'
(C parser; h11 is pure Python and slower per request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .settings import Settings

_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)
_TIMEOUT_BODY = (
    b'{"error":{"message":"request headers not received in time","type":"invalid_request_error",'
    b'"code":"request_timeout","param":null}}'
)


_TOO_LARGE_BODY = (
    b'{"error":{"message":"request headers too large","type":"invalid_request_error",'
    b'"code":"headers_too_large","param":null}}'
)
_TOO_LARGE_RESPONSE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


class CoalescingTransport(asyncio.Transport):
    """Sends a response's head in the same system call as the start of its body.

    uvicorn writes the head as soon as the app starts a response and the body in a second write
    right after: two system calls (on loopback each also wakes the reader) where one does; on
    the gateway's forwarded answers that was about a tenth of its CPU. A head waits for the next
    write, or at most until the event loop's next step (a stream whose first chunk is slow);
    anything that ends or hands over the connection sends it first, so order is kept.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held:
            data, self._held = self._held + data, b""
            self._transport.write(data)
        elif data[:7] == b"HTTP/1.":  # a response head (or an interim 100 Continue)
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        if self._held:
            data, self._held = self._held, b""
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = b""
        self._transport.abort()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


def header_timeout_protocol(timeout: float, max_bytes: int = 65536) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with a deadline on each request's headers, a size limit
    (httptools has none: headers that never end would grow in memory until the deadline), and
    responses written through a `CoalescingTransport`."""

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None
        _header_bytes = 0

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _responding(self) -> bool:
            # A pipelined request's headers may trickle in while an earlier response is being
            # written: then closing is all that can be done without corrupting that response.
            return self.cycle is not None and not self.cycle.response_complete

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                if not self._responding():
                    self.transport.write(_TIMEOUT_RESPONSE % (len(_TIMEOUT_BODY), _TIMEOUT_BODY))
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)  # flow control keeps the socket's own transport
            self.transport = CoalescingTransport(transport, self.loop)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._header_timer is None:  # headers complete (or connection done)
                return
            self._header_bytes += len(data)  # all of it is header: they are not complete yet
            if self._header_bytes > max_bytes and not self.transport.is_closing():
                self._disarm()
                self.transport.write(_TOO_LARGE_RESPONSE % (len(_TOO_LARGE_BODY), _TOO_LARGE_BODY))
                self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._header_bytes = 0
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

    return HeaderDeadlineProtocol


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The production server configuration (tests run it on loopback with `host`/`port`)."""
    values: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": header_timeout_protocol(settings.header_timeout, settings.max_header_bytes),
        "log_config": None,
        "access_log": False,  # the gateway logs each request itself, with the key name
        "server_header": False,
        "proxy_headers": True,
        "forwarded_allow_ips": "*",  # Cloud Run's front end is the only way in
        "timeout_graceful_shutdown": 10,
        "timeout_keep_alive": settings.keepalive_timeout,
    }
    values.update(overrides)
    return uvicorn.Config(app, **values)
