"""A generated log over 100 MB (never committed): reported with exact line numbers, in
bounded memory, through the real storage client."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildlens_core.build import decode_build
from buildlens_core.settings import load_settings
from fixtures.biglog import write_big_log
from notifier.pipeline import Notifier
from notifier.sinks.stdout import StdoutSink
from tests.conftest import FIXTURES
from tests.fakes.gcs import FakeGcs
from tests.notifier.builds import fixture_build, serve_log
from tests.procs import ROOT

pytestmark = pytest.mark.slow

SIZE = 110 << 20


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("big") / "log.txt"
    write_big_log(path, SIZE, "big")
    yield path
    path.unlink()


def line_numbers_of(path: Path, needle: bytes) -> tuple[int, list[int]]:
    """Count lines under the numbering rule and find the lines containing `needle`."""
    number, found = 0, []
    with path.open("rb") as fh:
        for raw in fh:
            for part in re.split(rb"\r\n|\r|\n", raw)[:-1] or [raw]:
                number += 1
                if needle in part:
                    found.append(number)
    return number, found


def test_big_log_through_gcs_keeps_numbers(
    big_log: Path, fake_gcs: FakeGcs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs.url)
    build = fixture_build("pytest-failure", options={"logging": "GCS_ONLY"})
    serve_log(fake_gcs, build, "pytest-failure", big_log)
    out = io.StringIO()
    settings = load_settings(google_cloud_project="p", max_log_bytes=8 << 20)
    outcome = Notifier(settings, sinks=[StdoutSink("json", out)]).handle_build(decode_build(build))
    report = json.loads(out.getvalue())
    total, assertion_lines = line_numbers_of(big_log, b"AssertionError: assert Decimal")
    assert big_log.stat().st_size > 100 << 20
    assert outcome.report is not None and outcome.report.log_cut is not None
    assert report["log"]["lines"] == total
    assert report["log"]["cut"]["bytes"] > 90 << 20
    assert report["failing_step"]["step_id"] == "unit-tests"
    shown = {e["line"]: e["text"] for e in report["excerpt"]}
    assert assertion_lines and all(n in shown for n in assertion_lines[-1:])
    assert "AssertionError" in shown[assertion_lines[-1]]


# A fresh parent whose only child is the replay, so RUSAGE_CHILDREN is that child alone.
MEASURE = """
import json, resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"rc": result.returncode, "out": result.stdout, "err": result.stderr,
                  "peak_mib": peak}))
"""


def test_big_log_replay_stays_in_bounded_memory(big_log: Path) -> None:
    build = FIXTURES / "pytest-failure" / "build.json"
    replay = [
        sys.executable,
        "-m",
        "notifier",
        "replay",
        str(build),
        str(big_log),
        "--format",
        "json",
    ]
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, *replay],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    result = json.loads(measured.stdout)
    assert result["rc"] == 0, result["err"]
    report = json.loads(result["out"])
    assert report["log"]["cut"] is not None
    peak_mib = result["peak_mib"]
    # The default cap is 16 MiB of log; the process must not grow with the 110 MB input.
    assert peak_mib < 400, f"peak RSS {peak_mib:.0f} MiB"
