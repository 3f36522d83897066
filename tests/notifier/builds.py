"""Fixture builds under fresh ids, so tests never collide in a state store."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

from notifier.logsources.gcs import object_path
from tests.conftest import FIXTURES
from tests.fakes.gcs import FakeGcs


def fixture_build(case: str, **changes: Any) -> dict[str, Any]:
    build: dict[str, Any] = json.loads((FIXTURES / case / "build.json").read_text())
    build["id"] = str(uuid.uuid4())
    build.update(changes)
    return build


def push_body(build: dict[str, Any], message_id: str = "1") -> dict[str, Any]:
    data = base64.b64encode(json.dumps(build).encode()).decode()
    attributes = {"buildId": build["id"], "status": build["status"]}
    message = {"data": data, "attributes": attributes, "messageId": message_id}
    return {"message": message, "subscription": "projects/buildlens-demo/subscriptions/s"}


def serve_log(gcs: FakeGcs, build: dict[str, Any], case: str, log: Path | None = None) -> None:
    bucket, name = object_path(build["logsBucket"], build["id"])
    gcs.put(bucket, name, log or FIXTURES / case / "log.txt")
