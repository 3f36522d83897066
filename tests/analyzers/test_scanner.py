"""Streaming: the numbering rule across chunk borders, and bounded memory on a large log."""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Iterator

import pytest

from analyzers.extraction import analyze_chunks
from analyzers.scanner import scan
from buildlens_core.buildlog import split_lines


def _all_lines(data: bytes, chunk: int, **options: int) -> list[tuple[int, str]]:
    result = scan([data[i : i + chunk] for i in range(0, len(data), chunk)], **options)
    return [(s.first + k, text) for s in result.segments for k, text in enumerate(s.lines)]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 4096])
def test_numbering_rule_matches_the_reference_splitter(chunk: int) -> None:
    data = b"a\r\nb\rc\n\r\r\nd\xff\xfe\re\r\r\n\nlast"
    want = [(i, raw.decode("utf-8", "replace")) for i, raw in enumerate(split_lines(data), 1)]
    assert _all_lines(data, chunk) == want
    assert scan([data]).total_lines == len(want)


def test_random_logs_match_the_reference_splitter() -> None:
    rng = random.Random(3)
    for _ in range(200):
        data = bytes(rng.choice(b"ab\r\n ") for _ in range(rng.randrange(0, 300)))
        want = [r.decode() for r in split_lines(data)]
        chunk = rng.randrange(1, 9)
        got = _all_lines(data, chunk, block_bytes=16, tail_bytes=64)
        assert all(want[n - 1] == text for n, text in got)
        assert scan([data[i : i + chunk] for i in range(0, len(data), chunk)]).total_lines == len(
            want
        )
        if want:
            assert got[-1][0] == len(want)


def test_early_hot_spots_survive_past_the_tail() -> None:
    lines = [f"info line {i}" for i in range(20_000)]
    lines[100] = "Traceback (most recent call last):"
    lines[101] = '  File "app.py", line 3, in <module>'
    lines[102] = "ValueError: bad config value"
    data = ("\n".join(lines) + "\n").encode()
    result = scan(
        [data[i : i + 8192] for i in range(0, len(data), 8192)],
        tail_bytes=50_000,
        block_bytes=20_000,
    )
    kept = {s.first + k for s in result.segments for k in range(len(s.lines))}
    assert {101, 102, 103} <= kept
    assert len(kept) < 10_000
    assert result.total_lines == 20_000


def _big_log(total_mb: int) -> Iterator[bytes]:
    rng = random.Random(5)
    line = "compiling module {} ... ok, cache hit {}\n"
    block = "".join(line.format(i, rng.randrange(99)) for i in range(20_000)).encode()
    for _ in range(total_mb * 1_000_000 // len(block)):
        yield block
    yield b"src/app.c:10:5: error: expected ';' before '}' token\n"
    yield b"make: *** [Makefile:12: app.o] Error 1\n"


def test_large_log_in_bounded_memory() -> None:
    tracemalloc.start()
    try:
        report = analyze_chunks(_big_log(120))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.total_lines > 2_000_000
    assert peak < 80_000_000, f"peak {peak / 1e6:.0f} MB for a 120 MB log"
    assert report.key_lines[0].start == report.total_lines - 1


def test_over_long_line_is_cut_not_held() -> None:
    data = b"start\n" + b"x" * 5_000_000 + b"\nerror: after the long line\n"
    result = scan([data[i : i + 65536] for i in range(0, len(data), 65536)])
    assert result.total_lines == 3
    texts = [t for s in result.segments for t in s.lines]
    assert len(texts[1]) == 1 << 16
    assert texts[2] == "error: after the long line"
