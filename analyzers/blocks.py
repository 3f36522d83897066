"""Blocks: an anchor line grown into the whole statement it belongs to (traceback, failure
block, tagged run, diagnostic with its source context), and a section's last output."""

from __future__ import annotations

import re

from analyzers.base import LineRange, merge_ranges
from analyzers.loglines import (
    SECTION_START,
    TERMINAL,
    Line,
    indent,
    next_text,
    same_tag,
    split_tag,
    trim,
)
from analyzers.reports import (
    GO_FAIL,
    GO_PARENT,
    PHPT_FAIL,
    TAP_DIAGNOSTIC,
    TAP_DUBIOUS,
    diff_start,
    go_failed_subtest,
    go_run_output,
    phpt_block,
    tap_block,
    tap_diagnostics,
)
from analyzers.scoring import is_exception
from analyzers.vocabulary import (
    CARET,
    CHAIN,
    CI_MARKER,
    COMMAND,
    ERROR_TAGS,
    FRAME,
    GCLOUD_ERROR,
    HEADER_END,
    HELP,
    INTRO,
    INTRO_STOP,
    LAST_OUTPUT_LINES,
    LIST_ITEM,
    MAX_BLOCK_LINES,
    MAX_INTRO_LINES,
    MAX_KEY_LINES,
    PARAGRAPH_SCORE,
    PASS,
    PY_LOCATION,
    SEPARATOR,
    SOURCE_LOCATION,
    SUMMARY,
)
from analyzers.wrappers import STRUCTURE


def last_output(lines: list[Line], s_lo: int, s_hi: int) -> tuple[int, int]:
    """The last paragraph of a section's output, above its exit line and trailers."""
    i = s_hi - 1 if TERMINAL.match(lines[s_hi].text) else s_hi
    while i > s_lo and (
        not lines[i].text
        or lines[i].trailer
        or STRUCTURE.search(lines[i].text)
        or SUMMARY.search(lines[i].text)
        or CI_MARKER.match(lines[i].text)
    ):
        i -= 1
    if i <= s_lo and SECTION_START.match(lines[s_lo].text):
        return s_hi, s_hi  # no output at all: the exit line is all there is
    hi = i
    double = double_spaced(lines, hi)
    lo = hi
    gap = 0
    bounded = False
    while i > s_lo and hi - i < MAX_KEY_LINES:
        if not lines[i].text:
            gap += 1
            if gap >= (2 if double else 1):
                bounded = True
                break
        elif COMMAND.match(lines[i].text):
            bounded = True
            break
        else:
            gap = 0
            lo = i
        i -= 1
    if i == s_lo:
        bounded = True  # the command's whole output
        if lines[s_lo].text and not SECTION_START.match(lines[s_lo].text):
            lo = s_lo
    if not bounded:
        # No start in sight: a long stream of progress output, of which the end matters.
        lo = max(lo, hi - LAST_OUTPUT_LINES + 1)
    return diff_start(lines, lo, max(s_lo, hi - MAX_KEY_LINES)), hi


def _continues(body: str, base_indent: int) -> bool:
    """Does this line belong to the block above it (a frame, detail, caret or source line)?"""
    if not body:
        return False
    if FRAME.match(body):
        return True
    return indent(body) > base_indent


def double_spaced(lines: list[Line], a: int) -> bool:
    """Travis logs often hold `\\r\\r\\n`: every other line is blank there."""
    window = lines[max(0, a - 12) : a + 12]
    blanks = sum(1 for line in window if not line.text)
    return blanks * 5 >= len(window) * 2


def expand(lines: list[Line], a: int) -> tuple[int, int]:
    """The whole block around anchor `a`: traceback, failure block or tagged run of lines."""
    n = len(lines)
    anchor = lines[a].text
    if INTRO.match(anchor):
        return _intro_block(lines, a)
    tag, body = split_tag(anchor)
    lo = hi = a
    if tag in ERROR_TAGS:
        # A run of lines carrying the same error tag (`[error]`, `npm ERR!`, pytest's `E`).
        while lo > 0 and a - lo < MAX_BLOCK_LINES and same_tag(lines, lo - 1, tag):
            lo -= 1
        while hi + 1 < n and hi - a < MAX_BLOCK_LINES and same_tag(lines, hi + 1, tag):
            if HELP.match(split_tag(lines[hi + 1].text)[1]):
                break
            if lines[hi + 1].trailer and not lines[a].trailer:
                break  # npm's log pointer after the error it closes
            hi += 1
        if tag == "E":
            lo, hi = _separated_block(lines, lo, hi)
        return trim(lines, lo, hi)
    if TAP_DUBIOUS.search(anchor):
        return tap_block(lines, a)
    if TAP_DIAGNOSTIC.match(anchor):
        return tap_diagnostics(lines, a)
    if PHPT_FAIL.match(anchor):
        return phpt_block(lines, a)
    if GO_FAIL.match(anchor):
        sub = go_failed_subtest(lines, a) if GO_PARENT.match(anchor) else None
        if sub is not None:
            return expand(lines, sub)
        found = go_run_output(lines, a)
        if found is not None:
            return found
    if PY_LOCATION.match(anchor):
        lo, hi = _separated_block(lines, lo, hi)
        return trim(lines, lo, hi)
    base = indent(body)
    if body.startswith("Traceback"):
        pass
    elif base == 0 and is_exception(body):
        lo = _up_traceback(lines, a, tag)
    else:
        lo = _up_block(lines, a, base, tag)
    top_body = split_tag(lines[lo].text)[1]
    top_indent = indent(top_body) if top_body else base
    paragraph = bool(
        GCLOUD_ERROR.match(body)  # gcloud prints its message over several lines
        or HEADER_END.search(body)
        or is_exception(body)
        or lo < a
        or lines[a].score >= PARAGRAPH_SCORE
    )
    double = double_spaced(lines, a)
    i = a + 1
    frames = 0
    while i < n and i - a <= MAX_BLOCK_LINES:
        text = lines[i].text
        if not text:
            j = i + 1
            while j < n and not lines[j].text and j - i < 3:
                j += 1
            gap = j - i
            if j < n and not TERMINAL.match(lines[j].text):
                t2, b2 = split_tag(lines[j].text)
                if t2 == tag and (
                    _continues(b2, top_indent) or (paragraph and double and gap == 1)
                ):
                    i = j
                    continue
            break
        t2, b2 = split_tag(text)
        if t2 != tag or TERMINAL.match(text) or SEPARATOR.match(text):
            break
        if lines[i].trailer or STRUCTURE.search(text):
            break  # a runner's wrapper or marker ends the statement it follows
        if PASS.match(b2) or HELP.match(b2):
            break
        if not (
            _continues(b2, top_indent)
            or is_exception(b2)
            or b2.startswith("Caused by")
            or (paragraph and not COMMAND.match(b2) and not SUMMARY.search(b2))
        ):
            break
        if b2.lstrip().startswith("at "):
            frames += 1
            if frames > 60:
                break
        hi = i
        i += 1
    if body.startswith("Traceback") or is_exception(body) or lo < a:
        hi = _chained(lines, hi)
    return trim(lines, lo, hi)


def _chained(lines: list[Line], hi: int) -> int:
    """Python prints a chain of exceptions as tracebacks joined by one sentence: one block."""
    for _ in range(5):
        j = next_text(lines, hi + 1, 3)
        if j is None or not CHAIN.match(lines[j].text):
            break
        k = next_text(lines, j + 1, 3)
        if k is None or not lines[k].text.startswith("Traceback"):
            break
        hi = expand(lines, k)[1]
    return hi


def _intro_block(lines: list[Line], a: int) -> tuple[int, int]:
    """The list under an intro line, up to the run's summary, the next step or a wide gap."""
    n = len(lines)
    double = double_spaced(lines, a)
    lo = a + 1
    while lo < n and not lines[lo].text and lo - a < 5:
        lo += 1
    if lo >= n:
        return a, a
    hi = lo
    blanks = 0
    i = lo
    intro_indent = indent(lines[a].text)
    while i < n and i - lo < MAX_INTRO_LINES:
        text = lines[i].text
        if not text:
            blanks += 1
            if blanks >= (5 if double else 3):
                break
            i += 1
            continue
        if INTRO_STOP.match(text) or TERMINAL.match(text) or SECTION_START.match(text):
            break
        if lines[i].trailer or STRUCTURE.search(text):
            break
        if (
            blanks >= (2 if double else 1)
            and indent(text) <= intro_indent
            and lines[i].score == 0
            and not LIST_ITEM.match(text)
        ):
            break  # past a gap, plain output at the intro's own level is not in the list
        blanks = 0
        hi = i
        i += 1
    return trim(lines, lo, hi)


def _separated_block(lines: list[Line], lo: int, hi: int) -> tuple[int, int]:
    """Widen to the `____ test_name ____` header above and the `file:line: Error` below."""
    for i in range(lo - 1, max(-1, lo - 80), -1):
        text = lines[i].text
        if SEPARATOR.match(text):
            if "_" in text:
                lo = i
            break
    for i in range(hi + 1, min(len(lines), hi + 12)):
        text = lines[i].text
        if text and re.match(r"^\S{1,300}:\d{1,7}: \w", text):
            hi = i
            break
    return lo, hi


def _up_traceback(lines: list[Line], a: int, tag: str) -> int:
    lo = a
    i = a - 1
    while i >= 0 and a - i <= MAX_BLOCK_LINES:
        t2, text = split_tag(lines[i].text)
        if t2 != tag and lines[i].text:
            break
        if text.startswith("Traceback"):
            return i
        if text and indent(text) == 0 and not FRAME.match(text):
            break
        if text:
            lo = i
        i -= 1
    if lo >= 2 and CARET.match(lines[lo].text) and lines[lo - 1].text:
        # Node's uncaught exception: `file:line`, the source line, a caret, then the error.
        lo -= 1
        if SOURCE_LOCATION.match(lines[lo - 1].text):
            lo -= 1
    return lo


def _up_block(lines: list[Line], a: int, base: int, tag: str) -> int:
    """Up over lines at least as indented as the anchor, then take the header above them."""
    lo = a
    i = a - 1
    while i >= 0 and a - i <= 30:
        raw_text = lines[i].text
        if not raw_text:
            i -= 1
            continue
        t2, text = split_tag(raw_text)
        if t2 != tag or TERMINAL.match(text) or SECTION_START.match(text) or PASS.match(text):
            break
        ind = indent(text)
        if base > 0 and ind >= base and not COMMAND.match(text) and not SUMMARY.search(text):
            lo = i
            i -= 1
            continue
        if ind < base and (
            lines[i].score > 0 or HEADER_END.search(text) or _looks_like_header(text)
        ):
            lo = i  # a less indented line right above an indented block is its header
        break
    return lo


def _looks_like_header(text: str) -> bool:
    return bool(re.match(r"^\s*(?:\d{1,4}\)|[-=_]{3,}|\S.{0,200}(?:test|Test|spec|Spec))", text))


def absorb_neighbours(lines: list[Line], lo: int, hi: int, best: float) -> tuple[int, int]:
    """Strong lines right next to the block (a second error, the header) join it."""
    grown = True
    while grown and hi - lo < MAX_KEY_LINES:
        grown = False
        for j in range(hi + 1, min(len(lines), hi + 4)):
            text = lines[j].text
            body = split_tag(text)[1]
            if HELP.match(body) or PASS.match(body):
                break
            if lines[j].score >= best * 0.5 and not (
                TERMINAL.match(text) or SUMMARY.search(text) or lines[j].trailer
            ):
                hi = max(j, expand(lines, j)[1])
                grown = True
                break
        for j in range(lo - 1, max(-1, lo - 4), -1):
            if PASS.match(split_tag(lines[j].text)[1]):
                break  # a passing test: what is above it is another test
            strong = lines[j].score >= best * 0.5
            if strong and not (INTRO.match(lines[j].text) or lines[j].trailer):
                lo = min(j, expand(lines, j)[0])
                grown = True
                break
    if hi - lo >= MAX_KEY_LINES:
        hi = lo + MAX_KEY_LINES - 1
    return lo, hi


def runner_ups(lines: list[Line], lo: int, hi: int, count: int = 6) -> list[LineRange]:
    order = sorted(
        (i for i, line in enumerate(lines) if line.score > 0 and not lo <= i <= hi),
        key=lambda i: -lines[i].score,
    )
    found: list[LineRange] = []
    for i in order:
        if any(r.start <= lines[i].number <= r.end for r in found):
            continue
        b_lo, b_hi = expand(lines, i)
        found.append(LineRange(lines[b_lo].number, lines[b_hi].number))
        if len(found) >= count:
            break
    return merge_ranges(found)[:count]
