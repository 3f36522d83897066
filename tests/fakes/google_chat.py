"""A Google Chat incoming webhook that checks card messages against the documented limits.

Answers 400 INVALID_ARGUMENT for a message that breaks one, else 200 with the message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.http import RecordingServer, Request, Response

# Chat API reference: message (text and cards) <= 32,000 bytes; a card <= 32 KB and at most
# 100 widgets (more are dropped silently); text <= 4096 characters.
MESSAGE_BYTES = 32000
CARD_BYTES = 32 * 1024
WIDGETS = 100
TEXT = 4096
# The card HTML subset (developers.google.com/workspace/chat/format-messages).
ALLOWED_TAGS = {"b", "i", "u", "s", "strike", "font", "a", "br", "time"}
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_BARE_AMP = re.compile(r"&(?!(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)")


def _widget_texts(widget: dict[str, Any]) -> list[str]:
    texts = []
    for kind in ("textParagraph", "decoratedText"):
        if kind in widget:
            texts.append(widget[kind]["text"])
            if widget[kind].get("topLabel"):
                texts.append(widget[kind]["topLabel"])
    return texts


def card_texts(message: dict[str, Any]) -> list[str]:
    texts = []
    for card in message.get("cardsV2", []):
        for section in card["card"].get("sections", []):
            for widget in section.get("widgets", []):
                texts += _widget_texts(widget)
    return texts


def chat_problems(message: Any) -> list[str]:
    problems: list[str] = []
    if not isinstance(message, dict):
        return ["message is not an object"]
    size = len(json.dumps(message, ensure_ascii=False).encode())
    if size > MESSAGE_BYTES:
        problems.append(f"message is {size} bytes > {MESSAGE_BYTES}")
    if len(message.get("text", "")) > TEXT:
        problems.append("text longer than 4096")
    cards = message.get("cardsV2", [])
    if not cards and not message.get("text"):
        problems.append("no text and no cards")
    for i, card in enumerate(cards):
        if len(cards) > 1 and not card.get("cardId"):
            problems.append(f"cardsV2[{i}] needs a cardId")
        body = card.get("card", {})
        if len(json.dumps(body, ensure_ascii=False).encode()) > CARD_BYTES:
            problems.append(f"cardsV2[{i}] is larger than 32 KB")
        if not body.get("header", {}).get("title"):
            problems.append(f"cardsV2[{i}] has no header title")
        widgets = [w for s in body.get("sections", []) for w in s.get("widgets", [])]
        if len(widgets) > WIDGETS:
            problems.append(f"cardsV2[{i}] has {len(widgets)} widgets > {WIDGETS}")
        for section in body.get("sections", []):
            if not section.get("widgets"):
                problems.append(f"cardsV2[{i}] has a section without widgets")
        for widget in widgets:
            for button in widget.get("buttonList", {}).get("buttons", []):
                url = button["onClick"]["openLink"]["url"]
                if not url.startswith(("https://", "http://")):
                    problems.append(f"button url {url[:40]!r} is not http(s)")
            for text in _widget_texts(widget):
                for tag in _TAG.findall(text):
                    if tag.lower() not in ALLOWED_TAGS:
                        problems.append(f"tag <{tag}> is not in the card HTML subset")
                if _BARE_AMP.search(text):
                    problems.append("unescaped & in card text")
    return problems


class FakeGoogleChat(RecordingServer):
    def respond(self, request: Request) -> Response:
        if request.method != "POST" or not re.fullmatch(r"/v1/spaces/[^/]+/messages", request.path):
            return Response(404, b'{"error": {"code": 404, "status": "NOT_FOUND"}}')
        message = json.loads(request.body)
        problems = chat_problems(message)
        if problems:
            body = {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": problems[0]}}
            return Response(400, json.dumps(body).encode())
        return Response(200, json.dumps({"name": "spaces/S/messages/M1", **message}).encode())

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests if r.method == "POST"]
