"""Passing-build signatures: the filter, the masked forms, and the key-line discount."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers.extraction import analyze_chunks, read_passing
from analyzers.keylines import Segment, find_key_lines
from analyzers.masking import normalize
from analyzers.signature import (
    MAX_STEP_BYTES,
    LineFilter,
    PassingLines,
    Signature,
    SignatureError,
    line_form,
    signature_of,
)
from buildlens_core.noise import clean
from tests.conftest import FIXTURES

PAIR = (FIXTURES / "real-lane-passing" / "log.txt", FIXTURES / "real-lane-failing" / "log.txt")

_TEXT = st.text(alphabet=string.printable + "äé→", max_size=120)


@settings(max_examples=200, deadline=None)
@given(st.sets(_TEXT, max_size=300), st.lists(_TEXT, max_size=50))
def test_a_filter_finds_every_line_added_even_folded(added: set[str], others: list[str]) -> None:
    found = LineFilter.sized_for(len(added))
    for form in added:
        found.add(form)
    assert all(form in found for form in added)
    found.fold()
    assert all(form in found for form in added)
    assert len(found.bits) & (len(found.bits) - 1) == 0


def test_filter_sizes_are_powers_of_two_capped_and_about_one_percent_wrong() -> None:
    small = LineFilter.sized_for(10)
    big = LineFilter.sized_for(10**6)
    assert len(small.bits) == 16 and len(big.bits) == MAX_STEP_BYTES
    forms = [f"line {i} of the passing build" for i in range(5000)]
    found = LineFilter.sized_for(len(forms))
    for form in forms:
        found.add(form)
    misses = [f"another line {i}" for i in range(20000)]
    rate = sum(form in found for form in misses) / len(misses)
    assert rate < 0.02  # sized for 1%
    assert found.false_positive_rate() < 0.02


def test_bit_positions_never_change() -> None:
    # Signatures stored by an earlier version must still answer for the same lines.
    found = LineFilter(bytearray(16))
    found.add("npm ERR! code ELIFECYCLE")
    found.add("Step <n>/<n> : RUN make")
    assert found.encode() == "AQgABAARCAAAIgAAQAQAAA=="


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.lists(st.sampled_from(string.digits), min_size=1, max_size=1))
def test_masking_treats_every_digit_alike(text: str, digit: list[str]) -> None:
    # The signature caches forms by the line with its digits masked: sound only if so.
    other = "".join(digit[0] if c.isdigit() and c.isascii() else c for c in text)
    assert normalize(clean(text)) == normalize(clean(other))


def test_forms_ignore_step_prefixes_timestamps_and_ids() -> None:
    a = 'Step #2 - "test": 2026-11-20T10:00:01Z Pulling 3f2a9c1d: retry 1 after 120ms'
    b = "2026-11-21T11:30:59Z Pulling 9e8d7c6b: retry 2 after 80ms"
    assert line_form(a) == line_form(b) != ""
    assert line_form("\x1b[31m\x1b[0m") == ""


def test_signature_round_trips_and_rejects_corrupt_documents() -> None:
    sig = signature_of([(0, "npm WARN deprecated x@1"), (1, "ok"), (None, "BUILD")])
    back = Signature.from_doc(sig.to_doc())
    assert set(back.steps) == {"0", "1", ""}
    assert PassingLines([back]).knows(0, "npm WARN deprecated x@2")
    bad_docs = (
        "x",
        [["0", 1, "AAAA"]],
        [{"step": "0", "count": 1}],
        [{"step": "0", "count": 1, "bits": "not base64!"}],
        [{"step": "0", "count": 1, "bits": "AAAA"}],  # 3 bytes: not a filter size
    )
    for bad in bad_docs:
        with pytest.raises(SignatureError):
            Signature.from_doc(bad)


def test_lines_are_known_per_step_and_a_plain_log_stands_for_every_step() -> None:
    stepped = PassingLines([signature_of([(1, "warning: x is deprecated")])])
    assert stepped.knows(1, "warning: x is deprecated")
    assert not stepped.knows(2, "warning: x is deprecated")
    plain = PassingLines([signature_of([(None, "warning: x is deprecated")])])
    assert plain.knows(2, "warning: x is deprecated")


def _word(i: int) -> str:
    """A distinct name per number, without digits or hex letters (masking keeps it)."""
    return "".join(chr(ord("g") + (i // 20**k) % 20) for k in range(4))


def test_shrinking_a_build_of_hundreds_of_steps_keeps_every_line() -> None:
    lines = [(step, f"compiled {_word(step * 300 + i)}") for step in range(400) for i in range(300)]
    sig = signature_of(lines)
    before = sig.size_bytes
    sig.shrink_to(64 << 10)
    assert sig.size_bytes <= 64 << 10 < before
    known = PassingLines([sig])
    assert all(known.knows(s, text) for s, text in lines[::97])


def test_novelty_counts_the_failing_steps_new_lines() -> None:
    known = PassingLines([signature_of([(1, "Already have image: alpine"), (1, "bar")])])
    got = known.novelty(1, ["Already have image: alpine", "cat: can't open 'x'", ""])
    assert (got.lines, got.new) == (2, 1)


def test_known_noise_leaves_the_key_lines() -> None:
    # A standing error-looking line above the real failure: without passing builds it opens
    # the key block; with them it (and the count line every run prints) is set aside.
    lines = [
        "$ npm test",
        "Error: connect ECONNREFUSED 127.0.0.1:6379 (redis cache disabled)",
        "  12 passing",
        "  1 failing",
        "  1) parser rejects empty input:",
        "     AssertionError: expected [Function] to throw an error",
        'The command "npm test" exited with 1.',
    ]
    plain = find_key_lines([Segment(1, lines)])
    passing = PassingLines([signature_of([(None, lines[1]), (None, "  13 passing")])])
    learned = find_key_lines([Segment(1, lines)], passing=passing)
    assert [(r.start, r.end) for r in plain.ranges] == [(2, 6)]
    assert [(r.start, r.end) for r in learned.ranges] == [(4, 6)]
    assert learned.known == 1  # error-looking lines discounted: the redis one


def test_the_real_pair_counts_one_new_line_in_the_failing_step() -> None:
    passing = read_passing([PAIR[0]])
    report = analyze_chunks([PAIR[1].read_bytes()], passing)
    assert [(r.start, r.end) for r in report.key_lines] == [(26, 26)]
    got = passing.novelty(1, ["Already have image: alpine", "cat: can't open 'child/stuff/foo'"])
    assert (got.lines, got.new) == (2, 1)


def test_what_every_build_prints_at_the_end_is_set_aside() -> None:
    # A link checker's report (the shape of awesome_bot's): its last lines are printed by
    # every build; what this one said that the passing build did not is the failure.
    lines = [
        "$ ./scripts/check-links.sh",
        "Checking 412 links",
        "> Redirects:",
        "  1. 301 http://docs.example.org/ → https://docs.example.org/",
        "> Links ",
        "  1. [L0153] 404 https://cdn.example.com/shot.png  ",
        "  2. [L0239] 522 http://games.example.net/cover.jpg  ",
        "> Dupes ",
        "  None ✓",
        "Wrote results to ab-results.json",
        'The command "./scripts/check-links.sh" exited with 1.',
    ]
    printed = [*lines[:5], *lines[7:10]]
    passing = PassingLines([signature_of((None, text) for text in printed)])
    assert find_key_lines([Segment(1, lines)]).ranges[0].start >= 9
    learned = find_key_lines([Segment(1, lines)], passing=passing)
    assert [(r.start, r.end) for r in learned.ranges] == [(6, 7)]


def test_the_fingerprint_does_not_depend_on_the_passing_builds() -> None:
    # The key block is trimmed by what passing builds printed; the failure's identity is not.
    lines = [
        "$ npm test",
        "Error: connect ECONNREFUSED 127.0.0.1:6379 (redis cache disabled)",
        "  12 passing",
        "  1 failing",
        "  1) parser rejects empty input:",
        "     AssertionError: expected [Function] to throw an error",
        'The command "npm test" exited with 1.',
    ]
    data = ("\n".join(lines) + "\n").encode()
    passing = PassingLines([signature_of([(None, lines[1]), (None, "  13 passing")])])
    plain, learned = analyze_chunks([data]), analyze_chunks([data], passing)
    assert plain.key_lines != learned.key_lines
    assert plain.fingerprint == learned.fingerprint != ""
