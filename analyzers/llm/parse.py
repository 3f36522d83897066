"""Tolerant parsing of the model's answer into an explanation.

Reasoning models think first: any `<think>...</think>` block (or an unopened `</think>`, when
the chat template opened it) is dropped. The JSON object is taken whole, from a code fence,
or as the first balanced `{...}` in the text. Field types are coerced where the meaning is
clear; cited lines outside the excerpt are dropped and reported. The text is made plain:
control characters removed, whitespace collapsed, links defanged, mentions neutralised and
anything secret-shaped redacted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from analyzers.llm.errors import LLMBadOutput
from buildlens_core.redact import Redactor

MAX_SUMMARY = 700
MAX_ROOT_CAUSE = 400
MAX_STEP = 240
MAX_STEPS = 6
MAX_CITED = 50

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_THINK_CLOSE = "</think>"
_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)
# Lone surrogates too: `json.loads` lets them through and no sink could encode them.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SPACE = re.compile(r"\s+")
_SCHEME = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]{1,15})://")
_SLACK_SPECIAL = re.compile(r"<([!@#][^<>]{0,200})>")
_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_CONFIDENCE_WORDS = {"high": 0.8, "medium": 0.5, "moderate": 0.5, "low": 0.2}
_RANGE = re.compile(r"^\s*(\d{1,9})\s*(?:-|–|to)\s*(\d{1,9})\s*$")


@dataclass(frozen=True, slots=True)
class Explanation:
    summary: str
    root_cause: str
    fix_steps: tuple[str, ...]
    confidence: float
    cited_lines: tuple[int, ...]
    dropped_citations: tuple[int, ...]


def strip_reasoning(text: str) -> str:
    """The answer without `<think>` blocks (closed, or opened by the chat template)."""
    text = _THINK_BLOCK.sub("", text)
    if _THINK_CLOSE in text:
        text = text.rsplit(_THINK_CLOSE, 1)[1]
    head = text.lstrip()
    if head.lower().startswith("<think>"):
        return ""  # thinking that never ended: there is no answer
    return text


def find_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in `text`: the whole text, a fenced block, or the first `{...}`."""
    text = text.strip()
    candidates = [text]
    candidates += [m.group(1) for m in _FENCE.finditer(text)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    start = text.find("{")
    tries = 0
    while start >= 0 and tries < 20:
        tries += 1
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def plain(text: str, limit: int, redactor: Redactor) -> str:
    """One line of plain text, safe to render anywhere once escaped by the renderer."""
    text = _CONTROL.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    text = redactor.redact(text)
    text = _SLACK_SPECIAL.sub(r"\1", text)  # <!channel>, <@U123>, <#C1>: not Slack syntax
    text = _MENTION.sub(r"(at)\1", text)
    text = _SCHEME.sub(r"\1[:]//", text)  # links are defanged: hxxp-style, not clickable
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(str(v) for v in value if isinstance(v, str | int | float))
    if value is None:
        return ""
    return str(value)


def _as_steps(value: Any) -> list[str]:
    if isinstance(value, str):
        parts = [p for p in re.split(r"\n+|(?:^|\s)\d+[.)]\s", value) if p.strip()]
        return parts or [value]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, dict):
                item = item.get("step") or item.get("text") or item.get("description") or ""
            if isinstance(item, str | int | float) and str(item).strip():
                out.append(str(item))
        return out
    return []


def _as_confidence(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        word = value.strip().lower().rstrip("%")
        if word in _CONFIDENCE_WORDS:
            return _CONFIDENCE_WORDS[word]
        try:
            number = float(word)
        except ValueError:
            return 0.0
    else:
        return 0.0
    if number > 1:
        number /= 100  # a percentage
    return min(1.0, max(0.0, number))


def _as_lines(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    out: list[int] = []
    for item in items:
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            out.append(item)
        elif isinstance(item, float) and item.is_integer():
            out.append(int(item))
        elif isinstance(item, str):
            match = _RANGE.match(item)
            if match:
                lo, hi = int(match.group(1)), int(match.group(2))
                if 0 <= hi - lo <= MAX_CITED:
                    out.extend(range(lo, hi + 1))
            elif item.strip().isdigit():
                out.append(int(item.strip()))
        elif isinstance(item, list) and len(item) == 2 and all(isinstance(i, int) for i in item):
            lo, hi = item
            if 0 <= hi - lo <= MAX_CITED:
                out.extend(range(lo, hi + 1))
        if len(out) > MAX_CITED * 4:
            break
    return out


def parse_explanation(text: str, excerpt_lines: Collection[int], redactor: Redactor) -> Explanation:
    """Parse the model's answer; raise LLMBadOutput when there is no usable JSON object."""
    answer = strip_reasoning(text or "")
    if not answer.strip():
        raise LLMBadOutput("the answer was empty (only reasoning, or nothing)")
    obj = find_json_object(answer)
    if obj is None:
        raise LLMBadOutput(f"the answer was not the JSON object asked for ({len(answer)} chars)")
    summary = plain(_as_text(obj.get("summary")), MAX_SUMMARY, redactor)
    if not summary:
        raise LLMBadOutput("the answer's JSON had no summary")
    root_cause = plain(_as_text(obj.get("root_cause")), MAX_ROOT_CAUSE, redactor)
    steps = [plain(s, MAX_STEP, redactor) for s in _as_steps(obj.get("fix_steps"))]
    cited: list[int] = []
    dropped: list[int] = []
    for number in _as_lines(obj.get("cited_lines", obj.get("lines", []))):
        target = cited if number in excerpt_lines else dropped
        if number not in target:
            target.append(number)
    return Explanation(
        summary=summary,
        root_cause=root_cause,
        fix_steps=tuple(s for s in steps if s)[:MAX_STEPS],
        confidence=_as_confidence(obj.get("confidence")),
        cited_lines=tuple(sorted(cited))[:MAX_CITED],
        dropped_citations=tuple(sorted(dropped))[:MAX_CITED],
    )
