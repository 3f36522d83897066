"""Log sources through the real Google client libraries against local REST servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from buildlens_core.build import BuildEvent, decode_build
from buildlens_core.buildlog import build_log_from_bytes
from buildlens_core.settings import load_settings
from notifier.logsources import LogNotFound, LogUnavailable
from notifier.logsources.cloud_logging import CloudLoggingSource
from notifier.logsources.gcs import GcsLogSource, object_path
from tests.conftest import FIXTURES
from tests.fakes.cloud_logging import FakeCloudLogging
from tests.fakes.gcs import FakeGcs
from tests.fakes.http import Response

CASE = FIXTURES / "pytest-failure"


def fixture_build(case: Path = CASE, **changes: Any) -> BuildEvent:
    obj = json.loads((case / "build.json").read_text())
    obj.update(changes)
    return decode_build(obj)


def expected_lines(case: Path = CASE) -> list[tuple[int, int | None, str]]:
    log = build_log_from_bytes([(case / "log.txt").read_bytes()], max_bytes=1 << 30)
    return [(x.number, x.step, x.text) for x in log.lines]


@pytest.fixture
def gcs_env(fake_gcs: FakeGcs, monkeypatch: pytest.MonkeyPatch) -> FakeGcs:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs.url)
    return fake_gcs


def test_object_path() -> None:
    assert object_path("gs://b", "x") == ("b", "log-x.txt")
    assert object_path("gs://b/logs/", "x") == ("b", "logs/log-x.txt")
    with pytest.raises(LogNotFound):
        object_path("b", "x")


def test_gcs_reads_the_whole_log_with_steps(gcs_env: FakeGcs) -> None:
    build = fixture_build(logsBucket="gs://logs-bucket/prefix")
    gcs_env.put("logs-bucket", f"prefix/log-{build.id}.txt", CASE / "log.txt")
    log = GcsLogSource(load_settings(google_cloud_project="buildlens-demo")).fetch(build)
    assert [(x.number, x.step, x.text) for x in log.lines] == expected_lines()
    assert log.source == f"gs://logs-bucket/prefix/log-{build.id}.txt"
    assert log.step_ids[1] == "unit-tests"


def test_gcs_retries_a_503_then_succeeds(gcs_env: FakeGcs) -> None:
    build = fixture_build(logsBucket="gs://logs-bucket")
    gcs_env.put("logs-bucket", f"log-{build.id}.txt", CASE / "log.txt")
    gcs_env.faults.append(Response(503, b'{"error": {"code": 503, "message": "backend"}}'))
    log = GcsLogSource(load_settings(google_cloud_project="buildlens-demo")).fetch(build)
    assert len(log.lines) == len(expected_lines())
    media = [r for r in gcs_env.requests if r.query.get("alt") == ["media"]]
    assert len(media) == 2


def test_gcs_gives_up_after_its_attempts(gcs_env: FakeGcs) -> None:
    build = fixture_build(logsBucket="gs://logs-bucket")
    for _ in range(3):
        gcs_env.faults.append(Response(503, b"{}"))
    with pytest.raises(LogUnavailable):
        GcsLogSource(load_settings(google_cloud_project="p", log_fetch_attempts=3)).fetch(build)
    assert len([r for r in gcs_env.requests if r.query.get("alt") == ["media"]]) == 3


def test_gcs_missing_object_is_not_found(gcs_env: FakeGcs) -> None:
    with pytest.raises(LogNotFound, match="does not exist"):
        GcsLogSource(load_settings(google_cloud_project="p")).fetch(
            fixture_build(logsBucket="gs://logs-bucket")
        )


def test_gcs_over_limit_log_keeps_head_and_tail(gcs_env: FakeGcs, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        for i in range(1, 200_001):
            fh.write(f'Step #1 - "unit-tests": progress line {i}\n'.encode())
        fh.write(b"ERROR\n")
    build = fixture_build(logsBucket="gs://logs-bucket")
    gcs_env.put("logs-bucket", f"log-{build.id}.txt", big)
    log = GcsLogSource(load_settings(google_cloud_project="p", max_log_bytes=1 << 20)).fetch(build)
    assert log.total_lines == 200_001
    assert log.cut is not None and log.cut.count > 150_000
    assert log.lines[-1].number == 200_001 and log.lines[-1].text == "ERROR"
    assert log.lines[-2].text == "progress line 200000"


def cloud_logging(fake: FakeCloudLogging, **settings: Any) -> CloudLoggingSource:
    return CloudLoggingSource(
        load_settings(cloud_logging_endpoint=fake.url, log_wait_s=0, **settings)
    )


def test_cloud_logging_pages_and_filters_explicitly(fake_logging: FakeCloudLogging) -> None:
    fake_logging.entries = json.loads((CASE / "entries.json").read_text())
    fake_logging.page_size = 7
    build = fixture_build()
    log = cloud_logging(fake_logging).fetch(build)
    assert [(x.number, x.step, x.text) for x in log.lines] == expected_lines()
    requests = fake_logging.list_requests()
    assert len(requests) == -(-len(fake_logging.entries) // 7)
    query = requests[0]["filter"]
    assert f'resource.labels.build_id="{build.id}"' in query
    assert 'logName="projects/buildlens-demo/logs/cloudbuild"' in query
    assert build.create_time is not None
    assert f'timestamp>="{build.create_time.strftime("%Y-%m-%dT%H:%M:%S")}' in query
    assert query.count("timestamp") == 1  # the client did not add its 24-hour window
    assert requests[0]["orderBy"] == "timestamp asc"
    assert requests[0]["resourceNames"] == ["projects/buildlens-demo"]


def test_cloud_logging_orders_ties_by_insert_id(fake_logging: FakeCloudLogging) -> None:
    stamp = "2026-11-21T00:44:00Z"
    name = "projects/buildlens-demo/logs/cloudbuild"
    entry = {"logName": name, "timestamp": stamp, "labels": {"build_step": 'Step #0 - "a"'}}
    fake_logging.entries = [
        {**entry, "insertId": "2", "textPayload": "second"},
        {**entry, "insertId": "1", "textPayload": "first"},
        {**entry, "insertId": "3", "labels": {"build_step": "MAIN"}, "textPayload": "DONE"},
    ]  # fmt: skip
    log = cloud_logging(fake_logging).fetch(fixture_build())
    assert [(x.step, x.text) for x in log.lines] == [(0, "first"), (0, "second"), (None, "DONE")]


def test_cloud_logging_retries_a_503(fake_logging: FakeCloudLogging) -> None:
    fake_logging.entries = json.loads((CASE / "entries.json").read_text())
    fake_logging.faults.append(Response(503, b'{"error": {"code": 503, "message": "x"}}'))
    log = cloud_logging(fake_logging).fetch(fixture_build())
    assert len(log.lines) == len(expected_lines())


def test_cloud_logging_with_no_entries_is_transient(fake_logging: FakeCloudLogging) -> None:
    with pytest.raises(LogUnavailable, match="no entries yet"):
        cloud_logging(fake_logging).fetch(fixture_build())


def test_cloud_logging_permission_denied_is_not_found(fake_logging: FakeCloudLogging) -> None:
    body = b'{"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}'
    fake_logging.faults.append(Response(403, body))
    with pytest.raises(LogNotFound, match=r"roles/logging\.viewer"):
        cloud_logging(fake_logging).fetch(fixture_build())


def test_cloud_logging_stops_paging_at_its_deadline(fake_logging: FakeCloudLogging) -> None:
    fake_logging.entries = json.loads((CASE / "entries.json").read_text())
    fake_logging.page_size = 5
    fake_logging.delay_s = 0.5
    source = cloud_logging(fake_logging, log_fetch_deadline_s=1.5, log_fetch_attempts=1)
    with pytest.raises(LogUnavailable, match="LOG_FETCH_DEADLINE_S"):
        source.fetch(fixture_build())
    pages = -(-len(fake_logging.entries) // 5)
    assert len(fake_logging.list_requests()) < pages


def test_gcs_download_stops_at_its_deadline(gcs_env: FakeGcs, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (64 << 20))
    build = fixture_build(logsBucket="gs://logs-bucket")
    gcs_env.put("logs-bucket", f"log-{build.id}.txt", big)
    settings = load_settings(
        google_cloud_project="p", log_fetch_deadline_s=0.05, log_fetch_attempts=1
    )
    with pytest.raises(LogUnavailable, match="LOG_FETCH_DEADLINE_S"):
        GcsLogSource(settings).fetch(build)
