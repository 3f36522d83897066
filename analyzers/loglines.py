"""A cleaned log line, and the markers CI systems put around a command's output."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Where the failing part of a log ends: the CI system's own "this command failed" line.
TERMINAL = re.compile(
    r'^(?:The command ".{0,2000}" (?:failed and )?exited with [1-9]\d*'
    r'|ERROR: build step (?:\d+ )?".{0,500}" failed'
    r"|(?:##\[error\]|Error: )?Process completed with exit code [1-9]"
    r"|ERROR: Job failed|ERROR: script returned exit code [1-9]|Finished: FAILURE"
    r"|Build step '.{0,200}' marked build as failure)"
)
# Cloud Build's own line naming the step that failed, e.g.
# ERROR: build step 1 "python:3.12" failed: step exited with non-zero status: 2
STARTED = re.compile(r"^Starting Step #(\d+)")
BUILD_STEP_ERROR = re.compile(r'^ERROR: build step (\d+) "([^"]{0,500})" failed: ?(.{0,2000})$')
SECTION_START = re.compile(r"^(?:\$ |##\[group\]Run |::group::Run |\[Pipeline\] (?:sh|bat)\b)")
TAG = re.compile(r"^(?:\[[A-Za-z]{2,8}\]|npm ERR!|npm error|ERR!|=(?=\s)|E(?=\s{2}|$))")


@dataclass(slots=True)
class Line:
    """One log line: its number, raw and cleaned text, Cloud Build step, and its score."""

    number: int
    raw: str
    text: str
    step: int | None
    score: float = 0.0
    trailer: bool = False  # only says that a command failed (npm's lifecycle report)
    vertex: int | None = None  # BuildKit's `#N`: which instruction printed the line


def indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def split_tag(text: str) -> tuple[str, str]:
    """`[info]   at x` -> ("[info]", "  at x"): the tag a tool puts before each line."""
    match = TAG.match(text)
    if match is None:
        return "", text
    return match.group(0), text[match.end() :].removeprefix(" ")


def same_tag(lines: list[Line], i: int, tag: str) -> bool:
    text = lines[i].text
    if not text:
        # Blank lines inside a tagged run (Travis writes `\\r\\r\\n`) stay transparent.
        return 0 < i < len(lines) - 1 and split_tag(lines[i + 1].text)[0] == tag
    return split_tag(text)[0] == tag


def trim(lines: list[Line], lo: int, hi: int) -> tuple[int, int]:
    while lo < hi and not lines[lo].text:
        lo += 1
    while hi > lo and not lines[hi].text:
        hi -= 1
    return lo, hi


def next_text(lines: list[Line], i: int, blanks: int) -> int | None:
    """Index of the first non-blank line from `i`, skipping at most `blanks` blank lines."""
    for j in range(i, min(len(lines), i + blanks + 1)):
        if lines[j].text:
            return j
    return None


def prev_text(lines: list[Line], i: int, blanks: int = 5) -> int | None:
    """Index of the last non-blank line before `i`, skipping at most `blanks` blank lines."""
    for j in range(i - 1, max(-1, i - blanks - 2), -1):
        if lines[j].text:
            return j
    return None
