"""Failure blocks shaped by one tool: test runners' reports (pytest, unittest, xcpretty) and
the way go test, prove, PHP's run-tests, npm and formatters print one failure."""

from __future__ import annotations

import re

from analyzers.loglines import (
    SECTION_START,
    TERMINAL,
    Line,
    indent,
    next_text,
    prev_text,
    same_tag,
    split_tag,
    trim,
)

MAX_REPORT_LINES = 150
REPORT_LOOKBACK = 5000
MAX_SUBTESTS = 2000

# Test runners' failure reports: pytest's banner and its test blocks; unittest's `FAIL:` blocks.
_PYTEST_REPORT = re.compile(r"^={3,} ?(?:FAILURES|ERRORS) ?={3,}$")
_PYTEST_END = re.compile(r"^(?:={3,} .{1,300} ={3,}|-{3,} coverage.{0,300})$")
_PYTEST_BLOCK = re.compile(r"^_{3,} .{1,300} _{3,}$|^-{3,} .{1,300} -{3,}$")
_UNITTEST_BLOCK = re.compile(r"^(?:FAIL|ERROR): \S")
_UNITTEST_END = re.compile(r"^Ran \d+ tests? in ")
_RULE = re.compile(r"^={20,}$")
_DASHES = re.compile(r"^-{20,}$")
_NPM_LIFECYCLE = re.compile(
    r"^(?:npm ERR!|npm error) (?:code ELIFECYCLE|Lifecycle script|Test failed\.  See above"
    r"|There is likely additional logging output above)"
)
_DIFF_LINE = re.compile(r"^(?:[ +@-]|diff |index |new file|deleted file|similarity|rename |\\ No)")
PHPT_FAIL = re.compile(r"^FAIL .{0,500}\[\S{1,300}\.phpt\]")
_XC_SUITE = re.compile(r"^[A-Za-z_][\w.]{0,300}$")
_XC_LOCATION = re.compile(r"^  \S{1,500}:\d{1,7}$")
GO_FAIL = re.compile(r"^\s*--- FAIL: \S+ \(")
_GO_EVENT = re.compile(r"^\s*(?:=== (?:RUN|CONT|PAUSE|NAME)|--- (?:PASS|FAIL|SKIP):)")
GO_PARENT = re.compile(r"^--- FAIL: \S+ \(")
_GO_SUBTEST_FAIL = re.compile(r"^\s+--- FAIL: ")
TAP_DUBIOUS = re.compile(r"Dubious, test returned [1-9]")
_TAP_FAILED = re.compile(r"^Failed \d+/\d+ subtests")
# Test::More's diagnostic of a failed test: `#   Failed test 'name'` then `#   at t/x.t line 4.`
TAP_DIAGNOSTIC = re.compile(r"^#\s+Failed test\b")
_TAP_COMMENT = re.compile(r"^#(?:\s|$)")


def diff_start(lines: list[Line], lo: int, limit: int) -> int:
    """A formatter's or a check's diff (`gofmt -d`, `ruff format --diff`, `git diff
    --exit-code`) is shown from its first file header when it ends right above `lo`."""
    top = lo
    for i in range(lo - 1, limit - 1, -1):
        text = lines[i].text
        if text and not _DIFF_LINE.match(text):
            break
        if text.startswith(("diff --git ", "diff -u ")) or (
            text.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].text.startswith("+++ ")
        ):
            top = i
    return top


def mark_npm_lifecycle(lines: list[Line]) -> None:
    """npm's report that a script failed (`code ELIFECYCLE`, `Lifecycle script ... failed`)
    names the script, not the cause: that is the script's own output above it."""
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if not (line.score > 0 and _NPM_LIFECYCLE.match(line.text)):
            i += 1
            continue
        tag = split_tag(line.text)[0]
        lo = hi = i
        while lo > 0 and same_tag(lines, lo - 1, tag):
            lo -= 1
        while hi + 1 < n and same_tag(lines, hi + 1, tag):
            hi += 1
        for j in range(lo, hi + 1):
            lines[j].score = min(lines[j].score, 1.0)
            lines[j].trailer = True
        i = hi + 1


def report(lines: list[Line], s_lo: int, s_hi: int) -> tuple[int, int] | None:
    """The first test-runner failure report in lines `s_lo..s_hi`, as its first blocks."""
    for i in range(s_lo, s_hi):
        text = lines[i].text
        if not (text.startswith("===") or "```" in text):
            continue  # neither a banner nor a fence: the common case, kept cheap
        found = _report_at(lines, i, s_hi) or _xcpretty_at(lines, i, s_hi)
        if found:
            return found[0], found[1]
    return None


def _xcpretty_at(lines: list[Line], i: int, s_hi: int) -> tuple[int, int, int] | None:
    """xcpretty's summary, if the code fence at line `i` opens its first entry: the suite,
    each failed test with its message, `file:line` and the code around it."""
    if lines[i].text.strip() != "```":
        return None
    loc = prev_text(lines, i)
    test = prev_text(lines, loc) if loc is not None else None
    suite = prev_text(lines, test) if test is not None else None
    if (
        suite is None
        or loc is None
        or test is None
        or not _XC_LOCATION.match(lines[loc].text)
        or not lines[test].text.startswith("  ")
        or not _XC_SUITE.match(lines[suite].text)
    ):
        return None
    cut = j = i
    fenced = True
    while j + 1 <= s_hi and j + 1 - suite < MAX_REPORT_LINES:
        j += 1
        text = lines[j].text
        if text.strip() == "```":
            fenced = not fenced
            cut = j
        elif text and not fenced and not text.startswith("  ") and not _XC_SUITE.match(text):
            break
    return suite, cut, j


def report_around(lines: list[Line], a: int, hi: int) -> tuple[int, int] | None:
    """The failure report that line `a` is part of, or that comes right after its block
    (ending at `hi`): a verbose runner lists `test ... FAIL` first, then reports."""
    j = next_text(lines, hi + 1, 3)
    found = _report_at(lines, j, len(lines) - 1) if j is not None else None
    if found:
        return found[0], found[1]
    for i in range(a, max(-1, a - REPORT_LOOKBACK), -1):
        if SECTION_START.match(lines[i].text):
            break
        found = _report_at(lines, i, len(lines) - 1)
        if found:
            return (found[0], found[1]) if found[2] >= a else None
    return None


def _report_at(lines: list[Line], i: int, s_hi: int) -> tuple[int, int, int] | None:
    """A report whose banner is line `i` (pytest's `== FAILURES ==`, unittest's first `FAIL:`
    block): its first whole blocks that fit, and where it ends. The runner itself says there
    what went wrong."""
    text = lines[i].text
    if not text.startswith("==="):
        return None
    if _PYTEST_REPORT.match(text):
        stop, block = _PYTEST_END, _PYTEST_BLOCK
    elif (
        i + 1 < len(lines)
        and _UNITTEST_BLOCK.match(lines[i + 1].text)
        and not lines[i + 1].trailer  # BuildKit's `ERROR: process ...` is no unittest block
        and _RULE.match(text)
    ):
        stop, block = _UNITTEST_END, _RULE
    else:
        return None
    lo = next_text(lines, i + 1, 3)
    if lo is None:
        return None
    hi = cut = lo  # `cut`: end of the last whole block that fits
    j = lo + 1
    while j <= s_hi:
        text = lines[j].text
        if stop.match(text) or TERMINAL.match(text):
            break
        if block.match(text) and j - lo <= MAX_REPORT_LINES:
            cut = hi
        if text:
            hi = j
        j += 1
    if j - lo <= MAX_REPORT_LINES:
        cut = hi
    if cut == lo:
        cut = min(hi, lo + MAX_REPORT_LINES - 1)  # one block longer than the limit: its start
    while cut > lo and (not lines[cut].text or _DASHES.match(lines[cut].text)):
        cut -= 1
    return lo, cut, j


def go_failed_subtest(lines: list[Line], a: int) -> int | None:
    """`go test` lists a parent's subtests under its `--- FAIL:`: the failed one says more."""
    for j in range(a + 1, min(len(lines), a + MAX_SUBTESTS)):
        text = lines[j].text
        if not text[:1].isspace():
            return None
        if _GO_SUBTEST_FAIL.match(text):
            return j
    return None


def go_run_output(lines: list[Line], a: int) -> tuple[int, int] | None:
    """Since go 1.14 a test's messages follow its `=== RUN   Name` line, not its `--- FAIL:`."""
    nxt = next_text(lines, a + 1, 0)
    if nxt is not None and indent(lines[nxt].text) > indent(lines[a].text):
        return None  # go 1.13 and older: the messages are nested under the result
    name = lines[a].text.split()[2]
    run = f"=== RUN   {name}"
    for r in range(a - 1, max(-1, a - MAX_SUBTESTS), -1):
        if lines[r].text.strip() != run:
            continue
        hi = r
        while hi + 1 < a and not _GO_EVENT.match(lines[hi + 1].text):
            hi += 1
        return (r, hi) if hi > r else None
    return None


def phpt_block(lines: list[Line], a: int) -> tuple[int, int]:
    """PHP's run-tests prints a failed test's output diff, then its `FAIL title [file.phpt]`."""
    if a > 0 and lines[a - 1].text == "========DONE========":
        for i in range(a - 2, max(-1, a - MAX_REPORT_LINES), -1):
            if lines[i].text == "========DIFF========":
                return trim(lines, i + 1, a)
    return a, a


def tap_diagnostics(lines: list[Line], a: int) -> tuple[int, int]:
    """A failed TAP test's diagnostics (`#   Failed test`, `#   at t/x.t line N.`, got and
    expected), with the failed tests after it up to `# Looks like you failed`, and prove's
    `t/x.t .. Dubious` verdict right below when there is one."""
    hi = a
    i = a + 1
    while i < len(lines) and i - a <= 200:
        text = lines[i].text
        if _TAP_COMMENT.match(text):
            hi = i
        elif text:
            break
        i += 1
    j = next_text(lines, hi + 1, 2)
    if j is not None and lines[j].text.rstrip().endswith(".."):
        k = next_text(lines, j + 1, 1)
        if k is not None and TAP_DUBIOUS.search(lines[k].text):
            hi = tap_block(lines, k)[1]
    return a, hi


def tap_block(lines: list[Line], a: int) -> tuple[int, int]:
    """prove's `t0001-name.sh .... Dubious, test returned 1` with its `Failed 1/5 subtests`;
    the test's name is on the line above when other output came in between."""
    lo = hi = a
    if a > 0 and TAP_DUBIOUS.match(lines[a].text) and lines[a - 1].text.rstrip().endswith(".."):
        lo = a - 1
    if a + 1 < len(lines) and _TAP_FAILED.match(lines[a + 1].text):
        hi = a + 1
    return lo, hi
