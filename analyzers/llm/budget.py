"""Bounds on what an LLM call may cost: input tokens, calls per hour, and time.

- `estimate_tokens`: a local, provider-independent estimate (characters / chars-per-token).
- `trim_lines`: fits the excerpt into the input budget by keeping the key lines first, then
  the lines nearest them, then the last lines; over-long lines are shortened visibly. Nothing
  is ever cut blindly at a character offset of the prompt.
- `CallLimiter`: calls per hour per provider, shared through the StateStore when there is one.
- `Deadline`: the time left for the whole analyzer, retries included.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from buildlens_core.state import StateStore

MAX_LINE_CHARS = 400


def estimate_tokens(text: str, chars_per_token: float = 3.0) -> int:
    """A conservative token estimate: logs tokenize worse than prose, so err high."""
    return math.ceil(len(text) / chars_per_token) if text else 0


@dataclass(frozen=True, slots=True)
class NumberedLine:
    number: int
    text: str
    key: bool = False


def shorten(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """A long line's head, with a visible note of what was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def render_line(line: NumberedLine) -> str:
    """`>   123 | text` for a key line, `    124 | text` for context."""
    return f"{'>' if line.key else ' '}{line.number:>6} | {line.text}"


def trim_lines(
    lines: Sequence[NumberedLine],
    max_tokens: int,
    chars_per_token: float = 3.0,
    max_line_chars: int = MAX_LINE_CHARS,
) -> tuple[list[NumberedLine], int]:
    """The lines to send, in log order, and how many were left out.

    Priority: key lines; then lines by distance to the nearest key line (the line after
    before the line before: errors are usually followed by their details); then, when there
    are no key lines, the last lines first (the failing command's last words).
    """
    shortened = [NumberedLine(ln.number, shorten(ln.text, max_line_chars), ln.key) for ln in lines]
    keys = [ln.number for ln in shortened if ln.key]

    def priority(line: NumberedLine) -> tuple[int, int, int]:
        if line.key:
            return (0, 0, line.number)
        if keys:
            distance = min(abs(line.number - k) for k in keys)
            after = 0 if any(k < line.number for k in keys if line.number - k == distance) else 1
            return (1, distance * 2 + after, line.number)
        return (2, 0, -line.number)

    chosen: list[NumberedLine] = []
    spent = 0
    for line in sorted(shortened, key=priority):
        cost = estimate_tokens(render_line(line) + "\n", chars_per_token)
        if spent + cost > max_tokens:
            if chosen:
                continue  # a shorter line further down the priority list may still fit
            # Not even the first line fits: send as much of it as the budget allows.
            room = max(16, int(max_tokens * chars_per_token) - 16)
            line = NumberedLine(line.number, shorten(line.text, room), line.key)
            cost = estimate_tokens(render_line(line) + "\n", chars_per_token)
        chosen.append(line)
        spent += cost
    chosen.sort(key=lambda ln: ln.number)
    return chosen, len(lines) - len(chosen)


def render_excerpt(lines: Iterable[NumberedLine]) -> str:
    """Numbered lines, with `...` where lines were skipped."""
    out: list[str] = []
    previous: int | None = None
    for line in lines:
        if previous is not None and line.number != previous + 1:
            out.append("   ...")
        out.append(render_line(line))
        previous = line.number
    return "\n".join(out)


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


class CallLimiter:
    """At most `per_hour` calls in any clock hour, per provider.

    With a StateStore the count is shared by every instance of the function (one document
    per provider and hour); without one it is this process's own sliding window.
    """

    def __init__(self, provider: str, per_hour: int) -> None:
        self.provider = provider
        self.per_hour = per_hour
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def try_acquire(self, state: StateStore | None) -> bool:
        if self.per_hour <= 0:
            return False
        if state is not None:
            return self._acquire_shared(state)
        now = time.monotonic()
        with self._lock:
            while self._calls and now - self._calls[0] >= 3600:
                self._calls.popleft()
            if len(self._calls) >= self.per_hour:
                return False
            self._calls.append(now)
            return True

    def _acquire_shared(self, state: StateStore) -> bool:
        hour = int(time.time() // 3600)
        key = f"llm-calls/{self.provider}/{hour}"
        granted = False

        def change(doc: dict[str, Any] | None) -> dict[str, Any]:
            nonlocal granted
            count = int((doc or {}).get("count", 0))
            granted = count < self.per_hour
            return {"count": count + 1 if granted else count}

        state.update(key, change, ttl_s=7200)
        return granted
