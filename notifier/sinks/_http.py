"""The one HTTP poster every webhook-style sink uses.

Retries timeouts, connection errors, 429 (honouring `Retry-After`) and 5xx with exponential
backoff and full jitter, all inside one deadline per send. Any other 4xx is permanent
(`SinkRejected`); running out of attempts or time is transient (`SinkUnavailable`).
Messages name the sink, the method and the host, never a URL path, query or token: webhook
URLs carry their secret in the path.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import Field

from buildlens_core.settings import Section
from notifier.sinks.base import SinkRejected, SinkUnavailable

_MIN_SECRET = 6  # shorter values would redact ordinary words


class HttpSettings(Section):
    """Knobs shared by the HTTP sinks (each sink has its own deadline)."""

    prefixes = ("SINK_HTTP_",)

    sink_http_attempts: int = Field(default=5, ge=1)  # tries per send, the first included
    sink_http_timeout_s: float = Field(default=10.0, gt=0)  # per attempt
    sink_http_backoff_s: float = Field(default=0.5, ge=0)  # first backoff ceiling; doubles
    sink_http_max_backoff_s: float = Field(default=8.0, ge=0)


# -- secrets never reach a log line -------------------------------------------------------

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Remember a secret so `redact` and the httpx log filter blank it out.

    A URL is registered whole and by its path and query, which carry webhook secrets.
    """
    candidates = {value}
    if value.startswith(("http://", "https://")):
        url = httpx.URL(value)
        candidates |= {str(url), url.raw_path.decode("ascii", "replace"), url.query.decode()}
    with _secrets_lock:
        _secrets.update(c for c in candidates if len(c) >= _MIN_SECRET and c != "/")


def redact(text: str) -> str:
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, "***")
    return text


class _RedactFilter(logging.Filter):
    """httpx logs every request URL at INFO; webhook URLs are secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


for _name in ("httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactFilter) for f in _logger.filters):
        _logger.addFilter(_RedactFilter())


# -- Retry-After ----------------------------------------------------------------------------


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# -- the poster -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Retry:
    reason: str
    wait_s: float | None = None  # None: backoff with jitter


class HttpPoster:
    """Sends one request with retries inside `deadline_s`; returns the 2xx response."""

    def __init__(
        self,
        sink: str,
        *,
        deadline_s: float,
        http: HttpSettings | None = None,
        headers: Mapping[str, str] | None = None,
        rate_limited: Callable[[httpx.Response], bool] | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        http = http or HttpSettings.model_construct()  # the defaults (tests build posters)
        self.sink = sink
        self.deadline_s = deadline_s
        self.attempts = http.sink_http_attempts
        self.timeout_s = http.sink_http_timeout_s
        self.backoff_s = http.sink_http_backoff_s
        self.max_backoff_s = http.sink_http_max_backoff_s
        self._rate_limited = rate_limited or (lambda r: r.status_code == 429)
        self._client = client or httpx.Client(
            headers={"User-Agent": "buildlens", **(headers or {})}, follow_redirects=False
        )
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str = "",
        content: bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        accept: Iterable[int] = (),
    ) -> httpx.Response:
        """`what` names the call in messages (default: method and host only).

        Statuses in `accept` are returned like 2xx (e.g. 404 when looking something up).
        """
        target = what or f"{method} {_host(url)}"
        accepted = set(accept)
        deadline = self._clock() + self.deadline_s
        last = ""
        attempt = 0
        for attempt in range(1, self.attempts + 1):
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            timeout = min(self.timeout_s, remaining)
            try:
                response = self._client.request(
                    method,
                    url,
                    content=content,
                    json=json,
                    headers=headers,
                    params=params,
                    timeout=timeout,
                )
            except httpx.TimeoutException:
                retry = _Retry(f"timed out after {timeout:.1f} s")
            except httpx.TransportError as exc:
                retry = _Retry(f"connection failed ({exc.__class__.__name__})")
            else:
                if response.is_success or response.status_code in accepted:
                    return response
                retry = self._classify(response, target)
            last = retry.reason
            if attempt == self.attempts:
                break
            if retry.wait_s is not None:
                wait = retry.wait_s
                if self._clock() + wait > deadline:
                    raise SinkUnavailable(
                        f"{self.sink}: {target} {retry.reason}; Retry-After {wait:.0f} s is "
                        f"past this send's {self.deadline_s:.0f} s deadline (raise "
                        f"{self.sink.upper()}_DEADLINE_S to wait longer)"
                    )
            else:
                ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
                wait = min(random.uniform(0, ceiling), max(0.0, deadline - self._clock()))
            self._sleep(wait)
        raise SinkUnavailable(
            f"{self.sink}: {target} failed after {attempt} attempt{'s' if attempt > 1 else ''} "
            f"within {self.deadline_s:.0f} s: {last or 'deadline passed'}"
        )

    def _classify(self, response: httpx.Response, target: str) -> _Retry:
        """How to retry this answer; raises `SinkRejected` when retrying cannot help."""
        status = response.status_code
        if self._rate_limited(response):
            wait = retry_after_s(response.headers.get("Retry-After"))
            return _Retry(f"was rate limited ({status})", wait)
        if status >= 500:
            return _Retry(f"answered {status}")
        detail = redact(_snippet(response))
        raise SinkRejected(
            f"{self.sink}: {target} was refused with {status} {response.reason_phrase}"
            + (f": {detail}" if detail else "")
            + f" ({_advice(status, self.sink)})"
        )


def _host(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "(invalid URL)"
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}"


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _advice(status: int, sink: str) -> str:
    env = sink.upper()
    if status in (401, 403):
        return f"check the credentials in the {env}_* settings"
    if status in (404, 410):
        return f"check the {env}_* URL or target still exists"
    return "the payload was refused; this is not retried"
