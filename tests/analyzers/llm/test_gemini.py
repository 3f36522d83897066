"""The Gemini analyzer: the real google-genai client against a local generateContent server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from analyzers.llm.errors import LLMBadOutput, LLMSkipped, LLMUnavailable
from analyzers.llm.gemini import GeminiAnalyzer, GeminiSettings, create
from buildlens_core.errors import ConfigError
from buildlens_core.settings import load_settings
from notifier.state.memory import MemoryStateStore
from tests.analyzers.llm.helpers import context
from tests.fakes.gemini import (
    DEFAULT_ANSWER,
    Delay,
    FakeGemini,
    candidate_response,
    error,
    json_answer,
    no_candidates,
    safety_blocked,
)

CASE = "pytest-failure"


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    server = FakeGemini().start()
    yield server
    server.stop()


def analyzer(fake: FakeGemini, **overrides: Any) -> GeminiAnalyzer:
    values: dict[str, Any] = {
        "gemini_api_key": "test-key-not-a-secret",
        "gemini_base_url": fake.url,
        "gemini_model": "gemini-test",
        "llm_deadline_s": 10,
        "llm_attempt_timeout_s": 5,
    }
    values.update(overrides)
    return GeminiAnalyzer(GeminiSettings(**values))


def test_request_carries_schema_facts_and_framed_excerpt(fake: FakeGemini) -> None:
    ctx = context(CASE)
    [finding] = analyzer(fake).analyze(ctx)
    assert finding.kind == "explanation"
    assert finding.data["provider"] == "gemini"
    assert finding.data["model"] == "gemini-test"
    assert finding.data["reused"] is False
    [request] = fake.calls()
    assert request.path.endswith("/models/gemini-test:generateContent")
    assert request.headers.get("x-goog-api-key") == "test-key-not-a-secret"
    body = json.loads(request.body)
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert schema["type"] == "OBJECT"
    assert set(schema["required"]) == {
        "summary", "root_cause", "fix_steps", "confidence", "cited_lines"
    }  # fmt: skip
    assert schema["properties"]["cited_lines"]["items"]["type"] == "INTEGER"
    assert config["maxOutputTokens"] == 1024
    system = body["systemInstruction"]["parts"][0]["text"]
    assert "UNTRUSTED DATA" in system
    user = body["contents"][0]["parts"][0]["text"]
    assert '"trigger": "payments-api-main"' in user
    assert '"step_id": "unit-tests"' in user
    assert '"exit_code": 1' in user
    assert "AssertionError: assert Decimal('0.12') == Decimal('0.13')" in user
    assert "<<<LOG " in user and ">>>LOG " in user
    assert "\x1b[" not in user  # colours stripped


def test_429_then_success(fake: FakeGemini) -> None:
    fake.script.append(error(429, retry_after=0.2))
    [finding] = analyzer(fake).analyze(context(CASE))
    assert len(fake.calls()) == 2
    usage = finding.data["usage"]
    assert isinstance(usage, dict)
    assert usage["attempts"] == 2
    assert usage["input_tokens"] == 321


def test_5xx_until_the_deadline_gives_one_line_reason(fake: FakeGemini) -> None:
    for _ in range(20):
        fake.script.append(error(503))
    with pytest.raises(LLMUnavailable) as info:
        analyzer(fake, llm_deadline_s=3).analyze(context(CASE))
    message = str(info.value)
    assert message.startswith("gemini: gave up after")
    assert "HTTP 503" in message
    assert "\n" not in message
    assert 2 <= len(fake.calls()) <= 4


def test_timeout_then_success(fake: FakeGemini) -> None:
    fake.script.append(Delay(3, json_answer(DEFAULT_ANSWER)))
    [finding] = analyzer(fake, llm_attempt_timeout_s=1, llm_deadline_s=8).analyze(context(CASE))
    usage = finding.data["usage"]
    assert isinstance(usage, dict)
    assert usage["attempts"] == 2


def test_timeout_past_the_deadline(fake: FakeGemini) -> None:
    for _ in range(5):
        fake.script.append(Delay(4, json_answer(DEFAULT_ANSWER)))
    with pytest.raises(LLMUnavailable, match="timed out"):
        analyzer(fake, llm_attempt_timeout_s=1.5, llm_deadline_s=3).analyze(context(CASE))


def test_client_error_is_not_retried(fake: FakeGemini) -> None:
    fake.script.append(error(403, "API key not valid"))
    with pytest.raises(LLMUnavailable, match=r"HTTP 403.*check GEMINI_API_KEY"):
        analyzer(fake).analyze(context(CASE))
    assert len(fake.calls()) == 1


def test_malformed_json_output(fake: FakeGemini) -> None:
    fake.script.append(candidate_response('{"summary": "unterminated'))
    with pytest.raises(LLMBadOutput, match="not the JSON object asked for") as info:
        analyzer(fake).analyze(context(CASE))
    assert "unterminated" not in str(info.value)  # model text never reaches the error line


def test_json_wrapped_in_prose_and_thoughts_is_parsed(fake: FakeGemini) -> None:
    text = "Here you go:\n```json\n" + json.dumps(DEFAULT_ANSWER) + "\n```"
    fake.script.append(candidate_response(text, thought="thinking about secrets"))
    [finding] = analyzer(fake).analyze(context(CASE))
    assert finding.summary == DEFAULT_ANSWER["summary"]


def test_safety_blocked_candidate(fake: FakeGemini) -> None:
    fake.script.append(safety_blocked())
    with pytest.raises(LLMBadOutput, match=r"blocked \(finish reason SAFETY\)"):
        analyzer(fake).analyze(context(CASE))


def test_empty_candidate_list(fake: FakeGemini) -> None:
    fake.script.append(no_candidates())
    with pytest.raises(LLMBadOutput, match="no candidates"):
        analyzer(fake).analyze(context(CASE))


def test_blocked_prompt(fake: FakeGemini) -> None:
    fake.script.append(no_candidates("PROHIBITED_CONTENT"))
    with pytest.raises(LLMBadOutput, match="prompt was blocked"):
        analyzer(fake).analyze(context(CASE))


def test_invented_citations_are_dropped_and_said(fake: FakeGemini) -> None:
    ctx = context(CASE)
    a = analyzer(fake)
    fake.script.append(json_answer({**DEFAULT_ANSWER, "cited_lines": [77, 91, 5000, 3]}))
    [finding] = a.analyze(ctx)
    assert a.last_prompt is not None
    shown = a.last_prompt.line_numbers
    assert 77 in shown and 91 in shown and 5000 not in shown and 3 not in shown
    assert finding.data["cited_lines"] == [77, 91]
    assert finding.data["dropped_citations"] == [3, 5000]
    note = finding.data["note"]
    assert isinstance(note, str)
    assert "2 cited line(s) not in the excerpt were dropped (3, 5000)" in note
    assert [(r.start, r.end) for r in finding.lines] == [(77, 77), (91, 91)]


def test_cache_reuses_by_fingerprint_in_state_store(fake: FakeGemini) -> None:
    store = MemoryStateStore()
    first = analyzer(fake).analyze(context(CASE, state=store))
    # A new analyzer (another function instance) with the same store: no second call.
    second = analyzer(fake).analyze(context(CASE, state=store))
    assert len(fake.calls()) == 1
    assert first[0].data["reused"] is False
    assert second[0].data["reused"] is True
    assert "reused" in str(second[0].data["note"])
    assert second[0].summary == first[0].summary


def test_cache_in_memory_without_state_store(fake: FakeGemini) -> None:
    a = analyzer(fake)
    a.analyze(context(CASE))
    [again] = a.analyze(context(CASE))
    assert again.data["reused"] is True
    assert len(fake.calls()) == 1


def test_calls_per_hour_limit(fake: FakeGemini) -> None:
    a = analyzer(fake, llm_calls_per_hour=1, llm_cache_ttl_s=0)
    a.analyze(context(CASE))
    with pytest.raises(LLMSkipped, match="limit of 1 calls per hour"):
        a.analyze(context(CASE))
    assert len(fake.calls()) == 1


def test_input_budget_keeps_key_lines(fake: FakeGemini) -> None:
    a = analyzer(fake, llm_max_input_tokens=900)
    a.analyze(context(CASE))
    assert a.last_prompt is not None
    assert a.last_prompt.omitted > 0
    key = [line.number for line in a.last_prompt.lines if line.key]
    assert key, "the key lines are the last to go"
    assert a.last_prompt.input_tokens <= 900 + 50


def test_missing_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"set GEMINI_API_KEY.*remove gemini from ANALYZERS"):
        GeminiAnalyzer(GeminiSettings(gemini_api_key="", gemini_use_vertex=False))
    with pytest.raises(ConfigError, match="GOOGLE_CLOUD_PROJECT"):
        GeminiAnalyzer(GeminiSettings(gemini_use_vertex=True), project="")


def test_vertex_takes_the_one_project_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    # GOOGLE_CLOUD_PROJECT is read once, in the cloud settings every client shares.
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    with pytest.raises(ConfigError, match="GOOGLE_CLOUD_PROJECT"):
        create(load_settings(gemini_use_vertex=True))
    analyzer = create(load_settings(gemini_use_vertex=True, google_cloud_project="ops-project"))
    assert analyzer._client._api_client.project == "ops-project"
