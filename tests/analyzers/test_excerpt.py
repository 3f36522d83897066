"""Excerpt: key lines with context, the failing section's end, bounded and in log order."""

from __future__ import annotations

import itertools

from analyzers.base import LineRange
from analyzers.excerpt import build_excerpt
from analyzers.keylines import KeyLines
from tests.analyzers import snippets
from tests.analyzers.helpers import analyze_text, numbers, travis_log


def _found(ranges: list[LineRange], last: int = 10_000) -> KeyLines:
    return KeyLines(tuple(ranges), (), LineRange(9_000, 9_990), last, (LineRange(100, 120),))


def test_contains_key_lines_context_and_section_end() -> None:
    got = build_excerpt(_found([LineRange(500, 505)]))
    lines = numbers(got)
    assert set(range(495, 531)) <= lines  # 5 before, 25 after
    assert set(range(9_979, 9_991)) <= lines  # the section's last lines
    assert got == sorted(got)
    assert all(a.end + 1 < b.start for a, b in itertools.pairwise(got))  # merged


def test_the_first_runner_up_is_shown_whole_and_near_ranges_are_joined() -> None:
    found = KeyLines(
        (LineRange(500, 505),), (), None, 10_000, (LineRange(100, 120), (LineRange(7_000, 7_030)))
    )
    lines = numbers(build_excerpt(found))
    assert set(range(97, 131)) <= lines  # its block, 3 before and 10 after
    assert set(range(6_997, 7_034)) <= lines and 6_990 not in lines  # later ones: 3 around
    near = KeyLines((LineRange(500, 505), LineRange(545, 550)), (), None, 10_000)
    assert set(range(495, 576)) <= numbers(build_excerpt(near))  # the 14-line gap is bridged


def test_a_key_block_that_fits_keeps_every_line_and_gives_up_context() -> None:
    got = build_excerpt(_found([LineRange(1_000, 1_145)]))
    assert set(range(1_000, 1_146)) <= numbers(got)
    assert sum(r.size for r in got) <= 150


def test_room_left_fills_the_gap_between_the_key_lines_and_a_block_a_screen_away() -> None:
    near = KeyLines((LineRange(500, 505),), (), None, 10_000, (LineRange(580, 590),))
    assert set(range(495, 601)) <= numbers(build_excerpt(near))  # a 46-line gap is filled
    far = KeyLines((LineRange(500, 505),), (), None, 10_000, (LineRange(700, 710),))
    lines = numbers(build_excerpt(far))
    assert 600 not in lines and {530, 697} <= lines  # a 166-line gap is not


def test_never_more_than_150_lines() -> None:
    got = build_excerpt(_found([LineRange(10, 400), LineRange(600, 900)]))
    assert sum(r.size for r in got) <= 150
    assert got[0].start <= 10 <= got[0].end  # the start of the first key block is kept


def test_clipped_to_the_log() -> None:
    got = build_excerpt(_found([LineRange(1, 2)], last=5))
    assert got == [LineRange(1, 5)]


def test_whole_log_analysis_keeps_the_failure_in_the_excerpt() -> None:
    text, where = travis_log(snippets.CARGO, before=5_000)
    report = analyze_text(text)
    assert set(range(where.start, where.end + 1)) <= numbers(report.excerpt)
    assert sum(r.size for r in report.excerpt) <= 150
