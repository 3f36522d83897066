"""LLM analyzers: a Gemini explanation and an OpenAI-compatible (self-hosted) one.

Public API: `create_gemini` and `create_openai` (registry factories, importing their client
libraries only when used), `redact_text` / `redact_lines` (secret redaction, also for the
excerpt shown in reports) and the `LLMError` family the analyzers raise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzers.llm.errors import LLMBadOutput, LLMError, LLMSkipped, LLMUnavailable
from buildlens_core.redact import redact_lines, redact_text

if TYPE_CHECKING:
    from analyzers.llm.gemini import GeminiAnalyzer
    from analyzers.llm.openai_compat import OpenAICompatAnalyzer
    from buildlens_core.settings import Settings


def create_gemini(settings: Settings) -> GeminiAnalyzer:
    from analyzers.llm import gemini

    return gemini.create(settings)


def create_openai(settings: Settings) -> OpenAICompatAnalyzer:
    from analyzers.llm import openai_compat

    return openai_compat.create(settings)


__all__ = [
    "LLMBadOutput",
    "LLMError",
    "LLMSkipped",
    "LLMUnavailable",
    "create_gemini",
    "create_openai",
    "redact_lines",
    "redact_text",
]
