"""Key lines: the few lines that explain a failure, found without training.

Each line is cleaned (see `noise`), scored on its own (error vocabulary and the formats of
compilers, test runners, package managers and tracebacks), weighted by where it sits (inside
the failing section, near its end) and by how often it repeats, and the best anchor is then
expanded to the whole block it belongs to (traceback, failure block, diagnostic with its
source context).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzers.base import AnalysisContext, Finding, JSONValue, LineRange, merge_ranges
from analyzers.loglines import (
    BUILD_STEP_ERROR,
    SECTION_START,
    TERMINAL,
    Line,
    indent,
    next_text,
    same_tag,
    split_tag,
    trim,
)
from analyzers.noise import clean
from analyzers.reports import (
    GO_FAIL,
    GO_PARENT,
    PHPT_FAIL,
    TAP_DUBIOUS,
    diff_start,
    go_failed_subtest,
    go_run_output,
    mark_npm_lifecycle,
    phpt_block,
    report,
    report_around,
    tap_block,
)
from analyzers.wrappers import INSTRUCTION, STRUCTURE, WRAPPER
from notifier.buildlog import parse_step_prefix

if TYPE_CHECKING:
    from notifier.settings import Settings

MAX_SCORE_CHARS = 600  # scoring looks at the start of a line only: bounded regex cost
MAX_BLOCK_LINES = 100
MAX_KEY_LINES = 120
MAX_INTRO_LINES = 120
EARLY_SHARE = 1.0
EARLY_WINDOW = 300
WEAK_SECTION = 4.0
LAST_OUTPUT_LINES = 40
PARAGRAPH_SCORE = 12.0
FIRST_SHARE = 0.3

# Cheap pre-filter: a line without any of these words is never an anchor.
VOCABULARY = (
    "error", "fail", "fatal", "exception", "traceback", "panic", "abort", "denied", "refused",
    "not found", "cannot", "can't", "could not", "couldn't", "unable to", "undefined",
    "unresolved", "missing", "invalid", "segmentation", "killed", "timed out", "timeout",
    "exited with", "exit code", "exit status", "non-zero", "assert", "expected", "✖", "✗",
    "❌", "err!", "no such", "out of memory", "no space", "unauthorized", "forbidden", "quota",
    "violation", "mismatch", "unexpected", "not ok", "problem", "×", "must ", "doesn't",
    "does not", "not defined", "unknown", "conflict", "warning: ", "rejected", "broken",
    "illegal", "unrecognized", "unsupported", "not allowed", "offense", "** (", "exceeded",
    "issues", "[-] ", "dubious",
)  # fmt: skip
_VOCAB = re.compile("|".join(re.escape(w) for w in VOCABULARY))

_W = re.compile  # short alias keeps the table readable

# (pattern, weight): the best matching weight is the line's base score.
_STRONG: tuple[tuple[re.Pattern[str], float], ...] = (
    (_W(r"^Traceback \(most recent call last\)"), 7.0),
    (_W(r"^\s*(?:[\w$]+\.){0,8}[\w$]*(?:Error|Exception|Failure|Fault)\b(?::|$| \()"), 6.0),
    (_W(r"^(?:\S{1,200}: ?)?(?:fatal )?error(?:\[\w{1,12}\])?:", re.I), 6.0),
    (_W(r":\d+(?::\d+)?:? (?:fatal )?error\b|\berror (?:TS|CS|C|LNK|MSB|FS)\d{3,5}\b", re.I), 6.5),
    (_W(r"^\s*(?:\[(?:error|ERROR|fatal|FATAL)\]|ERROR:|FATAL:|fatal:|E:|ERROR |FATAL )"), 5.0),
    (_W(r"^\s*(?:error |Error |ERROR\b)"), 4.5),
    (_W(r"^\s*(?:npm ERR!|npm error|ERR!)"), 3.0),
    (_W(r"panicked at|^panic: |Segmentation fault|core dumped|\bKilled\b|[Oo]ut of memory"), 6.0),
    (_W(r"No space left on device|Permission denied|command not found|No such file or dir"), 5.5),
    (
        _W(
            r"from lock ?file\b|\bin sync\b.{0,80}lock|lock ?file.{0,60}\b(?:needs to be updated"
            r"|not up to date|out of date|out of sync|changed significantly)",
            re.I,
        ),
        5.5,
    ),
    (_W(r"^\s*(?:✖|✗|×|❌|(?:FAIL|FAILED|FAILURE|not ok)\b)|--- FAIL:|\[FAIL(?:ED)?\]"), 6.0),
    (_W(r"\bDubious, test returned [1-9]"), 6.0),  # Perl's prove (TAP harness)
    (_W(r"\b(?:FAILED|FAILURE|FAIL)\b|\bfailed\b(?! (?:with|to))|✖|✗|❌"), 4.5),
    (_W(r"^\s*\d{1,4}\) \S"), 3.5),  # numbered failure headers (mocha, rspec, phpunit, exunit)
    (_W(r"^\s*E\s{2,}\S"), 5.0),  # pytest assertion detail
    (_W(r"^\s*\*\* \([\w.]{1,80}\) "), 7.0),  # Elixir and Erlang: `** (RuntimeError) message`
    (_W(r"^\s*\[-\] \S"), 6.0),  # Pester's failed test
    (
        _W(r"\b(?:limit|quota|threshold|budget)\b.{0,80}\bexceeded\b|\bexceeded\b.{0,40}\blimit"),
        4.5,
    ),
    (_W(r"==\d{1,9}==ERROR: |\bERROR: \w{0,20}Sanitizer|: runtime error: "), 7.0),
    (_W(r"^\s*[\w./\\-]{1,300}\.\w{1,8}[:(]\d{1,7}(?:[:,]\d{1,5})?\)?:? ?(?:[A-Z]:|\w)"), 4.5),
    (
        _W(
            r"^\s*(?:There (?:was|were) \d+ (?:failures?|errors?)|Failures|Errors|Offenses|Issues)"
            r"\s*(?::|:-?\()\s*$|^\s*\d+ failing\s*$",
            re.I,
        ),
        7.5,
    ),
    (
        _W(
            r"\*\*\* FAILED \*\*\*|<<< (?:FAILURE|ERROR)!|^(?:FAIL|ERROR): \w{1,200} \("
            r"|\d\) Failure:|\(FAILED\)|\.\.\. (?:FAILED|FAIL|ERROR)\b"
        ),
        7.0,
    ),
    (_W(r"^\s*_{3,} .{1,300} _{3,}\s*$"), 4.0),
    (_W(r"\b(?:Assertion|assert(?:ion)?)\b.{0,80}\b(?:failed|error)\b|AssertionError", re.I), 5.5),
    (_W(r"\b[Ee]xpected\b.{0,120}\b(?:got|but|actual|to (?:be|equal|have|include))\b"), 4.5),
    (_W(r"\b(?:[Ff]ailed to|[Cc]ould not|[Cc]ouldn't|[Cc]annot|[Cc]an't|[Uu]nable to)\b"), 4.0),
    (_W(r"\b(?:not found|undefined|unresolved|not defined|does not exist|doesn't exist)\b"), 3.5),
    (_W(r"\b(?:error|errors|exception|fatal|failure|failures|aborted|abort)\b", re.I), 3.0),
    (
        _W(
            r"\b(?:denied|refused|unauthorized|forbidden|timed out|rejected|conflict|illegal"
            r"|unrecognized|unsupported|not allowed)\b",
            re.I,
        ),
        3.5,
    ),
)
# Summary and exit-status lines: they say that it failed, not why.
_SUMMARY = re.compile(
    r"(?:exited with|exit code|exit status|returned exit code|non-zero status|Process completed)"
    r"|^\s*(?:Done\. Your build exited|Finished: FAILURE|ERROR: Job failed)"
    r"|\b\d+ (?:failing|failed|failures?|errors?)\b|\b(?:Failures|Errors|failed|failures): [1-9]"
    r"|^\s*(?:BUILD FAILED|BUILD FAILURE|FAILURES!|Tests? failed|Build failed)"
    r"|^(?:npm ERR!|npm error|ERR!) (?:code|errno|syscall|Exit status|Failed at|This is probably|"
    r"A complete log|Test failed|enoent|[Ll]ifecycle|\s*$)"
    r"|make(?:\[\d{1,4}\])?: \*\*\*|^\s*={3,} .{0,200}\b(?:failed|error)|^\s*-{3,}\s*$"
    r"|^FAIL\s*$|^FAIL\t|^FAILED: |build stopped|Command failed with exit code"
    r"|^\s*(?:Tests|Assertions): \d|^\s*\d+ (?:examples?|tests?|specs?), \d+ failures?"
    r"|aborting due to|recipe for target .{0,300} failed|^\s*Result: FAIL|\bbuild failed"
    r"|FAILED TEST SUMMARY"
    r"|could not compile|(?:FAILED|Failed|failed|FAIL|ERRORS?|Errors?):?\s+\d+(?:/\d+)? "
    r"(?:tests?|subtests|examples?|specs?)|\d+ (?:tests?|examples?|specs?)(?: completed)?, \d+ "
    r"(?:failed|failures?)|^\s*(?:Rails |Gradle )?build FAILED|^\s*info Visit",
    re.I,
)
# Wrapper errors: a tool reporting that something it ran failed; the cause sits below them.
_WRAPPER = re.compile(r"failed to run custom build command|process didn't exit successfully")
_STRONG_INTRO = re.compile(
    r"^\s*There (?:was|were) \d+ (?:failures?|errors?):\s*$|^\s*\d+ failing\s*$"
)
# Lines that mention failure words without reporting one.
_NEGATIVE = re.compile(
    r"\b(?:0|no|zero) (?:errors?|failures?|failed|failing)\b"
    r"|\b(?:errors?|failures?|failed)[:=] ?0\b|^\s*(?:ERROR|WARN|INFO|DEBUG)\s+\d{4}-\d\d-\d\d"
    r"|\.{2,} ok\b|(?<!\[)-W(?:no-)?error|error_reporting|errorprone|[\w/-]*error[\w-]*\.\w+"
    r"|\bignor(?:e|ed|ing)\b|\bretry(?:ing)?\b|\bcontinuing\b|\bskipp(?:ed|ing)\b|\bxfail|\bpassed\b"
    r"|\b(?:if|when|on|handles?|handled|should|expect(?:ed|s)?|to) (?:an? )?(?:errors?|fail\w*)\b"
    r"|^\s*ok\b|\.\.\. ok\s*$|\bPASS(?:ED)?\b|✓|^\s*SKIP\b|--- SKIP|# SKIP\b",
    re.I,
)
_WARNING = re.compile(r"\bwarn(?:ing)?s?\b|deprecat", re.I)
# A command line echoed by the CI system or a shell trace: the step's start, not a failure.
_COMMAND = re.compile(r"^(?:\$ |\++ ?[\w./$]|> |Running |Run |\[command\])")

# Where a step of a CI system starts (searched in the raw line: some are markers).
_RAW_SECTION_START = re.compile(r"(?:travis_time:end:\S{0,200}(?:\x1b\[0K)?)?\$ \S")
# A command line the CI system itself marked: Travis (`\x1b[0K$ `), GitLab (green `$ `),
# GitHub Actions (`##[group]Run `, which cleaning blanks).
_RAW_CI_COMMAND = re.compile(
    r"(?:travis_time:end:\S{0,200})?\x1b\[(?:0K|32;1m)\$ \S"
    r"|(?:\d{4}-\d\d-\d\dT[\d:.]{8,20}Z )?(?:##\[group\]|::group::)Run "
)

# Block structure.
_CARET = re.compile(r"^\s*\^[\^~]*\s*$")
_SOURCE_LOCATION = re.compile(r"^\S{1,300}:\d{1,7}\s*$")
_FRAME = re.compile(
    r"^\s+(?:at |File \"|from |in |#\d{1,4} |\(|\.\.\. \d+ more|Caused by|\d{1,4}: )"
    r"|^\s*(?:Caused by|Suppressed): |^\s*\S{1,300}\.\w{1,8}:\d{1,7}:in |^\s*\d{1,5} *[|│] "
    r"|^\s*[|│] |^\s*[\^~]{1,}\s*|^\s*--> |^\s*= (?:note|help): |^\s*(?:note|help): "
    r"|^In file included from |^\s*from \S{1,300}:\d|^\S{1,300}:\d{1,7}(?::\d{1,5})?: note: "
    r"|^\d+ errors? generated\."
)
_ERROR_TAGS = frozenset(
    {
        "[error]",
        "[ERROR]",
        "[fatal]",
        "[FATAL]",
        "[FAIL]",
        "[fail]",
        "npm ERR!",
        "npm error",
        "ERR!",
        "E",
    }
)
_HEADER_END = re.compile(r"(?::|!|\bFAILED|\[FAIL\]|\bFAIL|✖|✗|×)\s*$")
# "There were 2 failures:", "Failures:", "Offenses:": the block below is the failure list.
_INTRO = re.compile(
    r"^\s*(?:There (?:was|were) \d+ (?:failures?|errors?)|Failures|Errors|Offenses|Issues"
    r"|Failed tests?|Failing tests?|Summary of all failing tests|FAILURES|ERRORS)"
    r"\s*(?::|:-?\(|!)?\s*$"
    r"|^\s*={3,} (?:FAILURES|ERRORS) ={3,}\s*$|^\s*\d+ failing\s*$",
    re.I,
)
_INTRO_STOP = re.compile(
    r"^\s*(?:FAILURES!|ERRORS!|Tests: \d|Finished in |\d+ (?:examples?|tests?|files?|specs?)\b"
    r"|={3,}|Ran \d+ tests?|FAILED \(|Failed examples:|rspec |rails test |To re-run)"
)
_PY_LOCATION = re.compile(r"^[\w./-]{1,300}\.py:\d{1,7}: \w{0,80}(?:Error|Exception)")
# A test that passed: never part of a failure's block.
_PASS = re.compile(r"^\s*(?:\[\+\]|✓|✔|√|PASS(?:ED)?\b|ok \d|--- PASS)")
# A command's help text, printed after a usage error: never part of the error's block.
_HELP = re.compile(r"^\s*(?:[Uu]sage|USAGE|Synopsis|Options):")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,4}[).]|[>*•-] |\S{1,300}[:(]\d)")
_CHAIN = re.compile(
    r"^(?:During handling of the above exception|The above exception was the direct cause)"
)
# Paths, file names and lower-case package or variable names.
_NAME = re.compile(
    r"[\w.-]*/[\w./-]*|[\w-]+\.[a-z]{1,5}\b"
    r"|(?<![\w-])(?!non-zero\b)[a-z0-9]+(?:[-_][a-z0-9]+)+(?![\w-])"
)
_CI_MARKER = re.compile(r"^section_(?:start|end):\d+:")  # GitLab's collapsible sections
_SEPARATOR = re.compile(r"^\s*(?:_{3,}|={3,}|-{3,}) ?.{0,300}(?:_{3,}|={3,}|-{3,})\s*$")


@dataclass(slots=True)
class Segment:
    """Consecutive log lines: `lines[i]` is line number `first + i` (raw text)."""

    first: int
    lines: list[str]
    steps: list[int | None] | None = None


@dataclass(frozen=True, slots=True)
class KeyLines:
    """What the key-line search found, with enough text for classifying and fingerprinting."""

    ranges: tuple[LineRange, ...]
    texts: tuple[str, ...]  # cleaned text of the key lines, in log order
    section: LineRange | None  # the failing section (output of the failing command or step)
    last_line: int
    candidates: tuple[LineRange, ...] = ()  # runner-up blocks, in log order
    tail_texts: tuple[str, ...] = field(default=())  # cleaned last lines of the section
    step: int | None = None  # the Cloud Build step that failed, as the log says (0-based)


def line_score(text: str) -> float:
    """Base score of one cleaned line: 0 for ordinary output, higher for stronger evidence."""
    head = text[:MAX_SCORE_CHARS]
    low = head.lower()
    tagged = head.startswith("E: ")  # apt's error tag: `E: Package 'x' has no installation ...`
    if not tagged and (not _VOCAB.search(low) or not _VOCAB.search(_NAME.sub(" ", head).lower())):
        return 0.0  # no error words, or only inside names (`invalid_data.json`, `quick-error`)
    if STRUCTURE.search(head):
        return 0.0  # a runner's marker (`ERROR`, `Finished Step #0`): printed for every step
    best = 0.0
    for pattern, weight in _STRONG:
        if weight > best and pattern.search(head):
            best = weight
    if best == 0.0:
        best = 1.0
    if (
        _SUMMARY.search(head) and not _INTRO.match(head) and not _STRONG_INTRO.match(head)
    ) or WRAPPER.search(head):
        best = min(best, 2.0)
    elif _WRAPPER.search(head):
        best = min(best, 2.5)
    if _NEGATIVE.search(head) and not _is_exception(head):
        best *= 0.3
    elif "error" not in low and _WARNING.search(head):
        best *= 0.5
    if _COMMAND.match(head):
        best *= 0.2
    return best


def find_key_lines(
    segments: Sequence[Segment],
    *,
    repeats: Mapping[str, int] | None = None,
    failing_step: int | None = None,
) -> KeyLines:
    lines = _flatten(segments)
    if not lines:
        return KeyLines((), (), None, 0)
    repeated = _mark_repeats(lines)
    counts: Counter[str] = Counter()
    cache: dict[str, tuple[float, bool]] = {}  # lines differing only in numbers score the same
    for i, line in enumerate(lines):
        shape = _MASK.sub("#", line.text[:MAX_SCORE_CHARS])
        scored = cache.get(shape)
        if scored is None:
            score = line_score(line.text)
            scored = cache[shape] = (score, score > 0 and WRAPPER.search(line.text) is not None)
        line.score = scored[0]
        if scored[1]:
            line.trailer = True
        if i in repeated:
            line.score *= REPEAT_SHARE
        if line.score > 0:
            counts[_raw_template(line.raw)] += 1
    mark_npm_lifecycle(lines)
    if repeats:
        counts.update(repeats)
    marked = failing_step is None and _marks_commands(lines)  # a step names its own section
    s_lo, s_hi, confident = _failing_section(lines, failing_step, marked)
    vertex: int | None = None
    if confident:
        s_lo, vertex = _failing_instruction(lines, s_lo, s_hi)
    others = _later_failures(lines, s_hi, marked) if confident and failing_step is None else []
    strongest = max(
        (line.score for line in lines[s_lo : s_hi + 1] if not TERMINAL.match(line.text)),
        default=0.0,
    )
    best_i = -1
    best = 0.0
    for i, line in enumerate(lines):
        if line.score <= 0:
            continue
        weight = line.score
        n = counts[_raw_template(line.raw)]
        if n > 3:
            weight /= 1.0 + (n - 3) ** 0.5 / 2  # noise repeats; a failure is said once or twice
        if s_lo <= i <= s_hi and (vertex is None or line.vertex in (None, vertex)):
            weight *= 3.0  # inside the failing section
        elif any(lo <= i <= hi for lo, hi in others):
            weight *= 2.0  # a later command that failed too
        elif confident:
            weight *= 0.5  # elsewhere, when a marker named the failing command
        line.score = weight
        if weight >= best:
            best, best_i = weight, i
    if best_i >= 0:
        # The first strong error is the root cause more often than the last: later ones are
        # its consequences or repeats.
        same = _template(lines[best_i].text)
        in_section = s_lo <= best_i <= s_hi
        lo_i = s_lo if in_section else max(0, best_i - EARLY_WINDOW)
        for i in range(lo_i, best_i):
            near = in_section or best_i - i <= EARLY_WINDOW
            if lines[i].score >= best * EARLY_SHARE and (near or _template(lines[i].text) == same):
                best_i = i
                break
    last = lines[-1].number
    sect_range = LineRange(lines[s_lo].number, lines[s_hi].number)
    tail = tuple(line.text for line in lines[max(s_lo, s_hi - 30) : s_hi + 1] if line.text)
    step = failing_step if failing_step is not None else _stated_step(lines)
    if best_i < 0 and not confident:
        return KeyLines((), (), sect_range, last, (), tail, step)
    if confident and strongest < WEAK_SECTION:
        # Nothing in the failing command's output looks like an error: its last lines are
        # what it said before it failed (a linter's finding, a size check, a diff).
        lo, hi = _last_output(lines, s_lo, s_hi)
    else:
        lo, hi = _expand(lines, best_i)
        # A test runner's own report of the failure, whole: the section's first one when a
        # marker named the section, else the one the best line is part of.
        marked = confident and s_lo <= best_i <= s_hi
        found = (report(lines, s_lo, s_hi) if marked else None) or report_around(lines, best_i, hi)
        lo, hi = found or _absorb_neighbours(lines, lo, hi, best)
    key = [LineRange(lines[lo].number, lines[hi].number)]
    texts = tuple(line.text for line in lines[lo : hi + 1] if line.text)
    runners = _runner_ups(lines, lo, hi)
    first = next((i for i in range(s_lo, lo) if lines[i].score >= best * FIRST_SHARE), None)
    if first is not None:
        # The section's first error leads the runner-ups: when the best block is a summary,
        # the failure it sums up was usually printed first.
        f_lo, f_hi = _expand(lines, first)
        early = LineRange(lines[f_lo].number, lines[f_hi].number)
        apart = [r for r in runners if r.end < early.start or r.start > early.end]
        runners = [early, *apart][: len(runners) or 1]
    if step is None:
        step = lines[lo].step
    return KeyLines(tuple(key), texts, sect_range, last, tuple(runners), tail, step)


def _stated_step(lines: list[Line]) -> int | None:
    """The step Cloud Build says failed (`ERROR: build step N ... failed`), if it says."""
    for line in lines:
        if line.step is None and line.text.startswith("ERROR: build step "):
            match = BUILD_STEP_ERROR.match(line.text)
            if match:
                return int(match.group(1))
    return None


def _last_output(lines: list[Line], s_lo: int, s_hi: int) -> tuple[int, int]:
    """The last paragraph of a section's output, above its exit line and trailers."""
    i = s_hi - 1 if TERMINAL.match(lines[s_hi].text) else s_hi
    while i > s_lo and (
        not lines[i].text
        or lines[i].trailer
        or _SUMMARY.search(lines[i].text)
        or _CI_MARKER.match(lines[i].text)
    ):
        i -= 1
    if i <= s_lo and SECTION_START.match(lines[s_lo].text):
        return s_hi, s_hi  # no output at all: the exit line is all there is
    hi = i
    double = _double_spaced(lines, hi)
    lo = hi
    gap = 0
    bounded = False
    while i > s_lo and hi - i < MAX_KEY_LINES:
        if not lines[i].text:
            gap += 1
            if gap >= (2 if double else 1):
                bounded = True
                break
        elif _COMMAND.match(lines[i].text):
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


def _flatten(segments: Sequence[Segment]) -> list[Line]:
    out: list[Line] = []
    for seg in segments:
        for k, raw in enumerate(seg.lines):
            step = seg.steps[k] if seg.steps is not None else None
            if step is None and raw.startswith("Step #"):
                step = parse_step_prefix(raw)[0]
            line = Line(seg.first + k, raw, clean(raw), step)
            if "#" in raw[:60]:
                match = _VERTEX.match(parse_step_prefix(raw)[2])
                line.vertex = int(match.group(1)) if match else None
            out.append(line)
    return out


_VERTEX = re.compile(r"#(\d{1,4}) ")
_REPEAT_HEADER = re.compile(r"^ ?> \[(?:[\w.-]{1,100} )?\d{1,4}/\d{1,4}\] [A-Z]{2,12}\b.{0,2000}:$")
_REPEAT_END = re.compile(r"^-{6,}$")
_REPEAT_TIME = re.compile(r"^\d{1,6}\.\d{1,4} ")
_BUILDKIT_FAILED = re.compile(r'(?:^|: )process "|executor failed running \[')
REPEAT_SHARE = 0.5


def _mark_repeats(lines: list[Line]) -> set[int]:
    """BuildKit repeats the last lines of a failed instruction under `------` /
    ` > [stage n/m] RUN ...:`; the cause is where it was first printed, above. The repeats
    lose their time prefix and count as trailers (still the key lines of a pasted tail)."""
    found: set[int] = set()
    i = 0
    n = len(lines)
    while i < n:
        text = lines[i].text
        if not (text[:4] in (" > [", "> [") and _REPEAT_HEADER.match(text)):
            i += 1
            continue
        lines[i].trailer = True
        j = i + 1
        while j < n and j - i <= MAX_BLOCK_LINES and not _REPEAT_END.match(lines[j].text):
            lines[j].text = _REPEAT_TIME.sub("", lines[j].text)
            lines[j].trailer = True
            found.add(j)
            j += 1
        i = j
    return found


def _failing_instruction(lines: list[Line], s_lo: int, s_hi: int) -> tuple[int, int | None]:
    """Inside a failed step that built an image: where the failed instruction (Dockerfile
    instruction, buildpack phase) started, and BuildKit's vertex of it if it has one."""
    for i in range(s_hi, s_lo - 1, -1):
        line = lines[i]
        if line.vertex is not None and line.trailer and _BUILDKIT_FAILED.search(line.text):
            vertex = line.vertex
            for j in range(s_lo, i):
                if lines[j].vertex == vertex and INSTRUCTION.match(lines[j].text):
                    return j, vertex
            return s_lo, vertex
    for i in range(s_hi, s_lo - 1, -1):
        if lines[i].vertex is None and INSTRUCTION.match(lines[i].text):
            return i, None
    return s_lo, None


def _failing_section(
    lines: list[Line], failing_step: int | None, marked: bool
) -> tuple[int, int, bool]:
    """Indexes (first, last) of the failing command's output, and whether a marker said so
    (else the section is just the log's end)."""
    n = len(lines)
    # The first failed command: later ones (Travis runs every script line) often fail
    # because of it, or for reasons of their own that the first failure hides.
    end = next((i for i, line in enumerate(lines) if TERMINAL.match(line.text)), -1)
    if end < 0:
        # No runner's exit line (a pasted tail): a tool's own "what I ran failed" line ends it.
        end = next((i for i, line in enumerate(lines) if line.trailer), -1)
    if failing_step is None and end >= 0:
        match = BUILD_STEP_ERROR.match(lines[end].text)
        failing_step = int(match.group(1)) if match else None
    if failing_step is not None:
        idx = [i for i, line in enumerate(lines) if line.step == failing_step]
        if idx:
            return idx[0], idx[-1], True
    if end < 0:
        return max(0, n - 400), n - 1, False
    step = lines[end].step
    named = _named_start(lines, end)
    if named is not None:
        return named, end, True
    start = 0
    for i in range(end - 1, -1, -1):
        line = lines[i]
        if step is not None and line.step is not None and line.step != step:
            start = i + 1
            break
        if _starts_section(line, marked):
            start = i
            break
    return start, end, True


def _marks_commands(lines: list[Line]) -> bool:
    """Does the CI system mark its own command lines in this log?"""
    return any(_starts_section(line, True) for line in lines)


def _starts_section(line: Line, marked: bool) -> bool:
    """Where a command's output starts. When the CI system marks its command lines, a
    `$ cmd` without the mark is output: a tool echoing its own commands (yarn, `set -x`)."""
    if marked:
        text = line.text
        return (SECTION_START.match(text) is not None and not text.startswith("$ ")) or (
            _RAW_CI_COMMAND.match(line.raw) is not None
        )
    return (
        SECTION_START.match(line.text) is not None or _RAW_SECTION_START.match(line.raw) is not None
    )


_NAMED = re.compile(r'^The command "(.{1,2000})" (?:failed and )?exited with')


def _named_start(lines: list[Line], end: int) -> int | None:
    """Where the command named by an exit line (`The command "X" exited with 1.`) started:
    its `$ X` line, above the `$ cmd` lines its tools echoed (yarn prints each script so)."""
    match = _NAMED.match(lines[end].text)
    if match is None:
        return None
    echo = "$ " + match.group(1)
    for i in range(end - 1, -1, -1):
        if lines[i].text == echo:
            return i
        if TERMINAL.match(lines[i].text):
            return None
    return None


def _later_failures(lines: list[Line], after: int, marked: bool) -> list[tuple[int, int]]:
    """Sections of commands that failed after the first one (at most a few)."""
    found: list[tuple[int, int]] = []
    for i in range(after + 1, len(lines)):
        if len(found) >= 4:
            break
        if TERMINAL.match(lines[i].text):
            start = _named_start(lines, i)
            if start is None or start <= after:
                start = i
                while start > after and not _starts_section(lines[start], marked):
                    start -= 1
            found.append((start, i))
    return found


_MASK = re.compile(r"0x[0-9a-fA-F]+|\d+")
_DIGIT = re.compile(r"\d")


def _template(text: str) -> str:
    return _MASK.sub("#", text[:200]).strip()


def _raw_template(raw: str) -> str:
    """The repeat-counting key, as the scanner computes it for lines it did not keep."""
    return _DIGIT.sub("#", raw[:200].lower())


def _continues(body: str, base_indent: int) -> bool:
    """Does this line belong to the block above it (a frame, detail, caret or source line)?"""
    if not body:
        return False
    if _FRAME.match(body):
        return True
    return indent(body) > base_indent


def _double_spaced(lines: list[Line], a: int) -> bool:
    """Travis logs often hold `\\r\\r\\n`: every other line is blank there."""
    window = lines[max(0, a - 12) : a + 12]
    blanks = sum(1 for line in window if not line.text)
    return blanks * 5 >= len(window) * 2


def _expand(lines: list[Line], a: int) -> tuple[int, int]:
    """The whole block around anchor `a`: traceback, failure block or tagged run of lines."""
    n = len(lines)
    anchor = lines[a].text
    if _INTRO.match(anchor):
        return _intro_block(lines, a)
    tag, body = split_tag(anchor)
    lo = hi = a
    if tag in _ERROR_TAGS:
        # A run of lines carrying the same error tag (`[error]`, `npm ERR!`, pytest's `E`).
        while lo > 0 and a - lo < MAX_BLOCK_LINES and same_tag(lines, lo - 1, tag):
            lo -= 1
        while hi + 1 < n and hi - a < MAX_BLOCK_LINES and same_tag(lines, hi + 1, tag):
            if _HELP.match(split_tag(lines[hi + 1].text)[1]):
                break
            hi += 1
        if tag == "E":
            lo, hi = _separated_block(lines, lo, hi)
        return trim(lines, lo, hi)
    if TAP_DUBIOUS.search(anchor):
        return tap_block(lines, a)
    if PHPT_FAIL.match(anchor):
        return phpt_block(lines, a)
    if GO_FAIL.match(anchor):
        sub = go_failed_subtest(lines, a) if GO_PARENT.match(anchor) else None
        if sub is not None:
            return _expand(lines, sub)
        found = go_run_output(lines, a)
        if found is not None:
            return found
    if _PY_LOCATION.match(anchor):
        lo, hi = _separated_block(lines, lo, hi)
        return trim(lines, lo, hi)
    base = indent(body)
    if body.startswith("Traceback"):
        pass
    elif base == 0 and _is_exception(body):
        lo = _up_traceback(lines, a, tag)
    else:
        lo = _up_block(lines, a, base, tag)
    top_body = split_tag(lines[lo].text)[1]
    top_indent = indent(top_body) if top_body else base
    paragraph = bool(
        _HEADER_END.search(body)
        or _is_exception(body)
        or lo < a
        or lines[a].score >= PARAGRAPH_SCORE
    )
    double = _double_spaced(lines, a)
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
        if t2 != tag or TERMINAL.match(text) or _SEPARATOR.match(text):
            break
        if _PASS.match(b2) or _HELP.match(b2):
            break
        if not (
            _continues(b2, top_indent)
            or _is_exception(b2)
            or b2.startswith("Caused by")
            or (paragraph and not _COMMAND.match(b2) and not _SUMMARY.search(b2))
        ):
            break
        if b2.lstrip().startswith("at "):
            frames += 1
            if frames > 60:
                break
        hi = i
        i += 1
    if body.startswith("Traceback") or _is_exception(body) or lo < a:
        hi = _chained(lines, hi)
    return trim(lines, lo, hi)


def _chained(lines: list[Line], hi: int) -> int:
    """Python prints a chain of exceptions as tracebacks joined by one sentence: one block."""
    for _ in range(5):
        j = next_text(lines, hi + 1, 3)
        if j is None or not _CHAIN.match(lines[j].text):
            break
        k = next_text(lines, j + 1, 3)
        if k is None or not lines[k].text.startswith("Traceback"):
            break
        hi = _expand(lines, k)[1]
    return hi


def _intro_block(lines: list[Line], a: int) -> tuple[int, int]:
    """The list under an intro line, up to the run's summary, the next step or a wide gap."""
    n = len(lines)
    double = _double_spaced(lines, a)
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
        if _INTRO_STOP.match(text) or TERMINAL.match(text) or SECTION_START.match(text):
            break
        if (
            blanks >= (2 if double else 1)
            and indent(text) <= intro_indent
            and lines[i].score == 0
            and not _LIST_ITEM.match(text)
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
        if _SEPARATOR.match(text):
            if "_" in text:
                lo = i
            break
    for i in range(hi + 1, min(len(lines), hi + 12)):
        text = lines[i].text
        if text and re.match(r"^\S{1,300}:\d{1,7}: \w", text):
            hi = i
            break
    return lo, hi


def _is_exception(text: str) -> bool:
    return bool(_STRONG[1][0].match(text))


def _up_traceback(lines: list[Line], a: int, tag: str) -> int:
    lo = a
    i = a - 1
    while i >= 0 and a - i <= MAX_BLOCK_LINES:
        t2, text = split_tag(lines[i].text)
        if t2 != tag and lines[i].text:
            break
        if text.startswith("Traceback"):
            return i
        if text and indent(text) == 0 and not _FRAME.match(text):
            break
        if text:
            lo = i
        i -= 1
    if lo >= 2 and _CARET.match(lines[lo].text) and lines[lo - 1].text:
        # Node's uncaught exception: `file:line`, the source line, a caret, then the error.
        lo -= 1
        if _SOURCE_LOCATION.match(lines[lo - 1].text):
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
        if t2 != tag or TERMINAL.match(text) or SECTION_START.match(text) or _PASS.match(text):
            break
        ind = indent(text)
        if base > 0 and ind >= base and not _COMMAND.match(text) and not _SUMMARY.search(text):
            lo = i
            i -= 1
            continue
        if ind < base and (
            lines[i].score > 0 or _HEADER_END.search(text) or _looks_like_header(text)
        ):
            lo = i  # a less indented line right above an indented block is its header
        break
    return lo


def _looks_like_header(text: str) -> bool:
    return bool(re.match(r"^\s*(?:\d{1,4}\)|[-=_]{3,}|\S.{0,200}(?:test|Test|spec|Spec))", text))


def _absorb_neighbours(lines: list[Line], lo: int, hi: int, best: float) -> tuple[int, int]:
    """Strong lines right next to the block (a second error, the header) join it."""
    grown = True
    while grown and hi - lo < MAX_KEY_LINES:
        grown = False
        for j in range(hi + 1, min(len(lines), hi + 4)):
            text = lines[j].text
            body = split_tag(text)[1]
            if _HELP.match(body) or _PASS.match(body):
                break
            if lines[j].score >= best * 0.5 and not (TERMINAL.match(text) or _SUMMARY.search(text)):
                hi = max(j, _expand(lines, j)[1])
                grown = True
                break
        for j in range(lo - 1, max(-1, lo - 4), -1):
            if _PASS.match(split_tag(lines[j].text)[1]):
                break  # a passing test: what is above it is another test
            if lines[j].score >= best * 0.5 and not _INTRO.match(lines[j].text):
                lo = min(j, _expand(lines, j)[0])
                grown = True
                break
    if hi - lo >= MAX_KEY_LINES:
        hi = lo + MAX_KEY_LINES - 1
    return lo, hi


def _runner_ups(lines: list[Line], lo: int, hi: int, count: int = 6) -> list[LineRange]:
    order = sorted(
        (i for i, line in enumerate(lines) if line.score > 0 and not lo <= i <= hi),
        key=lambda i: -lines[i].score,
    )
    found: list[LineRange] = []
    for i in order:
        if any(r.start <= lines[i].number <= r.end for r in found):
            continue
        b_lo, b_hi = _expand(lines, i)
        found.append(LineRange(lines[b_lo].number, lines[b_hi].number))
        if len(found) >= count:
            break
    return merge_ranges(found)[:count]


def segments_from_context(ctx: AnalysisContext) -> list[Segment]:
    """The notifier's `BuildLog` as segments (split where the middle of the log was cut)."""
    segments: list[Segment] = []
    for line in ctx.log.lines:
        last = segments[-1] if segments else None
        if (
            last is not None
            and last.steps is not None
            and last.first + len(last.lines) == line.number
        ):
            last.lines.append(line.text)
            last.steps.append(line.step)
        else:
            segments.append(Segment(line.number, [line.text], [line.step]))
    return segments


def failing_step_index(ctx: AnalysisContext) -> int | None:
    failing = ctx.first("failing_step")
    step = failing.data.get("step_index") if failing else None
    return step if isinstance(step, int) else None


def key_lines_for(ctx: AnalysisContext) -> KeyLines:
    """The key lines found by an earlier `key_lines` analyzer, or found now."""
    finding = ctx.first("key_lines")
    if finding is not None:
        restored = _from_data(finding)
        if restored is not None:
            return restored
    return find_key_lines(segments_from_context(ctx), failing_step=failing_step_index(ctx))


def _ranges(value: object) -> tuple[LineRange, ...]:
    if not isinstance(value, list):
        return ()
    out = []
    for item in value:
        if isinstance(item, list) and len(item) == 2 and all(isinstance(x, int) for x in item):
            out.append(LineRange(item[0], item[1]))
    return tuple(out)


def _texts(value: object) -> tuple[str, ...]:
    return tuple(x for x in value if isinstance(x, str)) if isinstance(value, list) else ()


def _from_data(finding: Finding) -> KeyLines | None:
    data = finding.data
    last = data.get("last_line")
    if not isinstance(last, int):
        return None
    section = _ranges(data.get("section"))
    return KeyLines(
        finding.lines,
        _texts(data.get("texts")),
        section[0] if section else None,
        last,
        _ranges(data.get("candidates")),
        _texts(data.get("tail_texts")),
    )


def _to_data(found: KeyLines) -> dict[str, JSONValue]:
    def pairs(ranges: Sequence[LineRange]) -> list[JSONValue]:
        return [[r.start, r.end] for r in ranges]

    return {
        "texts": list[JSONValue](found.texts),
        "section": pairs([found.section] if found.section else []),
        "candidates": pairs(found.candidates),
        "tail_texts": list[JSONValue](found.tail_texts),
        "last_line": found.last_line,
    }


class KeyLinesAnalyzer:
    name = "key_lines"

    def analyze(self, ctx: AnalysisContext) -> list[Finding]:
        found = find_key_lines(segments_from_context(ctx), failing_step=failing_step_index(ctx))
        if not found.ranges:
            return []
        first = found.texts[0] if found.texts else ""
        return [Finding(self.name, "key_lines", first[:200], found.ranges, _to_data(found))]


def create(settings: Settings) -> KeyLinesAnalyzer:
    return KeyLinesAnalyzer()
