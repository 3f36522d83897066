"""Fingerprints: equal for the same failure across builds, different for different ones."""

from __future__ import annotations

from analyzers.fingerprint import fingerprint
from analyzers.masking import normalize
from tests.analyzers import snippets
from tests.analyzers.helpers import analyze_text, cloudbuild_log, travis_log


def test_masks_what_changes_between_runs() -> None:
    a = normalize(
        "2026-04-23T04:08:22.8180462Z worker 12 at 0x7f1b461f0a90 took 812.31s "
        "in /tmp/pytest-of-root/pytest-7/x.txt id 3f2a9c1b7d4e "
        "req 123e4567-e89b-12d3-a456-426614174000"
    )
    assert a == "<time> worker <n> at <addr> took <dur> in <tmp> id <hex> req <uuid>"


def test_keeps_test_and_file_names() -> None:
    norm = normalize("FAILED tests/test_config.py::test_parse_config - AssertionError")
    assert "tests/test_config.py::test_parse_config" in norm
    assert "src/main.rs:<n>:<n>" in normalize(" --> src/main.rs:3:20")


def test_same_failure_in_two_builds_matches() -> None:
    one = snippets.MAVEN_SUREFIRE
    two = one.replace("0.05 s", "0.31 s").replace("0.01 s", "0.02 s").replace("<-1>", "<-7>")
    a = analyze_text(travis_log(one, before=200)[0]).fingerprint
    b = analyze_text(travis_log(two, before=900)[0]).fingerprint
    assert a and a == b


def test_same_failure_through_cloud_build_and_temp_paths() -> None:
    one = snippets.PYTHON_TRACEBACK
    two = one.replace("/tmp/rec/t.py", "/tmp/tmpab12cd/t.py")
    a = analyze_text(cloudbuild_log(one)[0]).fingerprint
    b = analyze_text(cloudbuild_log(two, step=3)[0]).fingerprint
    assert a == b


def test_different_failures_differ() -> None:
    prints = {
        analyze_text(travis_log(s)[0]).fingerprint
        for s in (
            snippets.PYTEST,
            snippets.JAVAC,
            snippets.GCC,
            snippets.CARGO,
            snippets.GO_TEST,
            snippets.PIP,
            snippets.NPM_404,
            snippets.PYTHON_TRACEBACK,
        )
    }
    assert len(prints) == 8
    renamed = snippets.GO_TEST.replace("TestAdd", "TestSub")
    assert analyze_text(travis_log(renamed)[0]).fingerprint not in prints


def test_empty_input_has_no_fingerprint() -> None:
    assert fingerprint([]) == ("", "")
