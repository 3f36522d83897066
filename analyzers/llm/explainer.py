"""What both LLM analyzers share: prompt, cache, budget, retries, parsing, the finding.

A provider implements `_call(prompt, timeout_s) -> Reply` and raises `RetryableError` for
429, 5xx, timeouts and connection errors, `LLMUnavailable` for errors a retry cannot fix.

Failure policy: an analyzer that cannot explain RAISES an `LLMError` whose message is the one
line the report shows (the pipeline records it as a StageError; the report goes out without
the explanation). A build with no log lines and no failure detail returns no finding.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import Any

from analyzers.base import AnalysisContext, Finding, JSONValue, ranges_from_numbers
from analyzers.llm.budget import CallLimiter, Deadline
from analyzers.llm.cache import ExplanationCache
from analyzers.llm.errors import LLMBadOutput, LLMError, LLMSkipped, LLMUnavailable, RetryableError
from analyzers.llm.parse import Explanation, parse_explanation
from analyzers.llm.prompt import Prompt, build_prompt
from analyzers.llm.settings import LLMSettings
from analyzers.results import Fingerprint
from buildlens_core.errors import ConfigError
from buildlens_core.jsonlog import log
from buildlens_core.redact import Redactor

BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
MIN_ATTEMPT_S = 1.0  # no attempt is started with less time than this left


@dataclass(frozen=True, slots=True)
class Reply:
    text: str  # the answer's content (reasoning already separated where the API does it)
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int
    output_tokens: int
    latency_s: float
    attempts: int
    estimated_input_tokens: int


class Explainer:
    """Base class of the LLM analyzers; subclasses set `name`, `provider` and `_call`."""

    name: str = "llm"
    provider: str = "llm"

    def __init__(self, settings: LLMSettings, model: str) -> None:
        self.settings = settings
        self.model = model
        try:
            self.redactor = Redactor(settings.llm_redact_patterns)
        except re.error as exc:
            raise ConfigError(
                f"LLM_REDACT_PATTERNS has a pattern that does not compile ({exc}); fix or remove it"
            ) from None
        self.cache = ExplanationCache(settings.llm_cache_ttl_s)
        self.limiter = CallLimiter(self.provider, settings.llm_calls_per_hour)
        self.last_usage: Usage | None = None  # of the last call made (for the benchmark)
        self.last_prompt: Prompt | None = None

    # -- provider hook ---------------------------------------------------------------------

    def _call(self, prompt: Prompt, timeout_s: float) -> Reply:
        raise NotImplementedError

    def _retry_after(self, exc: RetryableError) -> float | None:
        return exc.retry_after_s

    # -- the analyzer ------------------------------------------------------------------------

    def analyze(self, ctx: AnalysisContext) -> list[Finding]:
        deadline = Deadline(self.settings.llm_deadline_s)
        prompt = build_prompt(
            ctx,
            self.redactor,
            max_input_tokens=self.settings.llm_max_input_tokens,
            chars_per_token=self.settings.llm_chars_per_token,
        )
        self.last_prompt = prompt
        if not prompt.lines and not ctx.build.failure_detail:
            return []  # nothing to explain
        fingerprint = _fingerprint(ctx) or f"prompt-{prompt.digest[:32]}"
        key = ExplanationCache.key(self.provider, self.model, fingerprint)
        cached = self.cache.get(key, ctx.state)
        if cached is not None:
            explanation = _from_doc(cached, prompt.line_numbers)
            if explanation is not None:
                return [self._finding(explanation, reused=True, usage=None)]
        if not self.limiter.try_acquire(ctx.state):
            raise LLMSkipped(
                f"{self.name}: no call made, the limit of {self.settings.llm_calls_per_hour} "
                "calls per hour (LLM_CALLS_PER_HOUR) is reached"
            )
        reply, usage = self._call_with_retries(prompt, deadline)
        try:
            explanation = parse_explanation(reply.text, prompt.line_numbers, self.redactor)
        except LLMBadOutput as exc:
            why = f", finish reason {reply.finish_reason}" if reply.finish_reason else ""
            raise LLMBadOutput(f"{self.name}: unusable answer: {exc}{why}") from None
        self.cache.put(key, _to_doc(explanation), ctx.state)
        return [self._finding(explanation, reused=False, usage=usage)]

    def _call_with_retries(self, prompt: Prompt, deadline: Deadline) -> tuple[Reply, Usage]:
        started = time.monotonic()
        attempt = 0
        last = ""
        while True:
            remaining = deadline.remaining()
            if remaining < MIN_ATTEMPT_S:
                raise LLMUnavailable(
                    f"{self.name}: no answer within the {self.settings.llm_deadline_s:g} s "
                    f"deadline after {attempt} attempt{'s' * (attempt != 1)}"
                    + (f" (last: {last})" if last else "")
                )
            attempt += 1
            timeout = min(self.settings.llm_attempt_timeout_s, remaining)
            try:
                reply = self._call(prompt, timeout)
            except RetryableError as exc:
                last = str(exc)
                wait = BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)]
                wait = wait * (0.75 + random.random() / 2)
                hinted = self._retry_after(exc)
                if hinted is not None:
                    wait = max(wait, hinted)
                if wait + MIN_ATTEMPT_S > deadline.remaining():
                    raise LLMUnavailable(
                        f"{self.name}: gave up after {attempt} attempt{'s' * (attempt != 1)} "
                        f"within the {self.settings.llm_deadline_s:g} s deadline (last: {last})"
                    ) from None
                log("WARNING", f"{self.name}: attempt {attempt} failed ({last}); retrying")
                time.sleep(wait)
                continue
            except LLMError:
                raise
            usage = Usage(
                input_tokens=reply.input_tokens or prompt.input_tokens,
                output_tokens=reply.output_tokens or 0,
                latency_s=round(time.monotonic() - started, 3),
                attempts=attempt,
                estimated_input_tokens=prompt.input_tokens,
            )
            self.last_usage = usage
            return reply, usage

    def _finding(self, e: Explanation, *, reused: bool, usage: Usage | None) -> Finding:
        notes: list[str] = []
        if reused:
            notes.append("reused: explained before for the same failure fingerprint")
        if e.dropped_citations:
            shown = ", ".join(str(n) for n in e.dropped_citations[:10])
            notes.append(
                f"{len(e.dropped_citations)} cited line(s) not in the excerpt were dropped "
                f"({shown})"
            )
        data: dict[str, JSONValue] = {
            "summary": e.summary,
            "root_cause": e.root_cause,
            "fix_steps": list(e.fix_steps),
            "confidence": e.confidence,
            "cited_lines": list(e.cited_lines),
            "provider": self.provider,
            "model": self.model,
            "reused": reused,
            "dropped_citations": list(e.dropped_citations),
            "note": "; ".join(notes),
        }
        if usage is not None:
            data["usage"] = {
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "latency_s": usage.latency_s,
                "attempts": usage.attempts,
            }
        return Finding(
            self.name, "explanation", e.summary, tuple(ranges_from_numbers(e.cited_lines)), data
        )


def _fingerprint(ctx: AnalysisContext) -> str:
    found = ctx.get(Fingerprint)
    return found.digest if found else ""


def _to_doc(e: Explanation) -> dict[str, Any]:
    return {
        "summary": e.summary,
        "root_cause": e.root_cause,
        "fix_steps": list(e.fix_steps),
        "confidence": e.confidence,
        "cited_lines": list(e.cited_lines),
        "created": time.time(),
    }


def _from_doc(doc: dict[str, Any], excerpt_lines: frozenset[int]) -> Explanation | None:
    """A cached explanation; its citations are checked against this build's excerpt."""
    summary = doc.get("summary")
    if not isinstance(summary, str) or not summary:
        return None
    raw = doc.get("cited_lines")
    lines = [n for n in raw if isinstance(n, int)] if isinstance(raw, list) else []
    steps = doc.get("fix_steps")
    confidence = doc.get("confidence")
    root_cause = doc.get("root_cause")
    return Explanation(
        summary=summary,
        root_cause=root_cause if isinstance(root_cause, str) else "",
        fix_steps=tuple(s for s in steps if isinstance(s, str)) if isinstance(steps, list) else (),
        confidence=float(confidence) if isinstance(confidence, int | float) else 0.0,
        cited_lines=tuple(n for n in lines if n in excerpt_lines),
        dropped_citations=tuple(n for n in lines if n not in excerpt_lines),
    )
