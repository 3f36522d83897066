"""Settings shared by the LLM analyzers (each provider adds its own in its module).

They are a section of the function's one Settings object (`settings.section(...)`), but
live here so that the LLM analyzers own them. An `LLM_*` variable that names none of them
is reported at start-up as unknown.
"""

from __future__ import annotations

import json
from typing import Annotated, ClassVar

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from buildlens_core.settings import Section


class LLMSettings(Section):
    prefixes: ClassVar[tuple[str, ...]] = ("LLM_",)

    llm_max_input_tokens: int = Field(default=6000, ge=64)
    llm_max_output_tokens: int = Field(default=1024, ge=16)
    llm_chars_per_token: float = Field(default=3.0, gt=0)  # for the local token estimate
    llm_calls_per_hour: int = Field(default=60, ge=0)  # per provider; 0 turns calls off
    llm_deadline_s: float = Field(default=25.0, gt=0)  # whole analyzer, retries included
    llm_attempt_timeout_s: float = Field(default=20.0, gt=0)  # one HTTP attempt
    llm_cache_ttl_s: float = Field(default=7 * 86400.0, ge=0)  # 0: no cache
    llm_temperature: float = Field(default=0.2, ge=0)
    # Extra redaction regexes (JSON list or one per line); a match becomes [REDACTED:custom].
    llm_redact_patterns: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("llm_redact_patterns", mode="before")
    @classmethod
    def _patterns(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                parsed = json.loads(text)
                if not isinstance(parsed, list) or not all(isinstance(p, str) for p in parsed):
                    raise ValueError("LLM_REDACT_PATTERNS must be a JSON list of strings")
                return tuple(parsed)
            return tuple(line.strip() for line in text.splitlines() if line.strip())
        return value
