from __future__ import annotations

import random
from itertools import pairwise

import pytest

from buildlens_core.buildlog import (
    LogAccumulator,
    build_log_from_bytes,
    iter_lines,
    parse_step_label,
    split_lines,
    split_lines_cr,
)


def chunked(data: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(len(data) + 1), k=min(4, len(data) + 1)))
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(edges)]


def test_numbering_rule() -> None:
    assert split_lines(b"a\nb\r\nc\rd") == [b"a", b"b", b"c", b"d"]
    assert split_lines(b"a\n\n") == [b"a", b""]
    assert split_lines(b"\r\n\r") == [b"", b""]
    assert split_lines(b"") == []


def test_streaming_split_and_count_agree_with_whole_split() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        data = bytes(rng.choice(b"ab\r\n") for _ in range(rng.randint(0, 50)))
        chunks = chunked(data, rng)
        assert list(iter_lines(chunks)) == split_lines(data)
        assert [line for line, _ in split_lines_cr(data)] == split_lines(data)
        acc = LogAccumulator(1024)
        for chunk in chunks:
            acc.feed(chunk)
        assert acc.total_lines() == len(split_lines(data))


def test_over_limit_log_keeps_head_and_tail_with_original_numbers() -> None:
    lines = [f'Step #0 - "build": line {i}'.encode() for i in range(1, 50_001)]
    data = b"\r\n".join(lines) + b"\n"
    log = build_log_from_bytes([data[i : i + 4096] for i in range(0, len(data), 4096)],
                               max_bytes=64 * 1024)  # fmt: skip
    assert log.total_lines == 50_000
    assert log.cut is not None
    assert log.lines[0].text == "line 1"
    assert log.lines[-1].number == 50_000
    assert log.lines[-1].text == "line 50000"
    for line in log.lines:
        assert line.text == f"line {line.number}"
    numbers = [x.number for x in log.lines]
    head = [n for n in numbers if n < log.cut.first]
    tail = [n for n in numbers if n > log.cut.last]
    assert head == list(range(1, log.cut.first))
    assert tail == list(range(log.cut.last + 1, 50_001))
    assert sum(len(x) + 2 for x in lines) - log.cut.bytes <= 64 * 1024 + 200


def test_single_huge_line_is_bounded() -> None:
    data = b"x" * (3 << 20)
    log = build_log_from_bytes([data[i : i + 65536] for i in range(0, len(data), 65536)],
                               max_bytes=256 * 1024)  # fmt: skip
    assert log.total_lines == 1
    assert len(log.lines) == 1
    assert len(log.lines[0].text) < 10_000


def test_steps_are_attributed_from_prefixes() -> None:
    data = b'BUILD\nStep #0 - "install": ok\nStep #1: no id\nERROR\n'
    log = build_log_from_bytes([data], max_bytes=4096)
    assert [(x.number, x.step, x.text) for x in log.lines] == [
        (1, None, "BUILD"), (2, 0, "ok"), (3, 1, "no id"), (4, None, "ERROR"),
    ]  # fmt: skip
    assert log.step_ids == {0: "install"}


@pytest.mark.parametrize(
    ("label", "expected"),
    [('Step #3 - "deploy"', (3, "deploy")), ("Step #2", (2, "")), ("MAIN", (None, ""))],
)
def test_step_labels(label: str, expected: tuple[int | None, str]) -> None:
    assert parse_step_label(label) == expected


def test_invalid_utf8_and_nul_bytes_are_kept_readable() -> None:
    log = build_log_from_bytes([b"ok\xff\xfe\x00end\n"], max_bytes=4096)
    assert log.lines[0].text == "ok\ufffd\ufffd\x00end"


def test_progress_updates_after_a_lone_cr_stay_in_their_step() -> None:
    data = b'Step #1 - "load": 10%\r20%\r30%\nERROR\n'
    log = build_log_from_bytes([data], max_bytes=4096)
    assert [(x.step, x.text) for x in log.lines] == [
        (1, "10%"), (1, "20%"), (1, "30%"), (None, "ERROR"),
    ]  # fmt: skip
