"""Configuration problems are found at start-up, all at once, each named by its variable."""

from __future__ import annotations

import pytest

from analyzers.llm.gemini import GeminiSettings
from buildlens_core.errors import ConfigError
from buildlens_core.settings import LogSources, load_settings
from notifier.pipeline import Notifier
from notifier.sinks.slack import SlackSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_WEBHOOK_URL", "WEBHOOK_URL", "GEMINI_API_KEY", "TAIL_LINES"):
        monkeypatch.delenv(name, raising=False)


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAIL_LINES", "0")
    settings = load_settings()
    assert [p for p in settings.problems if p.startswith("TAIL_LINES:")]
    # The bad section falls back to its defaults only so the rest can be checked.
    assert settings.analysis.tail_lines == 40
    with pytest.raises(ConfigError, match="TAIL_LINES"):
        Notifier(settings)


def test_every_problem_is_listed_in_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_MAX_INPUT_TOKENS", "-1")
    monkeypatch.setenv("MAX_LOG_BYTES", "12")  # a core section's bad value
    monkeypatch.setenv("SLACK_WEBHOOK", "https://hooks.slack.com/x")  # a typo
    settings = load_settings(
        analyzers=("failing_step", "nope"),
        sinks=("slack", "webhook"),
        filter_cel="build.status ==",
    )
    with pytest.raises(ConfigError) as info:
        Notifier(settings)
    text = str(info.value)
    assert text.startswith("7 configuration problem(s):")
    for needle in (
        "unknown analyzer 'nope'",
        "SLACK_WEBHOOK_URL",
        "WEBHOOK_URL",
        "LLM_MAX_INPUT_TOKENS",
        "MAX_LOG_BYTES",
        "SLACK_WEBHOOK: unknown setting; did you mean SLACK_WEBHOOK_URL?",
    ):
        assert needle in text
    assert "FILTER_CEL is not a valid CEL expression" in text


def test_a_good_configuration_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example.com/in")
    notifier = Notifier(load_settings(sinks=("webhook",)))
    assert [s.name for s in notifier.sinks] == ["webhook"]


def test_sections_hold_their_settings_and_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_LOG_BYTES", "2048")
    monkeypatch.setenv("SLACK_KEY_LINES", "7")
    settings = load_settings(log_wait_s=0)
    assert isinstance(settings.sources, LogSources)
    assert (settings.sources.max_log_bytes, settings.sources.log_wait_s) == (2048, 0)
    slack = settings.section(SlackSettings)
    assert slack.slack_key_lines == 7
    monkeypatch.setenv("SLACK_KEY_LINES", "9")  # read once: a later change is not seen
    assert settings.section(SlackSettings) is slack
    assert settings.problems == ()


def test_values_given_in_code_win_and_must_name_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_MODEL", "from-env")
    settings = load_settings(gemini_model="from-code", slack_webhok_url="https://x")
    assert settings.section(GeminiSettings).gemini_model == "from-code"
    assert settings.problems == (
        "SLACK_WEBHOK_URL: unknown setting; did you mean SLACK_WEBHOOK_URL?",
    )


def test_platform_and_foreign_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_EXECUTION_ID", "true")  # set by Cloud Run functions
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("K_SERVICE", "buildlens-notifier")
    monkeypatch.setenv("GITHUB_SHA", "abc")  # GitHub Actions' own variables
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")  # client libraries'
    assert load_settings().problems == ()


def test_a_bad_plugin_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_DEADLINE_S", "-1")
    with pytest.raises(ConfigError, match="SLACK_DEADLINE_S"):
        load_settings().section(SlackSettings)
