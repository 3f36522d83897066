"""End to end on the real Pub/Sub emulator: publish on `cloud-builds`, a push subscription
delivers to the local function, the report arrives on the results topic."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import FIXTURES, fixture_cases
from tests.fakes.cloud_logging import FakeCloudLogging
from tests.fakes.gcs import FakeGcs
from tests.notifier.builds import serve_log
from tests.notifier.golden import check_golden
from tests.procs import Process, start_function

PROJECT = "buildlens-demo"
BUILDS_TOPIC = f"projects/{PROJECT}/topics/cloud-builds"
REPORTS_TOPIC = f"projects/{PROJECT}/topics/buildlens-reports"
REPORTS_SUB = f"projects/{PROJECT}/subscriptions/buildlens-reports-test"

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def wiring(
    pubsub_emulator: Process, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Any]]:
    from google.cloud import pubsub_v1

    host = pubsub_emulator.url.removeprefix("http://")
    mp = pytest.MonkeyPatch()
    mp.setenv("PUBSUB_EMULATOR_HOST", host)
    gcs = FakeGcs().start()
    logging_api = FakeCloudLogging()
    logging_api.start()
    function = start_function(
        {
            "PUBSUB_EMULATOR_HOST": host,
            "STORAGE_EMULATOR_HOST": gcs.url,
            "CLOUD_LOGGING_ENDPOINT": logging_api.url,
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "SINKS": "pubsub",
            "REPORT_TOPIC": REPORTS_TOPIC,
        },
        tmp_path_factory.mktemp("fn") / "function.log",
    )
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    publisher.create_topic(name=BUILDS_TOPIC)
    publisher.create_topic(name=REPORTS_TOPIC)
    subscriber.create_subscription(name=REPORTS_SUB, topic=REPORTS_TOPIC)
    subscriber.create_subscription(
        request={
            "name": f"projects/{PROJECT}/subscriptions/cloud-builds-notifier",
            "topic": BUILDS_TOPIC,
            "push_config": {"push_endpoint": f"{function.url}/{BUILDS_TOPIC}"},
            "ack_deadline_seconds": 60,
        }
    )
    for case in fixture_cases():
        build = json.loads((FIXTURES / case / "build.json").read_text())
        if build.get("logsBucket"):
            serve_log(gcs, build, case)
        logging_api.entries += json.loads((FIXTURES / case / "entries.json").read_text())
    yield publisher, subscriber
    function.stop()
    gcs.stop()
    logging_api.stop()
    mp.undo()


def pull_reports(subscriber: Any, want: int, timeout_s: float = 90) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < want and time.monotonic() < deadline:
        response = subscriber.pull(
            request={"subscription": REPORTS_SUB, "max_messages": 50}, timeout=10
        )
        if response.received_messages:
            subscriber.acknowledge(
                request={
                    "subscription": REPORTS_SUB,
                    "ack_ids": [m.ack_id for m in response.received_messages],
                }
            )
        for received in response.received_messages:
            report = json.loads(received.message.data)
            assert received.message.attributes["buildId"] == report["build"]["id"]
            found.append(report)
    return found


def publish(publisher: Any, case: str) -> str:
    data = (FIXTURES / case / "build.json").read_bytes()
    build = json.loads(data)
    attributes = {"buildId": build["id"], "status": build["status"]}
    publisher.publish(BUILDS_TOPIC, json.dumps(build).encode(), **attributes).result(timeout=30)
    return str(build["id"])


def test_a_published_failure_arrives_as_a_report(wiring: tuple[Any, Any]) -> None:
    publisher, subscriber = wiring
    build_id = publish(publisher, "pytest-failure")
    [report] = pull_reports(subscriber, 1)
    assert report["build"]["id"] == build_id
    check_golden(FIXTURES / "pytest-failure", report)


def test_every_fixture_once_with_duplicates_and_progress_messages(
    wiring: tuple[Any, Any],
) -> None:
    publisher, subscriber = wiring
    cases = [c for c in fixture_cases() if c != "pytest-failure"]
    for case in cases:
        build = json.loads((FIXTURES / case / "build.json").read_text())
        working = {**build, "status": "WORKING"}
        attributes = {"buildId": build["id"], "status": "WORKING"}
        publisher.publish(BUILDS_TOPIC, json.dumps(working).encode(), **attributes).result(30)
        publish(publisher, case)
        publish(publisher, case)  # Cloud Build and Pub/Sub can both deliver twice
    goldens = {c: json.loads((FIXTURES / c / "expected.json").read_text()) for c in cases}
    want = sum(1 for g in goldens.values() if g["reported"])
    reports = pull_reports(subscriber, want)
    time.sleep(3)  # a duplicate would arrive late; give it the chance
    reports += pull_reports(subscriber, 1, timeout_s=3)
    by_id = {r["build"]["id"]: r for r in reports}
    assert len(reports) == len(by_id) == want
    for case in cases:
        build_id = json.loads((FIXTURES / case / "build.json").read_text())["id"]
        check_golden(FIXTURES / case, by_id.get(build_id))
