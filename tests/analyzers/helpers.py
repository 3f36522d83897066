"""Build logs shaped like the ones CI systems write, around a recorded snippet."""

from __future__ import annotations

import random

from analyzers.base import LineRange
from analyzers.extraction import LogReport, analyze_chunks


def filler(n: int, seed: int = 1) -> list[str]:
    """Ordinary build output: nothing in it explains a failure."""
    rng = random.Random(seed)
    shapes = (
        "Collecting package-{n}==1.{m}.0",
        "  Downloading package_{n}-1.{m}.0-py3-none-any.whl (12 kB)",
        "Compiling module_{n} v0.{m}.0",
        "test_case_{n} ... ok",
        "[INFO] Building module {n}/{m}",
    )
    return [rng.choice(shapes).format(n=rng.randrange(999), m=rng.randrange(99)) for _ in range(n)]


def travis_log(
    snippet: str, before: int = 300, command: str = "make test"
) -> tuple[str, LineRange]:
    """A Travis-style log; returns the text and the snippet's line range in it."""
    head = filler(before)
    head.append(f"$ {command}")
    body = snippet.rstrip("\n").split("\n")
    start = len(head) + 1
    tail = ["", f'The command "{command}" exited with 1.', "", "Done. Your build exited with 1."]
    text = "\n".join([*head, *body, *tail]) + "\n"
    return text, LineRange(start, start + len(body) - 1)


def cloudbuild_log(snippet: str, step: int = 1, step_id: str = "test") -> tuple[str, LineRange]:
    """A GCS-style Cloud Build log with the snippet as the output of step `step`."""
    lines = ['starting build "b1"', "", "FETCHSOURCE", "BUILD"]
    for i in range(step):
        lines += [f'Starting Step #{i} - "s{i}"']
        lines += [f'Step #{i} - "s{i}": {text}' for text in filler(50, seed=i)]
        lines += [f'Finished Step #{i} - "s{i}"']
    lines.append(f'Starting Step #{step} - "{step_id}"')
    lines += [f'Step #{step} - "{step_id}": {text}' for text in filler(100, seed=9)]
    body = snippet.rstrip("\n").split("\n")
    start = len(lines) + 1
    lines += [f'Step #{step} - "{step_id}": {text}' for text in body]
    lines += [
        f'Finished Step #{step} - "{step_id}"',
        f'ERROR: build step {step} "python:3.12" failed: step exited with non-zero status: 1',
    ]
    return "\n".join(lines) + "\n", LineRange(start, start + len(body) - 1)


def analyze_text(text: str, chunk: int = 4096) -> LogReport:
    data = text.encode()
    return analyze_chunks([data[i : i + chunk] for i in range(0, len(data), chunk)])


def numbers(ranges: tuple[LineRange, ...] | list[LineRange]) -> set[int]:
    return {n for r in ranges for n in range(r.start, r.end + 1)}
