"""A Slack incoming webhook that checks messages against Block Kit's documented limits.

Like Slack, it answers 400 `invalid_blocks` when a message breaks a limit, and 200 `ok`.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.http import RecordingServer, Request, Response

# Block Kit reference limits (docs.slack.dev/reference/block-kit).
MAX_BLOCKS = 50
HEADER_TEXT = 150
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_URL = 3000
ACTION_ID = 255
BLOCK_ID = 255
# Not a documented number: Slack refuses messages whose blocks hold ~13k characters in all
# (`msg_blocks_too_long`, slackapi/bolt-js#2509); the sink promises 12000.
TOTAL_TEXT = 12000
TEXT_FALLBACK = 40000


def _text_len(obj: dict[str, Any] | None) -> int:
    return len(obj["text"]) if obj else 0


def slack_problems(message: Any) -> list[str]:
    """Every limit the message breaks (empty: Slack would accept it)."""
    problems: list[str] = []
    if not isinstance(message, dict):
        return ["message is not an object"]
    blocks = message.get("blocks", [])
    if not isinstance(message.get("text", ""), str) or not (message.get("text") or blocks):
        problems.append("no text and no blocks")
    if len(message.get("text", "")) > TEXT_FALLBACK:
        problems.append("text longer than 40000")
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks > {MAX_BLOCKS}")
    total = 0
    for i, block in enumerate(blocks):
        kind = block.get("type")
        where = f"blocks[{i}] ({kind})"
        if len(block.get("block_id", "")) > BLOCK_ID:
            problems.append(f"{where}: block_id too long")
        if kind == "header":
            text = block["text"]
            if text.get("type") != "plain_text":
                problems.append(f"{where}: header text must be plain_text")
            if not 1 <= len(text["text"]) <= HEADER_TEXT:
                problems.append(f"{where}: header text {len(text['text'])} > {HEADER_TEXT}")
            total += _text_len(text)
        elif kind == "section":
            text = block.get("text")
            fields = block.get("fields", [])
            if text is None and not fields:
                problems.append(f"{where}: section needs text or fields")
            if text is not None:
                if text.get("type") not in ("mrkdwn", "plain_text"):
                    problems.append(f"{where}: bad text type")
                if not 1 <= len(text["text"]) <= SECTION_TEXT:
                    problems.append(f"{where}: text {len(text['text'])} > {SECTION_TEXT}")
                total += _text_len(text)
            if len(fields) > SECTION_FIELDS:
                problems.append(f"{where}: {len(fields)} fields > {SECTION_FIELDS}")
            for j, field in enumerate(fields):
                if not 1 <= len(field["text"]) <= FIELD_TEXT:
                    problems.append(f"{where}.fields[{j}]: {len(field['text'])} > {FIELD_TEXT}")
                total += _text_len(field)
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= CONTEXT_ELEMENTS:
                problems.append(f"{where}: {len(elements)} elements")
            for element in elements:
                if len(element.get("text", "")) > CONTEXT_TEXT:
                    problems.append(f"{where}: element text too long")
                total += len(element.get("text", ""))
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= ACTIONS_ELEMENTS:
                problems.append(f"{where}: {len(elements)} elements")
            for element in elements:
                if element.get("type") != "button":
                    continue
                if not 1 <= len(element["text"]["text"]) <= BUTTON_TEXT:
                    problems.append(f"{where}: button text too long")
                if len(element.get("url", "")) > BUTTON_URL:
                    problems.append(f"{where}: button url too long")
                if len(element.get("action_id", "")) > ACTION_ID:
                    problems.append(f"{where}: action_id too long")
        elif kind != "divider":
            problems.append(f"{where}: unexpected block type")
    if total > TOTAL_TEXT:
        problems.append(f"blocks hold {total} characters > {TOTAL_TEXT}")
    return problems


def mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn string of the message, with the fallback text."""
    texts = [message.get("text", "")]
    for block in message.get("blocks", []):
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                texts.append(obj["text"])
    return texts


class FakeSlack(RecordingServer):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[list[str]] = []

    def respond(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.startswith("/services/"):
            return Response(404, b"no_service", {"Content-Type": "text/plain"})
        try:
            message = json.loads(request.body)
        except ValueError:
            return Response(400, b"invalid_payload", {"Content-Type": "text/plain"})
        problems = slack_problems(message)
        self.problems.append(problems)
        if problems:
            return Response(400, b"invalid_blocks", {"Content-Type": "text/plain"})
        return Response(200, b"ok", {"Content-Type": "text/plain"})

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests if r.method == "POST"]
