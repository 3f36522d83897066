"""The real functions-framework server running the function, fed every delivery shape."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.gcs import FakeGcs
from tests.fakes.http import Response
from tests.notifier.builds import fixture_build, push_body, serve_log
from tests.procs import ROOT, Process, start_function

TOPIC_PATH = "/projects/buildlens-demo/topics/cloud-builds"


@pytest.fixture(scope="module")
def gcs() -> Iterator[FakeGcs]:
    server = FakeGcs().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def function(gcs: FakeGcs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    env = {
        "STORAGE_EMULATOR_HOST": gcs.url,
        "GOOGLE_CLOUD_PROJECT": "buildlens-demo",
        "SINKS": "stdout",
        "STDOUT_FORMAT": "json",
        "LOG_FETCH_ATTEMPTS": "2",
    }
    process = start_function(env, tmp_path_factory.mktemp("fn") / "function.log")
    yield process
    process.stop()


def reports(function: Process, build_id: str) -> list[dict[str, Any]]:
    found = []
    for line in function.output().splitlines():
        if line.startswith("{") and '"schema_version"' in line:
            report = json.loads(line)
            if report["build"]["id"] == build_id:
                found.append(report)
    return found


def log_lines(function: Process, needle: str) -> list[dict[str, Any]]:
    entries = []
    for line in function.output().splitlines():
        if line.startswith("{") and '"severity"' in line:
            entry = json.loads(line)
            if needle in entry.get("message", ""):
                entries.append(entry)
    return entries


def send(function: Process, path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    url = function.url + TOPIC_PATH
    return subprocess.run(
        [sys.executable, "-m", "notifier", "send", str(path), "--url", url, "--mode", mode],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("mode", ["push", "binary", "structured"])
def test_each_delivery_shape_produces_one_report(
    function: Process, gcs: FakeGcs, tmp_path: Path, mode: str
) -> None:
    build = fixture_build("pytest-failure")
    serve_log(gcs, build, "pytest-failure")
    message = tmp_path / "message.json"
    message.write_text(json.dumps(push_body(build)))
    result = send(function, message, mode)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("200")
    [report] = reports(function, build["id"])
    assert report["failing_step"]["step_id"] == "unit-tests"
    assert report["log"]["source"].startswith("gs://")
    [line] = log_lines(function, f"build {build['id']}: reported")
    assert line["severity"] == "INFO" and line["build_id"] == build["id"]


def test_duplicate_delivery_is_reported_once(function: Process, gcs: FakeGcs) -> None:
    build = fixture_build("pytest-failure")
    serve_log(gcs, build, "pytest-failure")
    for message_id in ("1", "2", "3"):
        response = httpx.post(function.url + TOPIC_PATH, json=push_body(build, message_id))
        assert response.status_code == 200
    assert len(reports(function, build["id"])) == 1
    assert len(log_lines(function, f"build {build['id']}: duplicate")) == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\x00\x01 not json at all", "neither a CloudEvent nor a Pub/Sub push"),
        (
            json.dumps({"message": {"data": "%%%", "messageId": "9"}, "subscription": "s"}),
            "not valid base64",
        ),
        (
            json.dumps(
                {
                    "message": {
                        "data": base64.b64encode(b'{"kind": "storage#object"}').decode(),
                        "messageId": "9",
                    },
                    "subscription": "s",
                }
            ),
            "this is not a Build",
        ),
        (
            json.dumps({"message": {"data": "aGVsbG8=", "messageId": "9"}, "subscription": "s"}),
            "not a Cloud Build message",
        ),
    ],
)
def test_malformed_bodies_are_acknowledged_with_one_clear_line(
    function: Process, body: bytes | str, expected: str
) -> None:
    before = len(log_lines(function, expected))
    response = httpx.post(
        function.url + TOPIC_PATH, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    after = log_lines(function, expected)
    assert len(after) == before + 1
    assert after[-1]["severity"] == "WARNING"
    assert after[-1]["message"].startswith("acknowledged without a report")


@pytest.mark.parametrize(
    ("status", "reason"), [("WORKING", "not terminal"), ("SUCCESS", "recorded for history")]
)
def test_builds_that_are_not_reported_are_acknowledged(
    function: Process, status: str, reason: str
) -> None:
    build = fixture_build("success" if status == "SUCCESS" else "pytest-failure", status=status)
    response = httpx.post(function.url + TOPIC_PATH, json=push_body(build))
    assert response.status_code == 200
    [line] = log_lines(function, f"build {build['id']}: ignored")
    assert reason in line["message"]
    assert reports(function, build["id"]) == []


def test_log_source_outage_is_retried_and_nothing_is_lost(function: Process, gcs: FakeGcs) -> None:
    build = fixture_build("pytest-failure", options={"logging": "GCS_ONLY"})
    build["finishTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    serve_log(gcs, build, "pytest-failure")
    for _ in range(2):  # both in-process attempts fail
        gcs.faults.append(Response(503, b'{"error": {"code": 503, "message": "down"}}'))
    response = httpx.post(function.url + TOPIC_PATH, json=push_body(build), timeout=60)
    assert response.status_code == 500  # Pub/Sub redelivers
    assert log_lines(function, "Pub/Sub will redeliver")
    assert reports(function, build["id"]) == []
    response = httpx.post(function.url + TOPIC_PATH, json=push_body(build, "2"), timeout=60)
    assert response.status_code == 200
    assert len(reports(function, build["id"])) == 1
