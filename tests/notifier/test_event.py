from __future__ import annotations

import base64
import json

import pytest

from buildlens_core.build import BuildDecodeError
from notifier.event import EventDecodeError, build_from_message, message_from_event_data


def envelope(data: str, **message: object) -> dict[str, object]:
    return {"message": {"data": data, "messageId": "42", **message}, "subscription": "s"}


def b64(obj: object) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


def test_reads_message_from_dict_bytes_and_str() -> None:
    body = envelope(b64({"id": "b1", "status": "FAILURE"}), attributes={"buildId": "b1"})
    for data in (body, json.dumps(body), json.dumps(body).encode()):
        message = message_from_event_data(data)
        assert message.build_id == "b1"
        assert message.message_id == "42"
        assert build_from_message(message).id == "b1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\xffgarbage", "not JSON"),
        ({"nothing": 1}, "no 'message' object"),
        (envelope(""), "no 'data'"),
        (envelope("!!!not base64!!!"), "not valid base64"),
        (envelope(b64({"id": "x"}), attributes=["a"]), "'attributes' is not an object"),
    ],
)
def test_malformed_events_are_permanent_errors(data: object, message: str) -> None:
    with pytest.raises(EventDecodeError) as info:
        message_from_event_data(data)
    assert message in str(info.value)


def test_message_that_is_not_a_build() -> None:
    message = message_from_event_data(envelope(base64.b64encode(b"hello").decode()))
    with pytest.raises(BuildDecodeError, match="not JSON"):
        build_from_message(message)
    message = message_from_event_data(envelope(b64({"kind": "storage#object"})))
    with pytest.raises(BuildDecodeError, match="'id' is missing"):
        build_from_message(message)


def test_lone_surrogates_are_replaced_not_passed_on() -> None:
    # JSON may escape half of an emoji; Python decodes it to a str no sink can encode.
    raw = '{"id": "b1", "status": "FAILURE", "substitutions": {"TRIGGER_NAME": "deploy \\ud83d"}}'
    message = message_from_event_data(envelope(base64.b64encode(raw.encode()).decode()))
    build = build_from_message(message)
    assert build.trigger_name == "deploy \ufffd"
    assert build.trigger_name.encode("utf-8")
