"""What the LLM analyzers raise. The pipeline turns each into one line of the report.

Every failure of an LLM analyzer is raised (never swallowed): the pipeline records it as a
StageError, the report goes out without the LLM explanation, and the error's message is the
one line that says why (`gemini: no answer after 3 attempts within the 25 s deadline: ...`).
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class: the explanation is missing from this report, for the reason given."""


class LLMUnavailable(LLMError):
    """The provider did not answer usefully (HTTP errors, timeouts) within the deadline."""


class LLMBadOutput(LLMError):
    """The provider answered, but not with the JSON object asked for (or it was blocked)."""


class LLMSkipped(LLMError):
    """No call was made: the calls-per-hour budget is spent, or there is nothing to explain."""


class RetryableError(Exception):
    """Raised by a provider call for 429, 5xx, timeouts and connection errors."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
