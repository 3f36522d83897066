"""A whole notifier deployment on this machine: Pub/Sub and Firestore emulators of its own
(so tests may stop and restart them), a push subscription to a functions-framework server,
local GCS / Cloud Logging / sink servers whose behaviour tests can switch at run time."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakes.cloud_logging import FakeCloudLogging
from tests.fakes.gcs import FakeGcs
from tests.fakes.http import RecordingServer, Request, Response
from tests.notifier.builds import fixture_build, serve_log
from tests.procs import Process, free_port, start_emulator, start_function

PROJECT = "buildlens-faults"
BUILDS = f"projects/{PROJECT}/topics/cloud-builds"
REPORTS = f"projects/{PROJECT}/topics/reports"
REPORTS_SUB = f"projects/{PROJECT}/subscriptions/reports"
PUSH_SUB = f"projects/{PROJECT}/subscriptions/notifier"


class Switchboard(RecordingServer):
    """A sink endpoint: `behaviour` may answer a request (a fault) or return None (accept).
    Accepted bodies are kept."""

    def __init__(self) -> None:
        super().__init__()
        self.behaviour: Callable[[Request], Response | None] = lambda r: None
        self.accepted: list[Request] = []
        self.refused = 0
        self._guard = threading.Lock()

    def respond(self, request: Request) -> Response:
        answer = self.behaviour(request)
        with self._guard:
            if answer is not None:
                self.refused += 1
                return answer
            self.accepted.append(request)
        return Response(200, b'{"ok": true}')

    def count(self, build_id: str) -> int:
        """Reports accepted for this build (the webhook names it in a header; a chat card
        in its id). Other builds' reports may mention it in their history, so not the body."""
        return sum(1 for r in self.accepted if _about(r, build_id))


def _about(request: Request, build_id: str) -> bool:
    delivery = request.headers.get("X-Buildlens-Delivery")
    if delivery is not None:
        return delivery.startswith(build_id + "/")
    return f'"buildlens-{build_id}"'.encode() in request.body


class Deployment:
    def __init__(self, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.pubsub_port, self.firestore_port, self.function_port = (
            free_port(), free_port(), free_port()
        )  # fmt: skip
        self.gcs = FakeGcs().start()
        self.logging_api = FakeCloudLogging()
        self.logging_api.start()
        self.webhook = Switchboard()
        self.webhook.start()
        self.chat = Switchboard()
        self.chat.start()
        self.env = {
            "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{self.pubsub_port}",
            "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{self.firestore_port}",
            "STORAGE_EMULATOR_HOST": self.gcs.url,
            "CLOUD_LOGGING_ENDPOINT": self.logging_api.url,
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "STATE_STORE": "firestore",
            "SINKS": "webhook,google_chat,pubsub",
            "WEBHOOK_URL": self.webhook.url + "/hook",
            "GOOGLE_CHAT_WEBHOOK_URL": self.chat.url + "/v1/spaces/x/messages?key=k",
            "REPORT_TOPIC": REPORTS,
            "CLAIM_LEASE_S": "4",
            "SINK_HTTP_ATTEMPTS": "2",
            "LOG_FETCH_ATTEMPTS": "2",
            "LOG_FETCH_DEADLINE_S": "15",
            **(env or {}),
        }
        self.pubsub = self._start_pubsub()
        self.firestore = start_emulator(
            "firestore", tmp / "firestore.log", port=self.firestore_port
        )
        self.function = self.start_function()
        self.reports: Counter[str] = Counter()

    # -- processes ----------------------------------------------------------------------

    def _start_pubsub(self) -> Process:
        process = start_emulator("pubsub", self.tmp / "pubsub.log", PROJECT, self.pubsub_port)
        self.wire_pubsub()
        return process

    def wire_pubsub(self) -> None:
        from google.cloud import pubsub_v1

        os.environ["PUBSUB_EMULATOR_HOST"] = self.env["PUBSUB_EMULATOR_HOST"]
        self.publisher = pubsub_v1.PublisherClient()
        self.subscriber = pubsub_v1.SubscriberClient()
        self.publisher.create_topic(name=BUILDS)
        self.publisher.create_topic(name=REPORTS)
        self.subscriber.create_subscription(name=REPORTS_SUB, topic=REPORTS)
        self.subscriber.create_subscription(
            request={
                "name": PUSH_SUB,
                "topic": BUILDS,
                "push_config": {"push_endpoint": f"http://127.0.0.1:{self.function_port}/{BUILDS}"},
                "ack_deadline_seconds": 60,
                "retry_policy": {
                    "minimum_backoff": {"seconds": 1},
                    "maximum_backoff": {"seconds": 3},
                },
            }
        )

    def start_function(self) -> Process:
        return start_function(self.env, self.tmp / "function.log", port=self.function_port)

    def restart_pubsub(self) -> None:
        self.pubsub.stop()
        self.pubsub = self._start_pubsub()

    def stop(self) -> None:
        for process in (self.function, self.pubsub, self.firestore):
            process.stop()
        for server in (self.gcs, self.logging_api, self.webhook, self.chat):
            server.stop()

    # -- traffic --------------------------------------------------------------------------

    def new_build(self, case: str = "pytest-failure", log: Path | None = None,
                  **changes: Any) -> dict[str, Any]:  # fmt: skip
        build = fixture_build(case, logsBucket="gs://faults-logs", **changes)
        build.setdefault("options", {})
        if case != "success":
            serve_log(self.gcs, build, case, log)
        return build

    def publish(
        self, build: dict[str, Any] | bytes, attributes: dict[str, str] | None = None
    ) -> None:
        if isinstance(build, bytes):
            self.publisher.publish(BUILDS, build, **(attributes or {})).result(30)
            return
        attrs = {"buildId": build["id"], "status": build["status"]}
        self.publisher.publish(BUILDS, json.dumps(build).encode(), **attrs).result(30)

    def pull_reports(self, seconds: float = 2.0) -> Counter[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            got = self.subscriber.pull(
                request={"subscription": REPORTS_SUB, "max_messages": 500}, timeout=10
            )
            if not got.received_messages:
                time.sleep(0.2)
                continue
            ack = [m.ack_id for m in got.received_messages]
            self.subscriber.acknowledge(request={"subscription": REPORTS_SUB, "ack_ids": ack})
            self.reports.update(m.message.attributes["buildId"] for m in got.received_messages)
        return self.reports

    def wait_for(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out after {seconds} s waiting for {what}\n"
                             f"function log tail:\n{self.function.output()[-3000:]}")  # fmt: skip

    def delivered_everywhere_once(self, build_id: str) -> bool:
        self.pull_reports(0.5)
        return (
            self.webhook.count(build_id) == 1
            and self.chat.count(build_id) == 1
            and self.reports[build_id] == 1
        )

    def counts(self, build_id: str) -> tuple[int, int, int]:
        self.pull_reports(0.5)
        return self.webhook.count(build_id), self.chat.count(build_id), self.reports[build_id]
