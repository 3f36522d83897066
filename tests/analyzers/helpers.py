"""Build logs shaped like the ones CI systems write, around a recorded snippet."""

from __future__ import annotations

import random
from collections.abc import Callable

from analyzers.base import LineRange
from analyzers.extraction import LogReport, analyze_chunks
from bench.compose import LAYOUTS, Spec


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


def github_actions_log(snippet: str, command: str = "make test") -> tuple[str, LineRange]:
    """A GitHub Actions job log: every line timestamped, the step in a group, `##[error]` last."""

    def stamp(i: int, text: str) -> str:
        return f"2026-04-23T04:08:{i % 60:02d}.8180462Z {text}"

    lines = [stamp(i, text) for i, text in enumerate(filler(200, seed=3))]
    lines += [stamp(0, f"##[group]Run {command}"), stamp(0, command), stamp(0, "##[endgroup]")]
    body = snippet.rstrip("\n").split("\n")
    start = len(lines) + 1
    lines += [stamp(i, text) for i, text in enumerate(body)]
    lines.append(stamp(0, "##[error]Process completed with exit code 1."))
    return "\n".join(lines) + "\n", LineRange(start, start + len(body) - 1)


def gitlab_log(snippet: str, command: str = "make test") -> tuple[str, LineRange]:
    """A GitLab CI job log: ANSI section markers, `$ command`, then `ERROR: Job failed`."""
    lines = ["\x1b[0KRunning with gitlab-runner 17.5.0 (1a2b3c4d)\x1b[0;m"]
    lines += filler(150, seed=4)
    lines.append(
        "section_start:1732700000:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting step\x1b[0;m"
    )
    lines.append(f"\x1b[32;1m$ {command}\x1b[0;m")
    body = snippet.rstrip("\n").split("\n")
    start = sum(1 + line.count("\r") for line in lines) + 1  # a lone `\r` ends a line too
    lines += body
    lines.append("section_end:1732700042:step_script\r\x1b[0K")
    lines.append("\x1b[31;1mERROR: Job failed: exit code 1\x1b[0;m")
    return "\n".join(lines) + "\n", LineRange(start, start + len(body) - 1)


def image_build_log(shape: str) -> Callable[[str], tuple[str, LineRange]]:
    """A Cloud Build log whose step builds an image and the snippet is the output of the
    failing Dockerfile RUN (`docker`, `buildkit`, `kaniko`) or buildpack build, laid out as
    bench/compose.py lays out the real corpus's composed cases."""

    def make(snippet: str) -> tuple[str, LineRange]:
        body = snippet.rstrip("\n").split("\n")
        lines, first = LAYOUTS[shape](Spec(f"test-{shape}", shape, "make test", "debian:12", body))
        return "\n".join(lines) + "\n", LineRange(first + 1, first + len(body))

    return make


def analyze_text(text: str, chunk: int = 4096) -> LogReport:
    data = text.encode()
    return analyze_chunks([data[i : i + chunk] for i in range(0, len(data), chunk)])


def numbers(ranges: tuple[LineRange, ...] | list[LineRange]) -> set[int]:
    return {n for r in ranges for n in range(r.start, r.end + 1)}
