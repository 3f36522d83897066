"""From what the function receives (a CloudEvent) to the Pub/Sub message and the Build.

Three deliveries carry the same message: Eventarc in binary and in structured content
mode, and a raw Pub/Sub push body, which functions-framework turns into a CloudEvent.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from buildlens_core.build import BuildDecodeError, BuildEvent, decode_build
from buildlens_core.errors import PermanentError
from notifier.unicode import scrub

PUBLISHED_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"


class EventDecodeError(PermanentError):
    """The event does not carry a Pub/Sub message we can read."""


@dataclass(frozen=True, slots=True)
class PubsubMessage:
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    message_id: str = ""
    publish_time: str = ""

    @property
    def build_id(self) -> str:
        return self.attributes.get("buildId", "")


def message_from_event_data(data: object) -> PubsubMessage:
    """The Pub/Sub message inside a CloudEvent's data (`{"message": {...}, ...}`)."""
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise EventDecodeError("event data is not JSON: expected a Pub/Sub message") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("message"), Mapping):
        raise EventDecodeError("event data has no 'message' object: not a Pub/Sub delivery")
    message: Mapping[str, Any] = data["message"]
    raw = message.get("data")
    if not isinstance(raw, str) or not raw:
        raise EventDecodeError("Pub/Sub message has no 'data': nothing to decode")
    try:
        payload = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise EventDecodeError("Pub/Sub message 'data' is not valid base64") from None
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise EventDecodeError("Pub/Sub message 'attributes' is not an object")
    return PubsubMessage(
        data=payload,
        attributes={str(k): str(v) for k, v in attributes.items()},
        message_id=str(message.get("messageId") or message.get("message_id") or ""),
        publish_time=str(message.get("publishTime") or message.get("publish_time") or ""),
    )


def build_from_message(message: PubsubMessage) -> BuildEvent:
    """Decode the Build JSON carried by a `cloud-builds` message."""
    try:
        obj = scrub(json.loads(message.data))
    except (ValueError, UnicodeDecodeError):
        raise BuildDecodeError(
            f"message {message.message_id or '?'} data is not JSON: not a Cloud Build message"
        ) from None
    return decode_build(obj)
