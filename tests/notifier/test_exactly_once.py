"""Exactly once, history and recovery on the real Firestore emulator."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from buildlens_core.build import decode_build
from buildlens_core.errors import TransientError
from buildlens_core.settings import load_settings
from notifier.logsources.fixture import FixtureLogSource
from notifier.pipeline import InProgressElsewhere, Notifier
from notifier.report import Report
from notifier.sinks.base import SinkUnavailable
from notifier.state.firestore import FirestoreStateStore
from tests.conftest import FIXTURES
from tests.fakes.gcs import FakeGcs
from tests.notifier.builds import fixture_build, push_body, serve_log
from tests.procs import Process, start_function

pytestmark = pytest.mark.emulator
TOPIC_PATH = "/projects/buildlens-demo/topics/cloud-builds"


class RecordingSink:
    """A sink at the interface boundary: records what it was sent, can fail N times."""

    def __init__(self, name: str, failures: int = 0) -> None:
        self.name = name
        self.failures = failures
        self.sent: list[Report] = []
        self._lock = threading.Lock()

    def send(self, report: Report) -> None:
        with self._lock:
            if self.failures:
                self.failures -= 1
                raise SinkUnavailable(f"{self.name} answered 503")
            self.sent.append(report)


def notifier(*sinks: RecordingSink, **settings: Any) -> Notifier:
    # A project of its own per test: history is global by design, tests must not share it.
    project = f"test-{uuid.uuid4().hex[:12]}"
    retention = settings.get("history_retention_days", 1)
    store = FirestoreStateStore(project, retention_days=retention)
    return Notifier(load_settings(**settings), sinks=list(sinks), store=store)


def fixture_source(case: str = "pytest-failure") -> FixtureLogSource:
    return FixtureLogSource(FIXTURES / case, 1 << 24)


@pytest.fixture(scope="module")
def two_instances(
    firestore_emulator: Process, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FakeGcs, list[Process]]]:
    gcs = FakeGcs().start()
    env = {
        "FIRESTORE_EMULATOR_HOST": firestore_emulator.url.removeprefix("http://"),
        "GOOGLE_CLOUD_PROJECT": "buildlens-demo",
        "STORAGE_EMULATOR_HOST": gcs.url,
        "STATE_STORE": "firestore",
        "SINKS": "stdout",
        "STDOUT_FORMAT": "json",
    }
    tmp = tmp_path_factory.mktemp("fns")
    instances = [start_function(env, tmp / f"fn{i}.log") for i in range(2)]
    yield gcs, instances
    for instance in instances:
        instance.stop()
    gcs.stop()


def count_reports(instances: list[Process], build_id: str) -> int:
    return sum(
        1
        for p in instances
        for line in p.output().splitlines()
        if line.startswith("{") and '"schema_version"' in line and build_id in line
    )


def test_twenty_concurrent_deliveries_across_two_instances_report_once(
    two_instances: tuple[FakeGcs, list[Process]],
) -> None:
    gcs, instances = two_instances
    build = fixture_build("pytest-failure")
    serve_log(gcs, build, "pytest-failure")
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def deliver(i: int) -> None:
        barrier.wait()
        url = instances[i % 2].url + TOPIC_PATH
        statuses.append(httpx.post(url, json=push_body(build, str(i)), timeout=60).status_code)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Deliveries that found the first one still in progress asked to be retried (500)
    # rather than acknowledging a report that might never be sent.
    assert set(statuses) <= {200, 500} and 200 in statuses
    assert count_reports(instances, build["id"]) == 1
    for i in range(4):  # the redeliveries: now plain duplicates, acknowledged
        url = instances[i % 2].url + TOPIC_PATH
        assert httpx.post(url, json=push_body(build, f"r{i}"), timeout=60).status_code == 200
    assert count_reports(instances, build["id"]) == 1


def test_twenty_concurrent_deliveries_in_process_post_once_per_sink(firestore_env: str) -> None:
    a, b = RecordingSink("a"), RecordingSink("b")
    pipeline = notifier(a, b)
    build = decode_build(fixture_build("pytest-failure"))
    barrier = threading.Barrier(20)
    actions: list[str] = []

    def deliver() -> None:
        barrier.wait()
        try:
            actions.append(pipeline.handle_build(build, log_source=fixture_source()).action)
        except InProgressElsewhere:
            actions.append("retry later")

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(a.sent), len(b.sent)) == (1, 1)
    assert actions.count("reported") == 1
    assert set(actions) <= {"reported", "duplicate", "retry later"}
    assert pipeline.handle_build(build, log_source=fixture_source()).action == "duplicate"


def test_redelivery_after_partial_failure_posts_only_to_the_failed_sink(
    firestore_env: str,
) -> None:
    ok, flaky = RecordingSink("ok"), RecordingSink("flaky", failures=1)
    pipeline = notifier(ok, flaky, sink_give_up_after_s=1e9)
    build = decode_build(fixture_build("pytest-failure"))
    with pytest.raises(TransientError, match="flaky answered 503"):
        pipeline.handle_build(build, log_source=fixture_source())
    assert (len(ok.sent), len(flaky.sent)) == (1, 0)
    outcome = pipeline.handle_build(build, log_source=fixture_source())
    assert outcome.action == "reported"
    assert (len(ok.sent), len(flaky.sent)) == (1, 1)
    assert pipeline.handle_build(build, log_source=fixture_source()).action == "duplicate"


def test_an_old_event_gives_up_on_a_sink_only_when_every_other_sink_delivered(
    firestore_env: str,
) -> None:
    ok, down = RecordingSink("ok"), RecordingSink("down", failures=100)
    build = decode_build(fixture_build("pytest-failure"))  # finished days ago
    outcome = notifier(ok, down, sink_give_up_after_s=60).handle_build(
        build, log_source=fixture_source()
    )
    assert outcome.action == "reported" and len(ok.sent) == 1
    assert [e.name for e in outcome.sink_errors] == ["down"]
    both_down = notifier(RecordingSink("x", 100), RecordingSink("y", 100), sink_give_up_after_s=60)
    with pytest.raises(TransientError):
        both_down.handle_build(build, log_source=fixture_source())


def test_a_crashed_delivery_is_retried_after_its_lease(firestore_env: str) -> None:
    sink = RecordingSink("s")
    pipeline = notifier(sink, claim_lease_s=0.5)
    build = decode_build(fixture_build("pytest-failure"))
    # Another instance claimed the sink and died before completing it.
    assert pipeline.store.claim(f"{build.id}/{build.status}/s", lease_s=0.5)
    with pytest.raises(InProgressElsewhere):  # not acknowledged: the holder may be dead
        pipeline.handle_build(build, log_source=fixture_source())
    time.sleep(0.8)
    assert pipeline.handle_build(build, log_source=fixture_source()).action == "reported"
    assert len(sink.sent) == 1


def lane_build(status: str, commit: str, trigger: str) -> dict[str, Any]:
    case = "success" if status == "SUCCESS" else "pytest-failure"
    build = fixture_build(case, status=status)
    subs = dict(build["substitutions"])
    subs.update(COMMIT_SHA=commit, SHORT_SHA=commit[:7], TRIGGER_NAME=trigger, BRANCH_NAME="main")
    build["substitutions"] = subs
    build["buildTriggerId"] = trigger
    return build


def test_fail_fail_pass_gives_new_second_time_and_fixed(firestore_env: str) -> None:
    sink = RecordingSink("s")
    pipeline = notifier(sink, notify_recovery=True)
    trigger = f"trigger-{time.monotonic_ns()}"
    first = lane_build("FAILURE", "a" * 40, trigger)
    second = lane_build("FAILURE", "b" * 40, trigger)
    fixed = lane_build("SUCCESS", "c" * 40, trigger)
    for build in (first, second, fixed):
        pipeline.handle_build(decode_build(build), log_source=fixture_source())
    summaries = [r.history.summary if r.history else r.title for r in sink.sent]
    assert summaries[0] == "new failure"
    assert summaries[1].startswith(f"first seen in build {first['id'][:8]} on ")
    assert summaries[1].endswith("2nd time in 7 days")
    assert summaries[2] == f"{trigger} is fixed by commit ccccccc"
    assert sink.sent[2].kind == "recovery" and sink.sent[2].fixed_failure == second["id"]
    # A redelivered success does not say "fixed" twice.
    assert pipeline.handle_build(decode_build(fixed)).action == "duplicate"
    assert len(sink.sent) == 3


def test_same_commit_failing_and_passing_is_marked_flaky(firestore_env: str) -> None:
    sink = RecordingSink("s")
    pipeline = notifier(sink)
    trigger = f"trigger-{time.monotonic_ns()}"
    commit = "d" * 40
    pipeline.handle_build(decode_build(lane_build("FAILURE", commit, trigger)),
                          log_source=fixture_source())  # fmt: skip
    pipeline.handle_build(decode_build(lane_build("SUCCESS", commit, trigger)))
    pipeline.handle_build(decode_build(lane_build("FAILURE", commit, trigger)),
                          log_source=fixture_source())  # fmt: skip
    first, again = sink.sent
    assert first.history is not None and not first.history.flaky
    assert again.history is not None and again.history.flaky
    assert "likely flaky" in again.history.summary
    assert json.loads(json.dumps(again.to_json()))["history"]["flaky"] is True


def test_history_documents_expire(firestore_env: str, tmp_path: Path) -> None:
    sink = RecordingSink("s")
    pipeline = notifier(sink, history_retention_days=1 / 86400)  # one second
    trigger = f"trigger-{time.monotonic_ns()}"
    pipeline.handle_build(decode_build(lane_build("FAILURE", "e" * 40, trigger)),
                          log_source=fixture_source())  # fmt: skip
    time.sleep(1.5)
    pipeline.handle_build(decode_build(lane_build("FAILURE", "f" * 40, trigger)),
                          log_source=fixture_source())  # fmt: skip
    assert [r.history.summary for r in sink.sent if r.history] == ["new failure"] * 2
