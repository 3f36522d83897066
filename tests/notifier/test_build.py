from __future__ import annotations

import json

import pytest

from buildlens_core.build import BuildDecodeError, decode_build, parse_time
from tests.conftest import FIXTURES, fixture_cases


def minimal(**extra: object) -> dict[str, object]:
    return {"id": "b1", "projectId": "p", "status": "FAILURE", **extra}


def test_decodes_fields_and_ignores_unknown_ones() -> None:
    build = decode_build(
        minimal(
            somethingNew={"nested": [1, 2]},
            substitutions={"TRIGGER_NAME": "ci", "BRANCH_NAME": "main", "COMMIT_SHA": "a" * 40},
            steps=[
                {"id": "t", "name": "python", "args": ["pytest"], "status": "FAILURE",
                 "timing": {"startTime": "2026-11-20T10:00:00.5Z",
                            "endTime": "2026-11-20T10:00:02.123456789Z"}, "exitCode": 2},
            ],
            options={"logging": "CLOUD_LOGGING_ONLY"},
        )
    )  # fmt: skip
    assert build.trigger_name == "ci"
    assert build.short_sha == "aaaaaaa"
    assert build.logging_mode == "CLOUD_LOGGING_ONLY"
    step = build.steps[0]
    assert step.exit_code == 2
    assert step.label == 'Step #0 - "t"'
    assert step.duration_s == pytest.approx(1.623456)


def test_nanosecond_times_parse() -> None:
    assert parse_time("2026-11-20T10:00:03.123456789Z").microsecond == 123456


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "expected a Build JSON object"),
        ({"status": "FAILURE"}, "field 'id' is missing"),
        (minimal(status="BROKEN"), "not a Cloud Build status"),
        (minimal(steps={"a": 1}), "field 'steps' must be a list"),
        (minimal(steps=[{"args": "pytest"}]), "steps[0].args"),
        (minimal(createTime=12), "field 'createTime' must be a string"),
        (minimal(createTime="yesterday"), "not an RFC 3339 time"),
        (minimal(substitutions={"A": {"b": 1}}), "substitutions.A"),
        (minimal(failureInfo="bad"), "failureInfo"),
    ],
)
def test_wrong_types_give_a_clear_error(obj: object, message: str) -> None:
    with pytest.raises(BuildDecodeError, match=None) as info:
        decode_build(obj)
    assert message in str(info.value)


@pytest.mark.parametrize("case", fixture_cases())
def test_every_fixture_decodes(case: str) -> None:
    build = decode_build(json.loads((FIXTURES / case / "build.json").read_text()))
    assert build.id and build.status
