"""End to end on the Pub/Sub and Firestore emulators with duplicates injected and a sink
that fails 10% of requests: every failed build is reported exactly once on every sink."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import fixture_cases
from tests.fakes.gcs import FakeGcs
from tests.fakes.http import RecordingServer, Request, Response
from tests.notifier.builds import fixture_build, serve_log
from tests.procs import Process, start_function

pytestmark = pytest.mark.emulator

PROJECT = "buildlens-e2e"
BUILDS = f"projects/{PROJECT}/topics/cloud-builds"
REPORTS = f"projects/{PROJECT}/topics/reports"
REPORTS_SUB = f"projects/{PROJECT}/subscriptions/reports"


class FlakyWebhook(RecordingServer):
    """Answers 503 to a tenth of requests; records the deliveries it accepted."""

    def __init__(self, failure_rate: float, seed: int) -> None:
        super().__init__()
        self._rng = random.Random(seed)
        self._rate = failure_rate
        self._lock2 = threading.Lock()
        self.accepted: list[str] = []
        self.refused = 0

    def respond(self, request: Request) -> Response:
        with self._lock2:
            if self._rng.random() < self._rate:
                self.refused += 1
                return Response(503, b'{"error": "unavailable"}')
            self.accepted.append(request.headers["X-Buildlens-Delivery"])
        return Response(200, b"{}")


@pytest.fixture(scope="module")
def system(
    pubsub_emulator: Process,
    firestore_emulator: Process,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    from google.cloud import pubsub_v1

    pubsub_host = pubsub_emulator.url.removeprefix("http://")
    mp = pytest.MonkeyPatch()
    mp.setenv("PUBSUB_EMULATOR_HOST", pubsub_host)
    gcs = FakeGcs().start()
    webhook = FlakyWebhook(0.10, seed=11)
    webhook.start()
    function = start_function(
        {
            "PUBSUB_EMULATOR_HOST": pubsub_host,
            "FIRESTORE_EMULATOR_HOST": firestore_emulator.url.removeprefix("http://"),
            "STORAGE_EMULATOR_HOST": gcs.url,
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "STATE_STORE": "firestore",
            "SINKS": "webhook,pubsub",
            "WEBHOOK_URL": webhook.url + "/hook",
            "REPORT_TOPIC": REPORTS,
            "SINK_HTTP_ATTEMPTS": "1",  # let failures reach Pub/Sub redelivery
        },
        tmp_path_factory.mktemp("e2e") / "function.log",
    )
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    publisher.create_topic(name=BUILDS)
    publisher.create_topic(name=REPORTS)
    subscriber.create_subscription(name=REPORTS_SUB, topic=REPORTS)
    subscriber.create_subscription(
        request={
            "name": f"projects/{PROJECT}/subscriptions/notifier",
            "topic": BUILDS,
            "push_config": {"push_endpoint": f"{function.url}/{BUILDS}"},
            "ack_deadline_seconds": 30,
            "retry_policy": {"minimum_backoff": {"seconds": 1}, "maximum_backoff": {"seconds": 5}},
        }
    )
    yield {"publisher": publisher, "subscriber": subscriber, "gcs": gcs, "webhook": webhook,
           "function": function}  # fmt: skip
    function.stop()
    webhook.stop()
    gcs.stop()
    mp.undo()


def test_two_hundred_messages_with_duplicates_and_a_flaky_sink(system: dict[str, Any]) -> None:
    rng = random.Random(5)
    failures = [c for c in fixture_cases() if c != "success"]
    builds: list[dict[str, Any]] = []
    for i in range(160):
        case = "success" if i % 8 == 0 else failures[i % len(failures)]
        build = fixture_build(
            case, options={"logging": "GCS_ONLY"}, logsBucket="gs://buildlens-demo_cloudbuild"
        )
        if case != "success":
            serve_log(system["gcs"], build, case)
        builds.append(build)
    messages = builds + rng.sample(builds, 40)  # 20% of the 200 messages are duplicates
    rng.shuffle(messages)
    for build in messages:
        attributes = {"buildId": build["id"], "status": build["status"]}
        system["publisher"].publish(BUILDS, json.dumps(build).encode(), **attributes)
    expected = {b["id"] for b in builds if b["status"] != "SUCCESS"}

    pulled: Counter[str] = Counter()
    deadline = time.monotonic() + 240
    webhook = system["webhook"]
    while time.monotonic() < deadline:
        response = system["subscriber"].pull(
            request={"subscription": REPORTS_SUB, "max_messages": 100}, timeout=10
        )
        if response.received_messages:
            system["subscriber"].acknowledge(
                request={"subscription": REPORTS_SUB,
                         "ack_ids": [m.ack_id for m in response.received_messages]}
            )  # fmt: skip
        pulled.update(m.message.attributes["buildId"] for m in response.received_messages)
        hooked = {d.split("/")[0] for d in webhook.accepted}
        if set(pulled) >= expected and hooked >= expected:
            break
    time.sleep(5)  # late duplicates would show up now
    webhook_counts = Counter(d.split("/")[0] for d in webhook.accepted)
    assert webhook.refused > 0, "the flaky sink never failed: the test proves nothing"
    assert set(pulled) == expected, f"lost on pubsub: {len(expected - set(pulled))}"
    assert set(webhook_counts) == expected, (
        f"lost on webhook: {len(expected - set(webhook_counts))}"
    )
    assert max(pulled.values()) == 1, [k for k, v in pulled.items() if v > 1]
    assert max(webhook_counts.values()) == 1, [k for k, v in webhook_counts.items() if v > 1]
