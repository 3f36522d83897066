"""Generic webhook: POST the versioned JSON report, signed like GitHub signs its webhooks.

Headers sent:

- `Content-Type: application/json`
- `X-Buildlens-Signature-256: sha256=<hex>`: HMAC-SHA256 with WEBHOOK_SECRET over the exact
  body bytes, nothing else (the same scheme as GitHub's `X-Hub-Signature-256`, so existing
  verification code works). Compare it in constant time.
- `X-Buildlens-Timestamp`: Unix seconds when this attempt was made. It is NOT part of the signed
  material; a receiver wanting replay protection should dedupe on `X-Buildlens-Delivery`.
- `X-Buildlens-Delivery`: `<build id>/<status>/<kind>`, stable across retries and
  redeliveries, so a receiver can drop duplicates (delivery is at least once).
- `X-Buildlens-Event`: `failure` or `recovery`; `X-Buildlens-Schema`: the report's version.
- `Authorization: Bearer <WEBHOOK_TOKEN>` when set; then WEBHOOK_HEADERS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING

from pydantic import Field

from buildlens_core.errors import ConfigError
from buildlens_core.settings import Section
from notifier.public_report import SCHEMA_VERSION
from notifier.report import Report
from notifier.sinks._config import http_url, required, secret
from notifier.sinks._http import HttpPoster, HttpSettings

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

SIGNATURE_HEADER = "X-Buildlens-Signature-256"
_RESERVED = {"content-type", "content-length", "host", SIGNATURE_HEADER.lower()}


class WebhookSettings(Section):
    prefixes = ("WEBHOOK_",)

    webhook_url: str = ""  # may be sm://
    webhook_secret: str = ""  # HMAC-SHA256 key for the signature header; may be sm://
    webhook_token: str = ""  # sent as `Authorization: Bearer ...`; may be sm://
    webhook_headers: str = ""  # JSON object of extra headers; values may be sm://
    webhook_deadline_s: float = Field(default=30.0, gt=0)


def body_bytes(report: Report) -> bytes:
    """The exact bytes that are sent and signed."""
    return json.dumps(
        report.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()


def signature(key: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class WebhookSink:
    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        secret_key: str = "",
        token: str = "",
        headers: dict[str, str] | None = None,
        deadline_s: float = 30.0,
        http: HttpSettings | None = None,
    ) -> None:
        self._url = url
        self._key = secret_key
        fixed = {"Content-Type": "application/json", "X-Buildlens-Schema": SCHEMA_VERSION}
        if token:
            fixed["Authorization"] = f"Bearer {token}"
        self._headers = {**fixed, **(headers or {})}
        self._poster = HttpPoster(self.name, deadline_s=deadline_s, http=http)

    def send(self, report: Report) -> None:
        body = body_bytes(report)
        b = report.build
        headers = {
            **self._headers,
            "X-Buildlens-Event": report.kind,
            "X-Buildlens-Delivery": f"{b.id}/{b.status}/{report.kind}",
            "X-Buildlens-Timestamp": str(int(time.time())),
        }
        if self._key:
            headers[SIGNATURE_HEADER] = signature(self._key, body)
        self._poster.request("POST", self._url, content=body, headers=headers)


def _extra_headers(raw: str) -> dict[str, str]:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigError(
            'WEBHOOK_HEADERS must be a JSON object, e.g. {"X-Team": "payments"}'
        ) from None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise ConfigError('WEBHOOK_HEADERS must map header names to strings: {"X-A": "b"}')
    reserved = [k for k in parsed if k.lower() in _RESERVED]
    if reserved:
        raise ConfigError(
            f"WEBHOOK_HEADERS may not set {', '.join(reserved)}: buildlens sets those itself"
        )
    return {k: secret(v, f"WEBHOOK_HEADERS[{k}]") for k, v in parsed.items()}


def create(settings: Settings) -> WebhookSink:
    own = settings.section(WebhookSettings)
    url = http_url(
        secret(required(own.webhook_url, "WEBHOOK_URL", "webhook"), "WEBHOOK_URL"), "WEBHOOK_URL"
    )
    return WebhookSink(
        url,
        secret_key=secret(own.webhook_secret, "WEBHOOK_SECRET"),
        token=secret(own.webhook_token, "WEBHOOK_TOKEN"),
        headers=_extra_headers(own.webhook_headers),
        deadline_s=own.webhook_deadline_s,
        http=settings.section(HttpSettings),
    )
