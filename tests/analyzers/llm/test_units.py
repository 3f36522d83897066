"""Redaction, parsing and budget on their own."""

from __future__ import annotations

import pytest

from analyzers.llm.budget import CallLimiter, NumberedLine, estimate_tokens, trim_lines
from analyzers.llm.errors import LLMBadOutput
from analyzers.llm.parse import parse_explanation, plain, strip_reasoning
from buildlens_core.redact import Redactor, redact_lines, redact_text
from notifier.state.memory import MemoryStateStore
from tests.analyzers.llm.corpus import CUSTOM_PATTERN, ordinary_lines, planted_lines

R = Redactor()


def test_corpus_is_fully_redacted() -> None:
    lines, secrets = planted_lines()
    assert len(secrets) >= 30
    out = "\n".join(redact_lines(lines, [CUSTOM_PATTERN]))
    assert [s for s in secrets if s in out] == []
    for kind in ("private-key", "github-token", "gitlab-token", "slack-token", "slack-webhook",
                 "aws-access-key-id", "aws-secret-key", "stripe-key", "npm-token", "jwt",
                 "auth-header", "url-password", "secret-value", "high-entropy",
                 "google-api-key", "custom"):  # fmt: skip
        assert f"[REDACTED:{kind}]" in out, kind


@pytest.mark.parametrize("line", ordinary_lines())
def test_ordinary_lines_are_untouched(line: str) -> None:
    assert redact_text(line) == line


def test_redaction_keeps_names_and_structure() -> None:
    assert redact_text("DB_PASSWORD=hunter2hunter2") == "DB_PASSWORD=[REDACTED:secret-value]"
    assert redact_text("a\r\nb\n") == "a\r\nb\n"
    assert redact_text("password: ${{ secrets.DB }}") == "password: ${{ secrets.DB }}"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "line",
    [
        "a" * 100_000,
        "eyJ" * 33_000,
        "a=" * 50_000,
        'a="' * 33_000,
        "x://" + "a:" * 50_000,
        "ghp_" * 25_000,
        "-----BEGIN " * 9_000,
        "Bearer " + "a" * 100_000,
        "aws_" * 25_000 + "=",
        "--password " * 9_000,
        "A1b2C3d4/" * 11_000,
    ],
)
def test_adversarial_lines_finish(line: str) -> None:
    redact_text(line)  # bounded by the timeout marker, not timed


def test_strip_reasoning() -> None:
    assert strip_reasoning('<think>x {"a":1}</think>{"b": 2}') == '{"b": 2}'
    assert strip_reasoning('x {"a":1}\n</think>\n{"b": 2}').strip() == '{"b": 2}'
    assert strip_reasoning("<think>never ends") == ""


def test_parse_is_tolerant() -> None:
    text = (
        '<think>{"summary": "wrong"}</think>Sure! ```json\n{"summary": "Step build failed.", '
        '"root_cause": "x", "fix_steps": "1. do a 2. do b", "confidence": "high", '
        '"cited_lines": ["3-4", 7, 99]}\n```'
    )
    e = parse_explanation(text, {3, 4, 5, 7}, R)
    assert e.summary == "Step build failed."
    assert e.fix_steps == ("do a", "do b")
    assert e.confidence == 0.8
    assert e.cited_lines == (3, 4, 7)
    assert e.dropped_citations == (99,)


def test_parse_rejects_non_json() -> None:
    with pytest.raises(LLMBadOutput):
        parse_explanation("I think the build failed.", {1}, R)
    with pytest.raises(LLMBadOutput):
        parse_explanation('{"root_cause": "no summary"}', {1}, R)


def test_trim_keeps_key_lines_and_their_neighbours() -> None:
    lines = [NumberedLine(n, f"line {n} " + "x" * 60, key=n in (50, 51)) for n in range(1, 101)]
    kept, omitted = trim_lines(lines, max_tokens=150, chars_per_token=3)
    numbers = [ln.number for ln in kept]
    assert {50, 51} <= set(numbers)
    assert omitted == 100 - len(kept)
    assert numbers == sorted(numbers)
    assert max(numbers) - min(numbers) < 10  # the nearest lines, not the head of the log
    assert sum(estimate_tokens(f">{ln.number:>6} | {ln.text}\n", 3) for ln in kept) <= 150


def test_trim_shortens_an_overlong_line_visibly() -> None:
    [line], _ = trim_lines([NumberedLine(1, "y" * 5000, key=True)], max_tokens=100)
    assert "more characters]" in line.text


def test_call_limiter_shared_through_the_state_store() -> None:
    store = MemoryStateStore()
    a, b = CallLimiter("gemini", 2), CallLimiter("gemini", 2)
    assert a.try_acquire(store) and b.try_acquire(store)
    assert not a.try_acquire(store)
    local = CallLimiter("openai", 1)
    assert local.try_acquire(None) and not local.try_acquire(None)
    assert not CallLimiter("x", 0).try_acquire(None)


def test_plain_text_drops_lone_surrogates() -> None:
    text = plain("fix the \ud83d import", 100, Redactor())
    assert text == "fix the import"
    assert text.encode("utf-8")
