from __future__ import annotations

import pytest

from buildlens_core.build import BuildEvent, decode_build
from buildlens_core.errors import ConfigError
from buildlens_core.settings import load_settings
from notifier.filter import BuildFilter


def build(status: str = "FAILURE", **subs: str) -> BuildEvent:
    return decode_build({"id": "b", "status": status, "substitutions": subs})


@pytest.mark.parametrize("status", ["FAILURE", "TIMEOUT", "INTERNAL_ERROR"])
def test_failures_are_reported_by_default(status: str) -> None:
    assert BuildFilter(load_settings()).reason_to_skip(build(status)) is None


@pytest.mark.parametrize("status", ["SUCCESS", "CANCELLED", "EXPIRED"])
def test_other_terminal_statuses_are_not(status: str) -> None:
    reason = BuildFilter(load_settings()).reason_to_skip(build(status))
    assert reason is not None and status in reason


def test_trigger_branch_and_repo_globs() -> None:
    f = BuildFilter(load_settings(trigger_names=("deploy-*",), branches=("main", "release/*")))
    assert f.reason_to_skip(build(TRIGGER_NAME="deploy-prod", BRANCH_NAME="release/1.2")) is None
    reason = f.reason_to_skip(build(TRIGGER_NAME="ci", BRANCH_NAME="main"))
    assert reason is not None and "trigger 'ci'" in reason
    reason = f.reason_to_skip(build(TRIGGER_NAME="deploy-x", BRANCH_NAME="dev"))
    assert reason is not None and "branch 'dev'" in reason


def test_cel_expression_filters_and_missing_fields_do_not_match() -> None:
    f = BuildFilter(load_settings(filter_cel='build.substitutions.BRANCH_NAME == "main"'))
    assert f.reason_to_skip(build(BRANCH_NAME="main")) is None
    assert f.reason_to_skip(build(BRANCH_NAME="dev")) is not None
    no_subs = decode_build({"id": "b", "status": "FAILURE"})
    assert "FILTER_CEL is false" in (f.reason_to_skip(no_subs) or "")


def test_invalid_cel_fails_at_start_up() -> None:
    with pytest.raises(ConfigError, match="FILTER_CEL is not a valid CEL expression"):
        BuildFilter(load_settings(filter_cel="build.("))
