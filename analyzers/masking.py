"""Masking: a log line with what changes from run to run replaced by placeholders.

Numbers, hex ids, UUIDs, timestamps, temporary and workspace paths, durations and addresses
are masked; what names a failure (test names, file names, messages) is kept. Fingerprints
hash masked key lines; passing-build signatures remember masked lines.
"""

from __future__ import annotations

import re

_MAX_CHARS = 400

# Order matters: wider shapes first, so that a timestamp is not masked as three numbers.
_UUID = r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
_STAMP = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?"
_TEMP = (
    r"(?:/tmp|/var/tmp|/private/var/folders|/var/folders"
    r"|C:\\Users\\[^\\\s]{1,64}\\AppData\\Local\\Temp)(?:[/\\][\w.@+-]{1,200}){0,30}"
)
_WORKSPACE = r"/(?:home|Users)/[\w.-]{1,64}/(?:build|work|workspace|builds)/(?:[\w.-]{1,200}/){0,2}"
_DURATION = r"\b\d+(?:\.\d+)?\s?(?:ms|msec|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)\b"
# (pattern, replacement, substrings one of which a match needs, needs a digit): a pass
# whose needs are absent cannot match, so it is skipped (masking is on every passing line).
_MASKS: tuple[tuple[re.Pattern[str], str, tuple[str, ...], bool], ...] = (
    (re.compile(_UUID), "<uuid>", ("-",), False),
    (re.compile(_STAMP), "<time>", (":",), True),
    (re.compile(r"\b\d\d:\d\d:\d\d(?:[.,]\d{1,9})?\b"), "<time>", (":",), True),
    (re.compile(_TEMP), "<tmp>", ("/tmp", "/var/", "Temp"), False),  # noqa: S108 - a pattern
    (re.compile(_WORKSPACE), "<ws>/", ("/home/", "/Users/"), False),
    (
        re.compile(r"/workspace/|/builds/[\w.-]{1,200}/[\w.-]{1,200}/"),
        "<ws>/",
        ("/workspace/", "/builds/"),
        False,
    ),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<addr>", ("0x",), True),
    (
        re.compile(r"\b(?=[0-9a-f]{0,63}[a-f])(?=[0-9a-f]{0,63}\d)[0-9a-f]{7,64}\b"),
        "<hex>",
        (),
        True,
    ),
    (re.compile(_DURATION), "<dur>", (), True),
    (re.compile(r"\d+"), "<n>", (), True),
    (re.compile(r"[ \t]+"), " ", ("  ", "\t"), False),
)
_HAS_DIGIT = re.compile(r"\d").search


def normalize(line: str) -> str:
    """The line with what changes from run to run masked (the fingerprint's and the
    passing-build signature's form of a line)."""
    text = line[:_MAX_CHARS]
    digits = _HAS_DIGIT(text) is not None  # replacements add none
    for pattern, repl, needles, needs_digit in _MASKS:
        if needs_digit and not digits:
            continue
        if needles:
            for needle in needles:
                if needle in text:
                    break
            else:
                continue
        text = pattern.sub(repl, text)
    return text.strip()
