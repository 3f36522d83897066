"""Configuration problems are found at start-up, all at once, each named by its variable."""

from __future__ import annotations

import pytest

from buildlens_core.errors import ConfigError
from buildlens_core.settings import Settings, load_settings
from notifier.pipeline import Notifier


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_WEBHOOK_URL", "WEBHOOK_URL", "GEMINI_API_KEY", "TAIL_LINES"):
        monkeypatch.delenv(name, raising=False)


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAIL_LINES", "0")
    with pytest.raises(ConfigError, match="TAIL_LINES"):
        load_settings()


def test_every_problem_is_listed_in_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_MAX_INPUT_TOKENS", "-1")
    settings = Settings(
        analyzers=("failing_step", "nope"),
        sinks=("slack", "webhook"),
        filter_cel="build.status ==",
    )
    with pytest.raises(ConfigError) as info:
        Notifier(settings)
    text = str(info.value)
    assert text.startswith("5 configuration problem(s):")
    for needle in (
        "unknown analyzer 'nope'",
        "SLACK_WEBHOOK_URL",
        "WEBHOOK_URL",
        "LLM_MAX_INPUT_TOKENS",
    ):
        assert needle in text
    assert "FILTER_CEL is not a valid CEL expression" in text


def test_a_good_configuration_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example.com/in")
    notifier = Notifier(Settings(sinks=("webhook",)))
    assert [s.name for s in notifier.sinks] == ["webhook"]
