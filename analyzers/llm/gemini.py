"""Gemini explanation, through `google-genai`: a Gemini API key or Vertex AI.

Structured output with a response schema; retries on 429/5xx/timeouts within the deadline;
safety-blocked and empty answers degrade to a one-line reason in the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from google.genai import Client, errors, types

from analyzers.llm.errors import LLMBadOutput, LLMUnavailable, RetryableError
from analyzers.llm.explainer import Explainer, Reply
from analyzers.llm.prompt import SCHEMA, Prompt
from analyzers.llm.settings import LLMSettings
from buildlens_core.errors import ConfigError
from buildlens_core.secrets import resolve

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

# google-genai sends through httpx or its fork httpx2, depending on the version.
_TIMEOUTS: tuple[type[Exception], ...] = (httpx.TimeoutException,)
_TRANSPORT: tuple[type[Exception], ...] = (httpx.TransportError,)
try:
    import httpx2

    _TIMEOUTS += (httpx2.TimeoutException,)
    _TRANSPORT += (httpx2.TransportError,)
except ImportError:  # pragma: no cover - older google-genai
    pass

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
BLOCKED_FINISH = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
)


class GeminiSettings(LLMSettings):
    prefixes = ("LLM_", "GEMINI_")

    gemini_api_key: str = ""  # a key, or sm://projects/P/secrets/S/versions/V
    gemini_model: str = "gemini-2.5-flash"
    gemini_use_vertex: bool = False  # Vertex AI with the function's service account
    gemini_location: str = "us-central1"  # for Vertex AI
    gemini_base_url: str = ""  # another endpoint (a proxy, or a local server in tests)
    gemini_thinking_budget: int | None = None  # tokens; unset: the model's default


def to_schema(spec: dict[str, Any]) -> types.Schema:
    """A JSON-schema dict (the subset SCHEMA uses) as google-genai's Schema."""
    properties = spec.get("properties")
    items = spec.get("items")
    return types.Schema(
        type=types.Type(str(spec["type"]).upper()),
        description=spec.get("description"),
        properties={k: to_schema(v) for k, v in properties.items()} if properties else None,
        property_ordering=list(properties) if properties else None,
        items=to_schema(items) if items else None,
        required=spec.get("required"),
    )


class GeminiAnalyzer(Explainer):
    name: str = "gemini"
    provider: str = "gemini"

    def __init__(self, settings: GeminiSettings, project: str = "") -> None:
        """`project`: the Google Cloud project for Vertex AI (GOOGLE_CLOUD_PROJECT, read once
        for every client in the function's cloud settings)."""
        super().__init__(settings, settings.gemini_model)
        self.gemini = settings
        options = types.HttpOptions(base_url=settings.gemini_base_url or None)
        if settings.gemini_use_vertex:
            if not project:
                raise ConfigError(
                    "gemini on Vertex AI needs a project: set GOOGLE_CLOUD_PROJECT (and "
                    "GEMINI_LOCATION), or set GEMINI_API_KEY instead of GEMINI_USE_VERTEX, "
                    "or remove gemini from ANALYZERS"
                )
            self._client = Client(
                vertexai=True,
                project=project,
                location=settings.gemini_location,
                http_options=options,
            )
        else:
            if not settings.gemini_api_key:
                raise ConfigError(
                    "gemini needs credentials: set GEMINI_API_KEY (a key or an sm:// Secret "
                    "Manager reference), or GEMINI_USE_VERTEX=true with GOOGLE_CLOUD_PROJECT, "
                    "or remove gemini from ANALYZERS"
                )
            key = resolve(settings.gemini_api_key, "GEMINI_API_KEY")
            self._client = Client(api_key=key, http_options=options)
        self._schema = to_schema(SCHEMA)

    def _config(self, prompt: Prompt, timeout_s: float) -> types.GenerateContentConfig:
        thinking = None
        if self.gemini.gemini_thinking_budget is not None:
            thinking = types.ThinkingConfig(thinking_budget=self.gemini.gemini_thinking_budget)
        return types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json",
            response_schema=self._schema,
            max_output_tokens=self.settings.llm_max_output_tokens,
            temperature=self.settings.llm_temperature,
            candidate_count=1,
            thinking_config=thinking,
            http_options=types.HttpOptions(timeout=max(1000, int(timeout_s * 1000))),
        )

    def _call(self, prompt: Prompt, timeout_s: float) -> Reply:
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=prompt.user, config=self._config(prompt, timeout_s)
            )
        except errors.APIError as exc:
            code = int(exc.code or 0)
            message = " ".join(str(exc.message or "").split())[:200]
            if code in RETRYABLE_STATUS:
                raise RetryableError(
                    f"HTTP {code} {exc.status or ''}".strip(), _retry_after(exc)
                ) from None
            hint = ""
            if code in (401, 403):
                hint = "; check GEMINI_API_KEY or the service account's Vertex AI access"
            elif code == 404:
                hint = "; check GEMINI_MODEL (and GEMINI_LOCATION on Vertex AI)"
            raise LLMUnavailable(
                f"gemini: HTTP {code} {exc.status or ''}: {message}{hint}".replace("  ", " ")
            ) from None
        except _TIMEOUTS:
            raise RetryableError(f"timed out after {timeout_s:.0f} s") from None
        except _TRANSPORT as exc:
            raise RetryableError(f"connection failed ({exc.__class__.__name__})") from None
        return _reply(response)


def _retry_after(exc: errors.APIError) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _reply(response: types.GenerateContentResponse) -> Reply:
    usage = response.usage_metadata
    input_tokens = usage.prompt_token_count if usage else None
    output_tokens = None
    if usage is not None:
        output_tokens = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    candidates = response.candidates or []
    if not candidates:
        feedback = response.prompt_feedback
        reason = feedback.block_reason if feedback is not None else None
        if reason is not None:
            raise LLMBadOutput(f"gemini: the prompt was blocked ({_enum(reason)})")
        raise LLMBadOutput("gemini: the answer had no candidates")
    candidate = candidates[0]
    finish = _enum(candidate.finish_reason) if candidate.finish_reason else ""
    if finish in BLOCKED_FINISH:
        raise LLMBadOutput(f"gemini: the answer was blocked (finish reason {finish})")
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(p.text for p in parts if p.text and not p.thought)
    if not text.strip():
        raise LLMBadOutput(f"gemini: the answer was empty (finish reason {finish or 'none'})")
    return Reply(text, input_tokens, output_tokens, finish)


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value))


def create(settings: Settings) -> GeminiAnalyzer:
    """Registry factory: reads the GEMINI_* and LLM_* variables (see GeminiSettings), and
    GOOGLE_CLOUD_PROJECT from the cloud settings."""
    return GeminiAnalyzer(settings.section(GeminiSettings), settings.cloud.google_cloud_project)
