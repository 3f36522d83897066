"""Key lines: the few lines that explain a failure, found without training.

Each line is cleaned (`noise`), scored on its own (`scoring`, with the tables of
`vocabulary` and the runner wrappers of `wrappers.toml`), weighted here by where it sits
(inside the failing section: the failed step, narrowed to the failed Dockerfile instruction
or buildpack phase) and by how often it repeats; the best anchor is then grown into the
whole block it belongs to (`blocks`: traceback, failure block, diagnostic with its context).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzers.base import AnalysisContext, Finding, LineRange
from analyzers.blocks import absorb_neighbours, expand, last_output, runner_ups
from analyzers.loglines import (
    BUILD_STEP_ERROR,
    SECTION_START,
    STARTED,
    TERMINAL,
    Line,
)
from analyzers.reports import (
    mark_npm_lifecycle,
    report,
    report_around,
)
from analyzers.scoring import line_score
from analyzers.signature import PassingLines
from analyzers.vocabulary import (
    BUILDKIT_FAILED,
    DIAGNOSTIC_WARNING,
    DIGIT,
    EARLY_SHARE,
    EARLY_WINDOW,
    FIRST_SHARE,
    KNOWN_SHARE,
    KNOWN_TAIL,
    MASK,
    MAX_BLOCK_LINES,
    MAX_SCORE_CHARS,
    NAMED,
    PROMOTED_SCORE,
    RAW_CI_COMMAND,
    RAW_SECTION_START,
    REPEAT_END,
    REPEAT_SHARE,
    REPEAT_TIME,
    VERTEX,
    WARNINGS_AS_ERRORS,
    WEAK_SECTION,
)
from analyzers.wrappers import INSTRUCTION, REPEAT, WRAPPER
from buildlens_core.buildlog import parse_step_prefix
from buildlens_core.noise import clean

if TYPE_CHECKING:
    from buildlens_core.settings import Settings


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
    known: int = 0  # error-looking lines discounted because passing builds printed them


def find_key_lines(
    segments: Sequence[Segment],
    *,
    repeats: Mapping[str, int] | None = None,
    failing_step: int | None = None,
    passing: PassingLines | None = None,
) -> KeyLines:
    """`passing`: what passing builds of the same trigger printed; lines they printed in
    the same step are known noise and weigh less."""
    lines = _flatten(segments)
    if not lines:
        return KeyLines((), (), None, 0)
    repeated = _mark_repeats(lines)
    counts: Counter[str] = Counter()
    cache: dict[str, tuple[float, bool]] = {}  # lines differing only in numbers score the same
    known_at: set[int] = set()  # lines passing builds printed too (discounted)
    for i, line in enumerate(lines):
        shape = MASK.sub("#", line.text[:MAX_SCORE_CHARS])
        scored = cache.get(shape)
        if scored is None:
            score = line_score(line.text)
            scored = cache[shape] = (score, score > 0 and WRAPPER.search(line.text) is not None)
        line.score = scored[0]
        if scored[1]:
            line.trailer = True
        if i in repeated:
            line.score *= REPEAT_SHARE
        if line.score > 0 and passing and passing.knows(line.step, line.raw):
            line.score *= KNOWN_SHARE
            known_at.add(i)
        if line.score > 0:
            counts[_raw_template(line.raw)] += 1
    mark_npm_lifecycle(lines)
    if repeats:
        counts.update(repeats)
    marked = failing_step is None and _marks_commands(lines)  # a step names its own section
    s_lo, s_hi, confident = _failing_section(lines, failing_step, marked)
    _promote_warnings(lines, s_lo, s_hi)
    start, vertex = _failing_instruction(lines, s_lo, s_hi)
    if (start != s_lo or vertex is not None) and (
        confident or any(line.trailer for line in lines[start : s_hi + 1])
    ):
        # An image build failed: its last instruction (or BuildKit's failed vertex) is the
        # failing section, also in a pasted tail without the runner's exit line. A log that
        # just stops (an internal error) names no failed instruction.
        s_lo, confident = start, True
    others = _later_failures(lines, s_hi, marked) if confident and failing_step is None else []
    # Whether the section says what failed does not depend on passing builds: their lines
    # weigh less in the choice, but still count as the section's error lines here.
    strongest = max(
        (
            line.score / (KNOWN_SHARE if i in known_at else 1.0)
            for i, line in enumerate(lines[s_lo : s_hi + 1], s_lo)
            if not TERMINAL.match(line.text)
        ),
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
        return KeyLines((), (), sect_range, last, (), tail, step, len(known_at))
    if confident and strongest < WEAK_SECTION:
        # Nothing in the failing command's output looks like an error: its last lines are
        # what it said before it failed (a linter's finding, a size check, a diff).
        lo, hi = last_output(lines, s_lo, _before_known_tail(lines, s_lo, s_hi, passing))
    else:
        lo, hi = expand(lines, best_i)
        # A test runner's own report of the failure, whole: the section's first one when a
        # marker named the section, else the one the best line is part of.
        marked = confident and s_lo <= best_i <= s_hi
        found = (report(lines, s_lo, s_hi) if marked else None) or report_around(lines, best_i, hi)
        lo, hi = found or absorb_neighbours(lines, lo, hi, best)
    lo, hi = _trim_known(lines, lo, hi, passing)
    key = [LineRange(lines[lo].number, lines[hi].number)]
    texts = tuple(line.text for line in lines[lo : hi + 1] if line.text)
    runners = runner_ups(lines, lo, hi)
    first = next((i for i in range(s_lo, lo) if lines[i].score >= best * FIRST_SHARE), None)
    if first is not None:
        # The section's first error leads the runner-ups: when the best block is a summary,
        # the failure it sums up was usually printed first.
        f_lo, f_hi = expand(lines, first)
        early = LineRange(lines[f_lo].number, lines[f_hi].number)
        apart = [r for r in runners if r.end < early.start or r.start > early.end]
        runners = [early, *apart][: len(runners) or 1]
    if step is None:
        step = lines[lo].step if lines[lo].step is not None else _last_started(lines, hi)
    return KeyLines(tuple(key), texts, sect_range, last, tuple(runners), tail, step, len(known_at))


def _trim_known(
    lines: list[Line], lo: int, hi: int, passing: PassingLines | None
) -> tuple[int, int]:
    """The block without the lines at its ends that passing builds printed too: a section
    every build prints (`> White listed:`) is not part of this failure's statement."""
    if not passing:
        return lo, hi

    def known(i: int) -> bool:
        return _printed_by(lines[i], passing)

    first, last = lo, hi
    while lo < hi and known(lo):
        lo += 1
    while hi > lo and known(hi):
        hi -= 1
    return (first, last) if known(lo) else (lo, hi)  # all known: the block stands as it is


def _before_known_tail(
    lines: list[Line], s_lo: int, s_hi: int, passing: PassingLines | None
) -> int:
    """Where the section's output ends once the lines passing builds also printed at its
    end are set aside (`Wrote results to ...`): what this build said before failing is
    what they did not say."""
    if not passing:
        return s_hi
    end = s_hi - 1 if TERMINAL.match(lines[s_hi].text) else s_hi
    i = end
    while i > s_lo and end - i < KNOWN_TAIL and _printed_by(lines[i], passing):
        i -= 1
    return i if s_lo < i < end and lines[i].text else s_hi


def _printed_by(line: Line, passing: PassingLines) -> bool:
    """Blank, or printed by a passing build in the same step: nothing this build said."""
    return not line.text or passing.knows(line.step, line.raw)


def _stated_step(lines: list[Line]) -> int | None:
    """The step Cloud Build says failed (`ERROR: build step N ... failed`), if it says.
    Copied logs are often indented, so the line is read without its indent."""
    for line in lines:
        text = line.text.lstrip()
        if line.step is None and text.startswith("ERROR: build step "):
            match = BUILD_STEP_ERROR.match(text)
            if match:
                return int(match.group(1))
    return None


def _last_started(lines: list[Line], upto: int) -> int | None:
    """The last step that started before line index `upto`: Cloud Build runs steps in order
    and stops at the first failure, so a cause printed outside any step (gcloud's own error
    after the build) belongs to it. None when the log shows no steps, or when the steps had
    all passed (the error follows the `PUSH` of the images)."""
    for line in reversed(lines[: upto + 1]):
        if line.step is not None:
            return line.step
        text = line.text.strip()
        if text == "PUSH":
            return None
        match = STARTED.match(text)
        if match:
            return int(match.group(1))
    return None


def _flatten(segments: Sequence[Segment]) -> list[Line]:
    out: list[Line] = []
    for seg in segments:
        for k, raw in enumerate(seg.lines):
            step = seg.steps[k] if seg.steps is not None else None
            if step is None and raw.startswith("Step #"):
                step = parse_step_prefix(raw)[0]
            line = Line(seg.first + k, raw, clean(raw), step)
            if "#" in raw[:60]:
                match = VERTEX.match(parse_step_prefix(raw)[2])
                line.vertex = int(match.group(1)) if match else None
            out.append(line)
    return out


def _promote_warnings(lines: list[Line], s_lo: int, s_hi: int) -> None:
    """Under -Werror (`Failing due to -Werror.`, `warnings found and -Werror specified`) the
    section's compiler warnings are what failed the build: they score as errors."""
    section = lines[s_lo : s_hi + 1]
    if not any(line.score > 0 and WARNINGS_AS_ERRORS.search(line.text) for line in section):
        return
    for line in section:
        if DIAGNOSTIC_WARNING.match(line.text):
            line.score = max(line.score, PROMOTED_SCORE)


def _mark_repeats(lines: list[Line]) -> set[int]:
    """Runners repeat a failed command's last lines under a header (BuildKit's ` > [stage
    n/m] RUN ...:` and its `Dockerfile:N` excerpt, Google Cloud buildpacks' `failed to build:
    (error ID: x):`); the cause is where it was first printed, above. The repeats lose
    BuildKit's time prefix and count as trailers (still the key lines of a pasted tail that
    lacks the original)."""
    found: set[int] = set()
    i = 0
    n = len(lines)
    while i < n:
        text = lines[i].text
        if not (text and REPEAT.match(text)):
            i += 1
            continue
        lines[i].trailer = True
        j = i + 1
        while j < n and j - i <= MAX_BLOCK_LINES:
            if REPEAT_END.match(lines[j].text) and j > i + 1:
                break  # (the Dockerfile excerpt opens with a rule of its own)
            if j > i + 1 and WRAPPER.search(lines[j].text):
                break  # the runner's own wrapper after the repeat
            lines[j].text = REPEAT_TIME.sub("", lines[j].text)
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
        if line.vertex is not None and line.trailer and BUILDKIT_FAILED.search(line.text):
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
            RAW_CI_COMMAND.match(line.raw) is not None
        )
    return (
        SECTION_START.match(line.text) is not None or RAW_SECTION_START.match(line.raw) is not None
    )


def _named_start(lines: list[Line], end: int) -> int | None:
    """Where the command named by an exit line (`The command "X" exited with 1.`) started:
    its `$ X` line, above the `$ cmd` lines its tools echoed (yarn prints each script so)."""
    match = NAMED.match(lines[end].text)
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


def _template(text: str) -> str:
    return MASK.sub("#", text[:200]).strip()


def _raw_template(raw: str) -> str:
    """The repeat-counting key, as the scanner computes it for lines it did not keep."""
    return DIGIT.sub("#", raw[:200].lower())


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


def key_lines_for(ctx: AnalysisContext) -> KeyLines:
    """The key lines an earlier `key_lines` analyzer shared, or found now (and shared)."""
    found = ctx.get(KeyLines)
    if found is None:
        found = _find(ctx)
        ctx.put(found)
    return found


def _find(ctx: AnalysisContext) -> KeyLines:
    return find_key_lines(
        segments_from_context(ctx),
        failing_step=ctx.failing_step_index,
        passing=ctx.get(PassingLines),
    )


class KeyLinesAnalyzer:
    name = "key_lines"

    def analyze(self, ctx: AnalysisContext) -> list[Finding]:
        found = _find(ctx)
        ctx.put(found)
        if not found.ranges:
            return []
        first = found.texts[0] if found.texts else ""
        return [Finding(self.name, "key_lines", first[:200], found.ranges)]


def create(settings: Settings) -> KeyLinesAnalyzer:
    return KeyLinesAnalyzer()
