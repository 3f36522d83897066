"""The vocabulary of failure: error words, line formats and their weights, block shapes.

Data, not logic: `scoring` weighs a line with these tables, `blocks` grows an anchor line
into its block with the shape patterns, `keylines` finds the failing section with the
markers. Runners' wrapper lines are in `wrappers.toml`. Every pattern is linear and
bounded, and lines are capped before matching, so adversarial input cannot make it slow.
"""

from __future__ import annotations

import re

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

VOCAB = re.compile("|".join(re.escape(w) for w in VOCABULARY))

_W = re.compile  # short alias keeps the table readable

# (pattern, weight): the best matching weight is the line's base score.
STRONG: tuple[tuple[re.Pattern[str], float], ...] = (
    (_W(r"^Traceback \(most recent call last\)"), 7.0),
    (_W(r"^\s*(?:[\w$]+\.){0,8}[\w$]*(?:Error|Exception|Failure|Fault)\b(?::|$| \()"), 6.0),
    (_W(r"^(?:\S{1,200}: ?)?(?:fatal )?error(?:\[\w{1,12}\])?:", re.I), 6.0),
    (_W(r":\d+(?::\d+)?:? (?:fatal )?error\b|\berror (?:TS|CS|C|LNK|MSB|FS)\d{3,5}\b", re.I), 6.5),
    (_W(r"^\s*(?:\[(?:error|ERROR|fatal|FATAL)\]|ERROR:|FATAL:|fatal:|E:|ERROR |FATAL )"), 5.0),
    (_W(r"^\s*(?:error |Error |ERROR\b)"), 4.5),
    (_W(r"^\s*(?:npm ERR!|npm error|ERR!)"), 3.0),
    (_W(r"panicked at|^panic: |Segmentation fault|core dumped|\bKilled\b|[Oo]ut of memory"), 6.0),
    (_W(r"No space left on device|Permission denied|command not found|No such file or dir"), 5.5),
    (_W(r"^(?:/bin/|/usr/bin/)?(?:ba|da|z)?sh: (?:line )?\d{1,6}: .{1,200}: not found"), 5.5),
    (_W(r"^(?:Type|Syntax|Reference|Module parse|Build) error: \S"), 6.0),  # Next.js, webpack
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
    (_W(r"^#\s+Failed test\b"), 6.0),  # Test::More's diagnostic of a failed test (TAP)
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
SUMMARY = re.compile(
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
CHILD_FAILED = re.compile(r"failed to run custom build command|process didn't exit successfully")

STRONG_INTRO = re.compile(
    r"^\s*There (?:was|were) \d+ (?:failures?|errors?):\s*$|^\s*\d+ failing\s*$"
)

# Lines that mention failure words without reporting one.
NEGATIVE = re.compile(
    r"\b(?:0|no|zero) (?:errors?|failures?|failed|failing)\b"
    r"|\b(?:errors?|failures?|failed)[:=] ?0\b|^\s*(?:ERROR|WARN|INFO|DEBUG)\s+\d{4}-\d\d-\d\d"
    r"|\.{2,} ok\b|(?<!\[)-W(?:no-)?error|error_reporting|errorprone|[\w/-]*error[\w-]*\.\w+"
    r"|\bignor(?:e|ed|ing)\b|\bretry(?:ing)?\b|\bcontinuing\b|\bskipp(?:ed|ing)\b|\bxfail|\bpassed\b"
    r"|\b(?:if|when|on|handles?|handled|should|expect(?:ed|s)?|to) (?:an? )?(?:errors?|fail\w*)\b"
    r"|^\s*ok\b|\.\.\. ok\s*$|\bPASS(?:ED)?\b|✓|^\s*SKIP\b|--- SKIP|# SKIP\b",
    re.I,
)

WARNING = re.compile(r"\bwarn(?:ing)?s?\b|deprecat", re.I)

# A compiler saying that its warnings failed the build (GHC, javac, gcc, MSBuild, Sphinx): the
# warnings it printed are then the errors, and score as compiler errors do.
WARNINGS_AS_ERRORS = re.compile(
    r"Failing due to -Werror\.|warnings being treated as errors|warnings found and -Werror"
    r"|warnings? (?:were )?treated as errors?|-Werror specified",
    re.I,
)
DIAGNOSTIC_WARNING = re.compile(r"^\S{1,300}?[:(]\d{1,7}(?:[:,]\d{1,5})?\)?:? ?[Ww]arning\b")
PROMOTED_SCORE = 6.5

# A command line echoed by the CI system or a shell trace: the step's start, not a failure.
COMMAND = re.compile(r"^(?:\$ |\++ ?[\w./$]|> |Running |Run |\[command\])")

# Where a step of a CI system starts (searched in the raw line: some are markers).
RAW_SECTION_START = re.compile(r"(?:travis_time:end:\S{0,200}(?:\x1b\[0K)?)?\$ \S")

# A command line the CI system itself marked: Travis (`\x1b[0K$ `), GitLab (green `$ `),
# GitHub Actions (`##[group]Run `, which cleaning blanks).
RAW_CI_COMMAND = re.compile(
    r"(?:travis_time:end:\S{0,200})?\x1b\[(?:0K|32;1m)\$ \S"
    r"|(?:\d{4}-\d\d-\d\dT[\d:.]{8,20}Z )?(?:##\[group\]|::group::)Run "
)

# Block structure.
CARET = re.compile(r"^\s*\^[\^~]*\s*$")

SOURCE_LOCATION = re.compile(r"^\S{1,300}:\d{1,7}\s*$")

FRAME = re.compile(
    r"^\s+(?:at |File \"|from |in |#\d{1,4} |\(|\.\.\. \d+ more|Caused by|\d{1,4}: )"
    r"|^\s*(?:Caused by|Suppressed): |^\s*\S{1,300}\.\w{1,8}:\d{1,7}:in |^\s*\d{1,5} *[|│] "
    r"|^\s*[|│] |^\s*[\^~]{1,}\s*|^\s*--> |^\s*= (?:note|help): |^\s*(?:note|help): "
    r"|^In file included from |^\s*from \S{1,300}:\d|^\S{1,300}:\d{1,7}(?::\d{1,5})?: note: "
    r"|^\d+ errors? generated\."
)

ERROR_TAGS = frozenset(
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

# gcloud's own error: `ERROR: (gcloud.run.deploy) message`, often continued on the next lines.
GCLOUD_ERROR = re.compile(r"^ERROR: \(gcloud\.[\w.-]{1,100}\) ")

HEADER_END = re.compile(r"(?::|!|\bFAILED|\[FAIL\]|\bFAIL|✖|✗|×)\s*$")

# "There were 2 failures:", "Failures:", "Offenses:": the block below is the failure list.
INTRO = re.compile(
    r"^\s*(?:There (?:was|were) \d+ (?:failures?|errors?)|Failures|Errors|Offenses|Issues"
    r"|Failed tests?|Failing tests?|Summary of all failing tests|FAILURES|ERRORS)"
    r"\s*(?::|:-?\(|!)?\s*$"
    r"|^\s*={3,} (?:FAILURES|ERRORS) ={3,}\s*$|^\s*\d+ failing\s*$",
    re.I,
)

INTRO_STOP = re.compile(
    r"^\s*(?:FAILURES!|ERRORS!|Tests: \d|Finished in |\d+ (?:examples?|tests?|files?|specs?)\b"
    r"|={3,}|Ran \d+ tests?|FAILED \(|Failed examples:|rspec |rails test |To re-run)"
)

PY_LOCATION = re.compile(r"^[\w./-]{1,300}\.py:\d{1,7}: \w{0,80}(?:Error|Exception)")

# A test that passed: never part of a failure's block.
PASS = re.compile(r"^\s*(?:\[\+\]|✓|✔|√|PASS(?:ED)?\b|ok \d|--- PASS)")

# A command's help text, printed after a usage error: never part of the error's block.
HELP = re.compile(r"^\s*(?:[Uu]sage|USAGE|Synopsis|Options):")

LIST_ITEM = re.compile(r"^\s*(?:\d{1,4}[).]|[>*•-] |\S{1,300}[:(]\d)")

CHAIN = re.compile(
    r"^(?:During handling of the above exception|The above exception was the direct cause)"
)

# Paths, file names and lower-case package or variable names.
NAME = re.compile(
    r"[\w.-]*/[\w./-]*|[\w-]+\.[a-z]{1,5}\b"
    r"|(?<![\w-])(?!non-zero\b)[a-z0-9]+(?:[-_][a-z0-9]+)+(?![\w-])"
)

CI_MARKER = re.compile(r"^section_(?:start|end):\d+:")  # GitLab's collapsible sections
SEPARATOR = re.compile(r"^\s*(?:_{3,}|={3,}|-{3,}) ?.{0,300}(?:_{3,}|={3,}|-{3,})\s*$")

MASK = re.compile(r"0x[0-9a-fA-F]+|\d+")

DIGIT = re.compile(r"\d")

VERTEX = re.compile(r"#(\d{1,4}) ")


REPEAT_END = re.compile(r"^-{6,}$")

REPEAT_TIME = re.compile(r"^\d{1,6}\.\d{1,4} ")

BUILDKIT_FAILED = re.compile(r'(?:^|: )process "|executor failed running \[')

REPEAT_SHARE = 0.5
# A line passing builds of the same trigger also printed (same step, masked): noise there.
# Mild (tuned on bench.passing's tune part: its stand-in passing builds are failed builds of
# the same repository, which share failures; setting known lines aside at a block's ends
# and a section's end is what helps most there).
KNOWN_SHARE = 0.85
KNOWN_TAIL = 200  # at most this many known lines set aside at a section's end
NAMED = re.compile(r'^The command "(.{1,2000})" (?:failed and )?exited with')
