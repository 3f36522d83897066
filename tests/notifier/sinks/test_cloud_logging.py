"""The Cloud Logging sink through google-cloud-logging (REST) against a local entries.write."""

from __future__ import annotations

import pytest

from buildlens_core.settings import load_settings
from notifier.public_report import SCHEMA_VERSION
from notifier.sinks import SINKS
from notifier.sinks.base import SinkRejected, SinkUnavailable
from notifier.sinks.cloud_logging import CloudLoggingSink, create
from tests.fakes.cloud_logging_write import FakeLoggingWriter
from tests.fakes.http import Response
from tests.notifier.sinks.conftest import fixture_report, hostile_report, recovery_report


def sink(fake: FakeLoggingWriter, **kw: object) -> CloudLoggingSink:
    settings = load_settings(
        cloud_logging_endpoint=fake.url, google_cloud_project="ops-project", **kw
    )
    return create(settings)


def test_registered() -> None:
    assert SINKS["cloud_logging"] is create


def test_one_structured_entry(fake_logging_writer: FakeLoggingWriter) -> None:
    report = fixture_report()
    sink(fake_logging_writer).send(report)
    [entry] = fake_logging_writer.entries()
    assert entry["logName"] == "projects/ops-project/logs/buildlens"
    assert entry["severity"] == "ERROR"
    assert entry["resource"] == {
        "type": "build",
        "labels": {
            "project_id": "buildlens-demo",
            "build_id": report.build.id,
            "build_trigger_id": report.build.trigger_id,
        },
    }
    labels = entry["labels"]
    assert labels["build_id"] == report.build.id
    assert labels["trigger"] == "payments-api-main"
    assert labels["category"] == (report.category or "unclassified")
    assert labels["status"] == "FAILURE"
    if report.fingerprint:
        assert labels["fingerprint"] == report.fingerprint
    payload = entry["jsonPayload"]
    assert payload["schema_version"] == SCHEMA_VERSION
    assert payload["message"] == report.title
    assert payload["build"]["id"] == report.build.id
    assert all(e["key"] for e in payload["excerpt"])
    assert len(payload["excerpt"]) <= len([e for e in report.excerpt if e.key])


def test_recovery_is_notice(fake_logging_writer: FakeLoggingWriter) -> None:
    sink(fake_logging_writer, logging_sink_log_name="ci-reports").send(recovery_report())
    [entry] = fake_logging_writer.entries()
    assert entry["severity"] == "NOTICE"
    assert entry["logName"].endswith("/logs/ci-reports")
    assert entry["labels"]["kind"] == "recovery"


def test_huge_report_is_trimmed(fake_logging_writer: FakeLoggingWriter) -> None:
    sink(fake_logging_writer).send(hostile_report())
    [request] = [r for r in fake_logging_writer.requests if r.path.endswith("entries:write")]
    assert len(request.body) < 256 * 1024
    [entry] = fake_logging_writer.entries()
    assert all(len(e["text"]) <= 500 for e in entry["jsonPayload"]["excerpt"])


def test_same_report_same_insert_id(fake_logging_writer: FakeLoggingWriter) -> None:
    report = fixture_report()
    logging_sink = sink(fake_logging_writer)
    logging_sink.send(report)
    logging_sink.send(report)
    first, second = fake_logging_writer.entries()
    assert first["insertId"] == second["insertId"]
    assert first["timestamp"] == second["timestamp"]


def test_503_then_success(fake_logging_writer: FakeLoggingWriter) -> None:
    fake_logging_writer.faults.append(Response(503, b'{"error": {"code": 503}}'))
    sink(fake_logging_writer).send(fixture_report())
    assert len(fake_logging_writer.entries()) == 2  # the refused request is recorded too


def test_always_down_is_transient(fake_logging_writer: FakeLoggingWriter) -> None:
    for _ in range(3):
        fake_logging_writer.faults.append(Response(500, b'{"error": {"code": 500}}'))
    with pytest.raises(SinkUnavailable, match="cloud_logging"):
        sink(fake_logging_writer, logging_sink_attempts=3).send(fixture_report())


def test_permission_denied_is_permanent(fake_logging_writer: FakeLoggingWriter) -> None:
    fake_logging_writer.faults.append(
        Response(
            403, b'{"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}'
        )
    )
    with pytest.raises(SinkRejected, match=r"roles/logging.logWriter"):
        sink(fake_logging_writer).send(fixture_report())
    assert len(fake_logging_writer.requests) == 1


def test_project_defaults_to_the_builds(fake_logging_writer: FakeLoggingWriter) -> None:
    settings = load_settings(
        cloud_logging_endpoint=fake_logging_writer.url, google_cloud_project=""
    )
    create(settings).send(fixture_report())
    [entry] = fake_logging_writer.entries()
    assert entry["logName"] == "projects/buildlens-demo/logs/buildlens"
