"""Every fixture replayed through the command line, in both log shapes, against its golden."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, fixture_cases
from tests.notifier.golden import check_golden
from tests.procs import ROOT

CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in {"ANALYZERS", "SINKS"}}


def replay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notifier", "replay", *args],
        cwd=ROOT, env=CLEAN_ENV, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("shape", ["gcs", "cloud_logging"])
@pytest.mark.parametrize("case", fixture_cases())
def test_fixture_matches_golden(case: str, shape: str) -> None:
    result = replay(str(FIXTURES / case), "--format", "json", "--log-shape", shape)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) <= 1
    report = json.loads(lines[0]) if lines else None
    if report is None:
        assert "no report" in result.stderr
    else:
        expected_source = "entries.json" if shape == "cloud_logging" else "log.txt"
        assert report["log"]["source"].endswith(expected_source)
    check_golden(FIXTURES / case, report)


def test_several_fixtures_at_once_print_one_report_each() -> None:
    cases = [str(FIXTURES / c) for c in fixture_cases()]
    result = replay(*cases, "--format", "json")
    assert result.returncode == 0, result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    goldens = [json.loads((FIXTURES / c / "expected.json").read_text()) for c in fixture_cases()]
    assert len(reports) == sum(1 for g in goldens if g["reported"])


def test_build_json_and_log_pair() -> None:
    case = FIXTURES / "pytest-failure"
    result = replay(str(case / "build.json"), str(case / "log.txt"), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### ❌")


def test_unknown_analyzer_is_rejected_with_the_valid_names() -> None:
    result = replay(str(FIXTURES / "pytest-failure"), "--analyzers", "failing_step,nope")
    assert result.returncode == 2
    assert "unknown analyzer 'nope'" in result.stderr
    assert "failing_step" in result.stderr and "tail" in result.stderr


def test_text_report_for_the_default_fixture() -> None:
    result = replay()
    assert result.returncode == 0, result.stderr
    assert "failing step" in result.stdout
    assert "unit-tests" in result.stdout


def test_json_report_carries_no_analyzer_internal_data() -> None:
    """The JSON report goes to Pub/Sub, webhooks and Cloud Logging: it holds what it shows
    (key lines and excerpt), never the log text analyzers pass each other."""
    result = replay(str(FIXTURES / "npm-error"), "--format", "json")
    report = json.loads(result.stdout)
    for finding in report["findings"]:
        assert set(finding) == {"analyzer", "kind", "summary", "lines"}
    assert report["excerpt"] and report["key_lines"]


def test_the_readme_pair_passing_then_failing_learns_from_the_passing_build() -> None:
    passing, failing = FIXTURES / "real-lane-passing", FIXTURES / "real-lane-failing"
    env = {**CLEAN_ENV, "LEARN_FROM_PASSING": "true"}
    result = subprocess.run(
        [sys.executable, "-m", "notifier", "replay", str(passing), str(failing),
         "--format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "lines learned" in result.stderr
    report = json.loads(result.stdout)
    since = report["since_passing"]
    passing_id = json.loads((passing / "build.json").read_text())["id"]
    assert since["build"] == passing_id and since["builds_since"] == 1
    assert (since["step"], since["step_lines"], since["new_lines"]) == (1, 2, 1)
    assert since["compare_url"].startswith("https://github.com/afirth/symlinks-cloudbuild/compare/")


def test_passing_log_option_compares_without_the_state_store() -> None:
    failing = FIXTURES / "real-lane-failing"
    result = replay(
        str(failing), "--passing-log", str(FIXTURES / "real-lane-passing" / "log.txt"),
        "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    since = json.loads(result.stdout)["since_passing"]
    assert since["build"] == "" and (since["new_lines"], since["compared"]) == (1, 1)
    twice = replay(
        str(failing), "--format", "json",
        *["--passing-log", str(FIXTURES / "real-lane-passing" / "log.txt")] * 2,
    )  # fmt: skip
    assert json.loads(twice.stdout)["since_passing"]["compared"] == 2
    missing = replay(str(failing), "--passing-log", str(failing / "nope.log"))
    assert missing.returncode != 0 and "nope.log" in missing.stderr
