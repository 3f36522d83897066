"""Key lines per tool family, on recorded output inside Travis and Cloud Build shaped logs."""

from __future__ import annotations

import pytest

from analyzers.keylines import Segment, find_key_lines
from analyzers.scoring import line_score
from buildlens_core.buildlog import split_lines
from tests.analyzers import snippets
from tests.analyzers.helpers import (
    analyze_text,
    cloudbuild_log,
    github_actions_log,
    gitlab_log,
    image_build_log,
    numbers,
    travis_log,
)

# (snippet, a line that must be a key line, lines that must not)
FAMILIES = {
    "pytest": (
        snippets.PYTEST,
        "E       AssertionError: assert {'a': 1} == {'a': 2}",
        ["collected 1 item"],
    ),
    "python-traceback": (snippets.PYTHON_TRACEBACK, "FileNotFoundError: [Errno 2]", []),
    "javac": (snippets.JAVAC, "Main.java:3: error: incompatible types", []),
    "gcc": (snippets.GCC, "bad.c:2:26: error:", []),
    "gcc-werror": (snippets.GCC_WERROR, "fastcsv.c:2:12: error:", ["make: ***"]),
    "cargo": (snippets.CARGO, "error[E0425]: cannot find value", ["   Compiling crate1"]),
    "cargo-build-script": (
        snippets.CARGO_BUILD_SCRIPT,
        "configure: error: no acceptable C compiler",
        ["   Compiling bsdemo"],
    ),
    "elixir": (snippets.ELIXIR, "** (RuntimeError) entries not in", ["[debug] Checking"]),
    "go-test": (snippets.GO_TEST, "--- FAIL: TestAdd", ["=== RUN   TestAdd"]),
    "node-assert": (snippets.NODE_ASSERT, "AssertionError [ERR_ASSERTION]", ["> node test.js"]),
    "npm": (snippets.NPM_404, "npm error 404 Not Found", []),
    "pip": (snippets.PIP, "ERROR: No matching distribution found", ["Looking in links"]),
    "docker": (snippets.DOCKER_BUILD, "ERROR: Could not open requirements file", []),
    "gcloud": (snippets.GCLOUD_PERMISSION, "ERROR: (gcloud.run.deploy) PERMISSION_DENIED", []),
    "terraform": (snippets.TERRAFORM, "│ Error: Error creating bucket", []),
    "surefire": (
        snippets.MAVEN_SUREFIRE,
        "AssertionFailedError: expected: <5>",
        ["[INFO] Running"],
    ),
    "python-chained": (snippets.PYTHON_CHAINED, "ValueError: invalid literal", []),
    "exunit": (snippets.EXUNIT, "** (ArgumentError) argument error", ["Randomized with seed"]),
    "mocha": (snippets.MOCHA, "Missing expected exception", ["✓ reads a header"]),
    "pester": (snippets.PESTER, "[-] writes a summary", ["[+] creates"]),
    "awesome_bot": (snippets.AWESOME_BOT, "404 https://example.com/gone", ["Wrote results"]),
    "size-limit": (snippets.SIZE_LIMIT, "limit has exceeded", []),
    "go-subtests": (snippets.GO_SUBTESTS, "expected 'golang auckland'", ["TestSorted/Books"]),
    "go-subtests-nested": (
        snippets.GO_SUBTESTS_NESTED,
        "expected 'golang auckland'",
        ["TestSorted/Books", "TestSorted/Tools"],
    ),
    "npm-lifecycle": (snippets.NPM_LIFECYCLE, "'fetch' is not defined", ["npm ERR!"]),
    "npm-ci-lockfile": (snippets.NPM_CI_LOCKFILE, "Missing: is-odd@3.0.1", ["Usage:", "--dry-run"]),
}


# The same tool output inside the logs of different CI systems.
SHAPES = {
    "travis": travis_log,
    "cloudbuild": cloudbuild_log,
    "github-actions": github_actions_log,
    "gitlab": gitlab_log,
    **{f"cloudbuild-{shape}": image_build_log(shape) for shape in ("docker", "buildkit", "kaniko")},
    "cloudbuild-buildpacks": image_build_log("buildpacks"),
}


def _texts(text: str, wanted: set[int]) -> list[str]:
    lines = [line.decode() for line in split_lines(text.encode())]  # docs/ARCHITECTURE.md section 3
    return [lines[n - 1] for n in sorted(wanted)]


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_key_lines_find_the_error(family: str, shape: str) -> None:
    snippet, must, must_not = FAMILIES[family]
    text, where = SHAPES[shape](snippet)
    report = analyze_text(text)
    got = numbers(report.key_lines)
    assert got, "no key lines"
    assert got <= set(range(where.start - 2, where.end + 3)), (got, where)
    chosen = _texts(text, got)
    assert any(must in line for line in chosen), chosen
    for text_not in must_not:
        assert not any(text_not in line for line in chosen), chosen
    assert numbers(report.key_lines) <= numbers(report.excerpt)


def test_python_traceback_is_returned_whole() -> None:
    text, where = travis_log(snippets.PYTHON_TRACEBACK)
    got = numbers(analyze_text(text).key_lines)
    assert got == set(range(where.start, where.end + 1))


def test_chained_python_tracebacks_are_one_block() -> None:
    text, where = travis_log(snippets.PYTHON_CHAINED)
    got = numbers(analyze_text(text).key_lines)
    assert got == set(range(where.start, where.end + 1))


def test_the_list_under_an_intro_line_is_the_block() -> None:
    text, _ = travis_log(snippets.MOCHA)
    chosen = _texts(text, numbers(analyze_text(text).key_lines))
    assert chosen[0].strip() == "1) parser"
    assert any("test/parser.test.js:14:12" in line for line in chosen)


def test_pytest_failure_block_from_header_to_location() -> None:
    text, _ = travis_log(snippets.PYTEST)
    chosen = _texts(text, numbers(analyze_text(text).key_lines))
    assert chosen[0].startswith("____")
    assert any(line.startswith("test_cfg.py:6: AssertionError") for line in chosen)


def test_java_stack_trace_kept_with_its_exception() -> None:
    text, _ = travis_log(snippets.MAVEN_SUREFIRE)
    chosen = _texts(text, numbers(analyze_text(text).key_lines))
    assert any("at com.example.CalcTest.addsNumbers" in line for line in chosen)


def test_wrapper_error_loses_to_the_cause_below_it() -> None:
    assert line_score("error: failed to run custom build command for `x v0.1.0`") < line_score(
        "configure: error: no acceptable C compiler found in $PATH"
    )


@pytest.mark.parametrize(
    "skipped",
    [
        "SKIP Bug #7 (cache causes Segmentation fault) [ext/t/bug7.phpt] reason: online test",
        "--- SKIP: TestUpload (0.00s)",
        "ok 4 - upload fails on timeout # SKIP no network",
    ],
)
def test_a_skipped_test_is_not_a_failure_whatever_its_title_says(skipped: str) -> None:
    # PHP's run-tests, go test and TAP print the title of a skipped test, error words and all.
    assert line_score(skipped) < line_score("FAIL Bug #8 (proc_open hangs) [ext/t/bug8.phpt]") / 2


def test_error_words_inside_names_are_not_evidence() -> None:
    assert line_score("▸ Copying /Users/ci/Tests/Resources/invalid_data.json") == 0
    assert line_score("Compiling missing-dns-name.cer error_pages.html") == 0
    assert line_score("error: cannot open invalid_data.json") > 0
    assert line_score("   Compiling quick-error v1.2.2") == 0  # a crate, not an error
    assert line_score("  Downloaded error_chain v0.12.4") == 0
    assert line_score("status: PERMISSION_DENIED") > 0  # gRPC codes are upper case
    assert line_score("make returned non-zero") > 0


def test_elixir_stack_kept_with_its_exception() -> None:
    text, _ = travis_log(snippets.ELIXIR)
    chosen = _texts(text, numbers(analyze_text(text).key_lines))
    assert chosen[0].startswith("** (RuntimeError)")
    assert any("Code.require_file/2" in line for line in chosen)


def test_noise_removed_before_scoring() -> None:
    coloured = "\x1b[31mERROR\x1b[0m: \x1b[1mbuild failed\x1b[0m"
    segment = Segment(1, ["ok", "2026-04-23T04:08:22.8180462Z " + coloured, "done"])
    found = find_key_lines([segment])
    assert found.texts == ("ERROR: build failed",)
    assert line_score("ERROR: build failed") > 0


def test_repeated_noise_is_weighted_down() -> None:
    noise = [f"WARNING: retrying connection error {i}" for i in range(500)]
    lines = ["$ make", *noise, "src/app.c:10:5: error: expected ';' before '}' token"]
    lines += ['The command "make" exited with 2.']
    found = find_key_lines([Segment(1, lines)])
    assert found.ranges[0].start == 502


def test_weak_section_falls_back_to_the_commands_last_output() -> None:
    lines = ["$ ./lint-docs", "README.md:12:Line longer than 80 characters.", ""]
    lines += ['The command "./lint-docs" exited with 1.']
    found = find_key_lines([Segment(10, lines)])
    assert found.ranges[0].start == 11


@pytest.mark.parametrize("shape", ["travis", "github-actions", "gitlab"])
def test_a_long_finding_list_without_error_words_is_the_key_block_whole(shape: str) -> None:
    # (Cloud Build's helper prints 100 lines of the same step right above the list.)
    text, where = SHAPES[shape](snippets.STANDARD_LINT)
    assert numbers(analyze_text(text).key_lines) == set(range(where.start, where.end + 1))


def test_a_stream_without_a_start_in_sight_keeps_its_last_lines() -> None:
    lines = ["$ ./build-all", *(f"[{n}/900] Building module_{n}" for n in range(1, 900))]
    lines += ['The command "./build-all" exited with 1.']
    found = find_key_lines([Segment(1, lines)])
    assert found.ranges[0].end == 900
    assert found.ranges[0].size == 40


def test_empty_log_has_no_key_lines() -> None:
    assert analyze_text("").key_lines == ()


def _snippet_lines(snippet: str, where_start: int, first: str, last: str) -> set[int]:
    """Line numbers in the log of the snippet's lines from the one containing `first` through
    the one containing `last`."""
    body = snippet.rstrip("\n").split("\n")
    lo = next(i for i, line in enumerate(body) if first in line)
    hi = next(i for i, line in enumerate(body) if last in line)
    return set(range(where_start + lo, where_start + hi + 1))


# A tool's whole failure block: (snippet, text of its first line, text of its last line).
WHOLE_BLOCKS = {
    # Both failing tests with the captured output between them; not the summary repeating them.
    "pytest-report": (snippets.PYTEST_REPORT, "_ test_price_of_two _", "test_shop.py:9: Assert"),
    # The report, not the `... FAIL` progress list above it.
    "unittest": (snippets.UNITTEST_VERBOSE, "FAIL: test_empty", "AssertionError: 3 != 4"),
    # Where the script ran, not the summary report that names it again.
    "prove": (snippets.PROVE, "t/t0001-basic.sh ..", "Failed 1/3 subtests"),
    # A formatter's diff from its file header, with the check's last words.
    "format-diff": (snippets.FORMAT_DIFF, "--- cart.py", "would be reformatted"),
    # A failed .phpt test: its output diff, then its FAIL line.
    "phpt": (snippets.PHPT, "001+ float", "FAIL Addition"),
    # Test::More's diagnostics (got, expected) of every failed test, then prove's verdict.
    "prove-diagnostics": (
        snippets.PROVE_DIAGNOSTICS,
        "Failed test 'adds numbers'",
        "Failed 2/3 subtests",
    ),
    # Under -Werror the warnings are the failure: all of them, through javac's verdict.
    "javac-werror": (snippets.JAVAC_WERROR, "App.java:6: warning", "-Werror specified"),
    # Node's uncaught exception from its `file:line` and source line; the first of two failed
    # scripts, though yarn echoes the second one as `$ node e2e.js` like a CI command line.
    "yarn-scripts": (
        snippets.YARN_SCRIPTS,
        "<anonymous_script>:1",
        "at node:internal/main/run_main_module",
    ),
}


@pytest.mark.parametrize("family", sorted(WHOLE_BLOCKS))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_key_lines_are_the_tools_whole_failure_block(family: str, shape: str) -> None:
    snippet, first, last = WHOLE_BLOCKS[family]
    text, where = SHAPES[shape](snippet)
    got = numbers(analyze_text(text).key_lines)
    assert got == _snippet_lines(snippet, where.start, first, last)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_long_pytest_report_gives_its_first_whole_blocks(shape: str) -> None:
    text, where = SHAPES[shape](snippets.PYTEST_LONG_REPORT)
    report = analyze_text(text)
    got = numbers(report.key_lines)
    chosen = _texts(text, got)
    assert got <= set(range(where.start, where.end + 1))
    assert "_ test_square[0] _" in chosen[0]
    assert any("E       assert ((0 * 0) + 1) == 0" in line for line in chosen)
    assert len(got) <= 150
    assert max(got) - min(got) + 1 == len(got)
    # It stops where a block ends: the next line starts a test or its captured output.
    after = _texts(text, {max(got) + 1})[0]
    assert "_ test_square[" in after or "Captured stdout call" in after
    assert not any("short test summary" in line for line in chosen)
    assert got <= numbers(report.excerpt)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_xcpretty_summary_is_the_key_block_not_the_progress_marks(shape: str) -> None:
    text, where = SHAPES[shape](snippets.XCPRETTY)
    got = numbers(analyze_text(text).key_lines)
    body = snippets.XCPRETTY.rstrip("\n").split("\n")
    suite = where.start + body.index("CartTests", body.index("CartTests") + 1)
    fence = where.start + len(body) - 1 - body[::-1].index("  ```")
    assert got == set(range(suite, fence + 1))
