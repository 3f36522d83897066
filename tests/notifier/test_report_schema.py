"""The public report schema: the committed file is the model's, and reports conform to it.

`docs/report.schema.json` is what consumers of the webhook, Pub/Sub and Cloud Logging sinks
read; it is checked here against the model that produces the reports, and every fixture's
report (replayed through the command line) is validated against the committed file by an
independent validator (jsonschema-rs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from notifier.public_report import SCHEMA_VERSION, PublicReport, json_schema
from notifier.render.templates import sample_reports
from tests.conftest import FIXTURES, fixture_cases
from tests.jsonwalk import strings
from tests.notifier.test_replay_golden import replay
from tests.procs import ROOT

SCHEMA_FILE = ROOT / "docs" / "report.schema.json"


def validator() -> Any:
    return jsonschema_rs.validator_for(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_committed_schema_is_the_models() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema(), (
        "docs/report.schema.json is stale: bump SCHEMA_VERSION if the shape changed, then "
        "run `python -m notifier.public_report > docs/report.schema.json`"
    )
    schema = json.loads(json_schema())
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert SCHEMA_VERSION in schema["$id"]


def test_schema_rejects_what_the_model_does_not_carry() -> None:
    report = sample_reports()["full failure"].to_json()
    check = validator()
    assert check.is_valid(report)
    assert not check.is_valid({**report, "tail_texts": ["a log line"]})
    assert not check.is_valid({**report, "schema_version": "2"})
    del report["excerpt"]
    assert not check.is_valid(report)


@pytest.mark.parametrize("name", sorted(sample_reports()))
def test_sample_reports_conform(name: str) -> None:
    report = sample_reports()[name].to_json()
    validator().validate(report)
    assert PublicReport.model_validate(report).model_dump(mode="json") == report


@pytest.mark.parametrize("case", fixture_cases())
def test_every_fixture_report_conforms_and_quotes_only_its_excerpt(case: str) -> None:
    result = replay(str(FIXTURES / case), "--format", "json")
    assert result.returncode == 0, result.stderr
    if not result.stdout.strip():
        assert "no report" in result.stderr
        return
    report = json.loads(result.stdout)
    validator().validate(report)
    # Analyzer-internal data stays inside: a log line the JSON quotes is one it shows.
    log = Path(FIXTURES / case / "log.txt")
    log_lines = {line.strip() for line in log.read_text(encoding="utf-8").splitlines()}
    shown = {e["text"].strip() for e in report["excerpt"]}
    quoted = {s.strip() for s in strings(report) if len(s.strip()) > 20} & log_lines
    assert quoted <= shown
