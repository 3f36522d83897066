"""Noise removal: what a line says once terminal codes and CI decoration are gone.

Every pattern here is linear (no nested quantifiers) and lines are capped before matching,
so adversarial input cannot make cleaning slow.
"""

from __future__ import annotations

import re

MAX_CLEAN_CHARS = 2000

# CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks), two-byte escapes.
_ANSI = re.compile(
    r"\x1b\[[0-?]{0,32}[ -/]{0,4}[@-~]|\x1b\][^\x07\x1b]{0,512}(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]"
)
# Escape codes whose ESC byte was lost on the way (copied logs): `[31m`, `[0m`.
_BARE_SGR = re.compile(r"\[(?:\d{1,3}(?:;\d{1,3}){0,8})?m")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# Decoration that CI systems put in front of each line.
_PREFIXES = re.compile(
    r"^(?:"
    r'Step #\d{1,4}(?: - "[^"]{0,200}")?: ?'  # Cloud Build GCS log
    r"|#\d{1,4} (?:\d{1,6}\.\d{1,4} )?"  # BuildKit's plain progress: `#8 12.345 output`
    r"|\[(?:analyzer|detector|restorer|builder|exporter|creator|extender)\] ?"  # pack's phases
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)? ?"  # ISO stamp
    r"|\[\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?\] ?"
    r"|\[?\d\d:\d\d:\d\d(?:[.,]\d{1,9})?\]? "  # [12:00:01] or 12:00:01.123
    r"|\[Pipeline\] "  # Jenkins
    r"|[│┃] ?"  # box drawn around a message (terraform)
    r"){1,3}"
)
# Whole lines that carry no message: Travis fold/timer markers, GitHub Actions grouping.
_MARKER = re.compile(
    r"^(?:[╷╵]|travis_(?:fold|time):[a-z]+:\S{0,200}\s*|##\[(?:endgroup|group)\].{0,200}|::(?:end)?group::.{0,200})$"
)
_GLUED_MARKER = re.compile(r"travis_(?:fold|time):[a-z]+:[\w.:,=]{0,200}")


def strip_ansi(text: str) -> str:
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "[" in text and "m" in text:
        text = _BARE_SGR.sub("", text)
    return text


def clean(text: str) -> str:
    """The message of a raw log line: no escape codes, CI prefixes, timestamps or markers."""
    text = strip_ansi(text[:MAX_CLEAN_CHARS])
    if not text.isprintable():  # every control character is unprintable (a fast check)
        text = _CONTROL.sub("", text)
    prefix = _PREFIXES.match(text)
    if prefix:
        text = text[prefix.end() :]
    if _MARKER.match(text):
        return ""
    if "travis_time:" in text or "travis_fold:" in text:
        # Timer markers glued to the start of a real line (`travis_time:end:...\x1b[0K$ make`).
        text = _GLUED_MARKER.sub("", text)
    return text.rstrip()
