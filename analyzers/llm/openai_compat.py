"""An explanation from any OpenAI-compatible chat completions server (httpx).

Pointed at buildlens' own vLLM service (key in `X-API-Key`), this makes the whole system
self-hosted; any other server takes the key as `Authorization: Bearer`. The request asks for
JSON through `response_format` with the JSON schema (vLLM enforces it by guided decoding);
servers that reject that get the plain request, and the answer is parsed tolerantly either
way. DeepSeek-R1 models think first: only `content` is read (never `reasoning` or
`reasoning_content`), and any `<think>` block left in it is dropped.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

import httpx

from analyzers.llm.errors import LLMBadOutput, LLMUnavailable, RetryableError
from analyzers.llm.explainer import Explainer, Reply
from analyzers.llm.prompt import SCHEMA, Prompt
from analyzers.llm.settings import LLMSettings
from buildlens_core.errors import ConfigError
from buildlens_core.secrets import resolve

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class OpenAISettings(LLMSettings):
    prefixes = ("LLM_", "OPENAI_")

    openai_base_url: str = ""  # up to and including /v1, e.g. https://buildlens-llm-...run.app/v1
    openai_model: str = ""  # the served model name
    openai_api_key: str = ""  # a key, or an sm:// Secret Manager reference; empty: no key
    openai_key_header: Literal["x-api-key", "bearer"] = "x-api-key"
    openai_json_schema: bool = True  # send response_format with the schema
    openai_system_role: bool = False  # R1 models want everything in the user message


class OpenAICompatAnalyzer(Explainer):
    name: str = "openai"
    provider: str = "openai"

    def __init__(self, settings: OpenAISettings, transport: httpx.BaseTransport | None = None):
        if not settings.openai_base_url:
            raise ConfigError(
                "the openai analyzer needs OPENAI_BASE_URL (e.g. https://HOST/v1) and "
                "OPENAI_MODEL, or remove openai from ANALYZERS"
            )
        if not settings.openai_model:
            raise ConfigError(
                "the openai analyzer needs OPENAI_MODEL (the served model name, see GET "
                "/v1/models), or remove openai from ANALYZERS"
            )
        super().__init__(settings, settings.openai_model)
        self.openai = settings
        headers = {"Accept": "application/json"}
        key = resolve(settings.openai_api_key, "OPENAI_API_KEY") if settings.openai_api_key else ""
        if key:
            if settings.openai_key_header == "bearer":
                headers["Authorization"] = f"Bearer {key}"
            else:
                headers["X-API-Key"] = key
        self._url = settings.openai_base_url.rstrip("/") + "/chat/completions"
        self._client = httpx.Client(headers=headers, transport=transport, follow_redirects=False)
        self._schema_ok = settings.openai_json_schema
        self._lock = threading.Lock()

    def request_body(self, prompt: Prompt, schema: bool) -> dict[str, Any]:
        if self.openai.openai_system_role:
            messages = [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ]
        else:
            messages = [{"role": "user", "content": prompt.text}]
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.settings.llm_max_output_tokens,
            "temperature": self.settings.llm_temperature,
            "stream": False,
        }
        if schema:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "build_failure_explanation", "schema": SCHEMA},
            }
        return body

    def _call(self, prompt: Prompt, timeout_s: float) -> Reply:
        with self._lock:
            schema = self._schema_ok
        response = self._post(self.request_body(prompt, schema), timeout_s)
        if response.status_code == 400 and schema and _rejects_schema(response):
            # The server does not do structured output: ask plainly, parse tolerantly.
            with self._lock:
                self._schema_ok = False
            response = self._post(self.request_body(prompt, False), timeout_s)
        return self._reply(response)

    def _post(self, body: dict[str, Any], timeout_s: float) -> httpx.Response:
        try:
            return self._client.post(self._url, json=body, timeout=timeout_s)
        except httpx.TimeoutException:
            raise RetryableError(f"timed out after {timeout_s:.0f} s") from None
        except httpx.TransportError as exc:
            raise RetryableError(f"connection failed ({exc.__class__.__name__})") from None

    def _reply(self, response: httpx.Response) -> Reply:
        status = response.status_code
        if status in RETRYABLE_STATUS:
            raise RetryableError(f"HTTP {status}", _retry_after(response))
        if status >= 400:
            hint = ""
            if status in (401, 403):
                hint = "; check OPENAI_API_KEY and OPENAI_KEY_HEADER"
            elif status == 404:
                hint = "; check OPENAI_BASE_URL (it ends with /v1) and OPENAI_MODEL"
            raise LLMUnavailable(f"{self.name}: HTTP {status}: {_error_text(response)}{hint}")
        try:
            payload = response.json()
        except ValueError:
            raise LLMBadOutput(f"{self.name}: the server's reply was not JSON") from None
        if not isinstance(payload, dict):
            raise LLMBadOutput(f"{self.name}: the server's reply was not a JSON object")
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise LLMBadOutput(f"{self.name}: the reply had no choices")
        choice = choices[0]
        message = choice.get("message")
        if not isinstance(message, dict):
            message = {}
        content = message.get("content")  # never `reasoning` / `reasoning_content`
        finish = str(choice.get("finish_reason") or "")
        if not isinstance(content, str) or not content.strip():
            raise LLMBadOutput(
                f"{self.name}: the answer had no content (finish reason {finish or 'none'}; "
                "a reasoning model may have spent LLM_MAX_OUTPUT_TOKENS thinking)"
            )
        usage = payload.get("usage")
        if not isinstance(usage, dict):
            usage = {}
        return Reply(
            content,
            _int(usage.get("prompt_tokens")),
            _int(usage.get("completion_tokens")),
            finish,
        )


def _rejects_schema(response: httpx.Response) -> bool:
    text = response.text.lower()
    return any(w in text for w in ("response_format", "json_schema", "guided", "structured"))


def _error_text(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200]
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return " ".join(str(error.get("message", "")).split())[:200]
    if isinstance(error, str):
        return error[:200]
    detail = payload.get("detail") if isinstance(payload, dict) else None
    return " ".join(str(detail or payload).split())[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def create(settings: Settings) -> OpenAICompatAnalyzer:
    """Registry factory: reads the OPENAI_* and LLM_* variables (see OpenAISettings)."""
    return OpenAICompatAnalyzer(settings.section(OpenAISettings))
