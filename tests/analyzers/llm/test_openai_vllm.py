"""The OpenAI-compatible analyzer against the real vLLM on CPU (tiny random model), directly
and through the API-key gateway. The model's words are random: these tests check shapes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from analyzers.llm.errors import LLMBadOutput, LLMError, LLMUnavailable
from analyzers.llm.openai_compat import OpenAICompatAnalyzer, OpenAISettings
from buildlens_core.build import decode_build
from buildlens_core.settings import load_settings
from notifier.logsources.fixture import FixtureLogSource
from notifier.pipeline import Notifier
from notifier.report import Report
from tests.analyzers.llm.conftest import LlmStack
from tests.analyzers.llm.helpers import context
from tests.conftest import FIXTURES
from tests.service import vllm_harness

pytestmark = pytest.mark.vllm
CASE = "pytest-failure"


class Recording(httpx.HTTPTransport):
    """The real transport, keeping each exchange (for assertions on what crossed the wire)."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[dict[str, Any], int, dict[str, Any] | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        body = response.read()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        self.exchanges.append((json.loads(request.content), response.status_code, payload))
        return httpx.Response(response.status_code, headers=response.headers, content=body)


class Collect:
    name = "collect"

    def send(self, report: Report) -> None:
        pass


def analyzer(base: str, transport: Recording | None = None, **extra: Any) -> OpenAICompatAnalyzer:
    values: dict[str, Any] = {
        "openai_base_url": base + "/v1",
        "openai_model": vllm_harness.SERVED_MODEL,
        "llm_max_input_tokens": 2400,
        "llm_chars_per_token": 1.3,  # the tiny tokenizer is nearly character-level
        "llm_max_output_tokens": 96,
        "llm_deadline_s": 120,
        "llm_attempt_timeout_s": 100,
        "llm_cache_ttl_s": 0,
    }
    values.update(extra)
    return OpenAICompatAnalyzer(OpenAISettings(**values), transport=transport)


def explain_or_degrade(a: OpenAICompatAnalyzer) -> list[Any] | LLMError:
    try:
        return a.analyze(context(CASE))
    except LLMError as exc:
        return exc


def check_exchange(transport: Recording) -> dict[str, Any]:
    [(request, status, payload)] = transport.exchanges
    assert status == 200, payload
    assert request["response_format"]["type"] == "json_schema"
    assert request["messages"][0]["role"] == "user"
    assert payload is not None
    assert payload["usage"]["prompt_tokens"] > 500
    assert 0 < payload["usage"]["completion_tokens"] <= 96
    return payload


def check_outcome(result: list[Any] | LLMError, payload: dict[str, Any]) -> None:
    message = payload["choices"][0]["message"]
    reasoning = message.get("reasoning") or message.get("reasoning_content") or ""
    if isinstance(result, LLMError):
        # Degrades cleanly: one line, a known kind, no model text in it.
        assert isinstance(result, LLMBadOutput), result
        text = str(result)
        assert text.startswith("openai: ")  # "the answer had no content", "unusable answer"
        assert "\n" not in text
        if reasoning.strip():
            assert reasoning.strip()[:40] not in text
        return
    [finding] = result
    assert finding.kind == "explanation"
    data = finding.data
    assert data["provider"] == "openai"
    for value in (data["summary"], data["root_cause"], *data["fix_steps"]):
        assert "<think>" not in value and "</think>" not in value
        if len(reasoning.strip()) >= 20:
            assert reasoning.strip()[:20] not in value  # reasoning is never the answer


def test_direct_to_vllm(llm_stack: LlmStack) -> None:
    transport = Recording()
    a = analyzer(llm_stack.vllm_url, transport)
    result = explain_or_degrade(a)
    payload = check_exchange(transport)
    check_outcome(result, payload)


def test_through_the_gateway_with_an_api_key(llm_stack: LlmStack) -> None:
    transport = Recording()
    a = analyzer(llm_stack.gateway_url, transport, openai_api_key=llm_stack.key)
    result = explain_or_degrade(a)
    payload = check_exchange(transport)
    check_outcome(result, payload)


def test_gateway_bearer_header_works_too(llm_stack: LlmStack) -> None:
    transport = Recording()
    a = analyzer(
        llm_stack.gateway_url, transport, openai_api_key=llm_stack.key, openai_key_header="bearer"
    )
    explain_or_degrade(a)
    check_exchange(transport)


def test_gateway_rejects_a_wrong_key_with_a_hint(llm_stack: LlmStack) -> None:
    a = analyzer(llm_stack.gateway_url, openai_api_key="sk-wrong-key-for-the-test")
    with pytest.raises(LLMUnavailable, match=r"HTTP 401.*check OPENAI_API_KEY"):
        a.analyze(context(CASE))


def test_non_json_answer_degrades_cleanly_through_the_pipeline(
    llm_stack: LlmStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the schema the random model writes no JSON: the report still goes out."""
    monkeypatch.setenv("OPENAI_BASE_URL", llm_stack.gateway_url + "/v1")
    monkeypatch.setenv("OPENAI_MODEL", vllm_harness.SERVED_MODEL)
    monkeypatch.setenv("OPENAI_API_KEY", llm_stack.key)
    monkeypatch.setenv("OPENAI_JSON_SCHEMA", "false")
    monkeypatch.setenv("LLM_MAX_INPUT_TOKENS", "2400")
    monkeypatch.setenv("LLM_CHARS_PER_TOKEN", "1.3")
    monkeypatch.setenv("LLM_MAX_OUTPUT_TOKENS", "48")
    monkeypatch.setenv("LLM_DEADLINE_S", "120")
    monkeypatch.setenv("LLM_ATTEMPT_TIMEOUT_S", "100")
    settings = load_settings(analyzers=("failing_step", "tail", "key_lines", "classify", "openai"))
    notifier = Notifier(settings, sinks=[Collect()])
    build = decode_build(json.loads((FIXTURES / CASE / "build.json").read_text()))
    outcome = notifier.handle_build(
        build, log_source=FixtureLogSource(FIXTURES / CASE, settings.sources.max_log_bytes)
    )
    report = outcome.report
    assert report is not None
    assert report.finding("failing_step") is not None
    explanation = report.finding("explanation")
    if explanation is None:
        [error] = [e for e in report.errors if e.name == "openai"]
        assert error.stage == "analyzer"
        assert error.message.startswith("LLMBadOutput: openai: ")
        assert "\n" not in error.message
    else:  # the random model happened to write a JSON object
        assert explanation.data["provider"] == "openai"
