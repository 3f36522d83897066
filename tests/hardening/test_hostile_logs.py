"""Hostile logs through the whole pipeline (replay CLI): each gives a report, in bounded
memory (measured) and bounded time (the per-test timeout)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from tests.conftest import FIXTURES
from tests.procs import ROOT

pytestmark = pytest.mark.slow

MEASURE = """
import json, resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
print(json.dumps({"rc": result.returncode, "out": result.stdout, "err": result.stderr,
                  "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""
MIB = 1 << 20


def repeat(fh: BinaryIO, line: bytes, total: int) -> None:
    block = line * max(1, MIB // len(line))
    written = 0
    while written < total:
        fh.write(block)
        written += len(block)


def binary(fh: BinaryIO) -> None:
    fh.write(bytes(range(256)) * 40_000)


def invalid_utf8(fh: BinaryIO) -> None:
    repeat(fh, b"caf\xe9 \xc3\x28 \xf0\x28\x8c\x28 error: bad \xff\xfe\n", 20 * MIB)


def one_huge_line(fh: BinaryIO) -> None:
    repeat(fh, b"x" * 4096, 500 * MIB)  # 500 MB and not a single line break


def a_million_identical_lines(fh: BinaryIO) -> None:
    for _ in range(1_000_000):
        fh.write(b'Step #1 - "unit-tests": ERROR: connection refused, retrying\n')


def nested_ansi(fh: BinaryIO) -> None:
    repeat(
        fh, b"\x1b[1m\x1b[31m" * 200 + b"\x1b]8;;http://x\x07error\x1b[0m" * 50 + b"\n", 20 * MIB
    )


def nul_bytes(fh: BinaryIO) -> None:
    repeat(fh, b"\x00" * 100 + b"FAILED test_x\x00\x00 - assert\n", 20 * MIB)


def bidi_and_zero_width(fh: BinaryIO) -> None:
    line = "Error: \u202efile.txt\u202c \u200b\u200d\ufeff denied \u05e9\u05dc\u05d5\u05dd\n"
    repeat(fh, line.encode(), 20 * MIB)


CASES: dict[str, Callable[[BinaryIO], None]] = {
    "binary": binary,
    "invalid-utf8": invalid_utf8,
    "one-500MB-line": one_huge_line,
    "million-identical-lines": a_million_identical_lines,
    "nested-ansi": nested_ansi,
    "nul-bytes": nul_bytes,
    "bidi-and-zero-width": bidi_and_zero_width,
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_log_gives_a_report_in_bounded_memory(name: str, tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    with log.open("wb") as fh:
        CASES[name](fh)
    build = FIXTURES / "pytest-failure" / "build.json"
    replay = [sys.executable, "-m", "notifier", "replay", str(build), str(log), "--format", "json"]
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, *replay],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=True,
    )  # fmt: skip
    result = json.loads(measured.stdout)
    log.unlink()
    assert result["rc"] == 0, result["err"][-2000:]
    report = json.loads(result["out"])
    assert report["build"]["status"] == "FAILURE"
    assert report["failing_step"]["step_id"] == "unit-tests"
    assert all(len(line["text"]) <= 5000 for line in report["excerpt"])
    assert len(report["excerpt"]) <= 150
    assert result["peak_mib"] < 400, f"peak RSS {result['peak_mib']:.0f} MiB"
