"""Benchmark the key lines and excerpt on LogChunks, beside crude baselines, and throughput.

    python bench/logchunks.py --data ../shared/datasets/logchunks

Prints Markdown tables: per extractor, line-level precision/recall/F1 of the key lines
against the labelled chunk (averaged over logs; empty output counts as zero), the excerpt's
recall, the share of logs whose whole chunk is inside the excerpt and the mean excerpt size;
then per-category and per-language breakdowns; then throughput and peak memory on a
generated log beside `grep -c`. It never asserts anything about times.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers.excerpt import MAX_LINES as EXCERPT_CAP
from analyzers.extraction import analyze_path
from bench._scoring import KEYWORDS, Ranges, line_set, mean, prf, to_ranges
from buildlens_core.buildlog import split_lines


@dataclass(frozen=True, slots=True)
class Example:
    path: Path
    language: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Output:
    key_lines: Ranges
    excerpt: Ranges
    category: str = ""


@dataclass(slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    excerpt_recall: float
    whole: bool
    excerpt_size: int


def load_examples(data: Path, limit: int | None = None) -> list[Example]:
    spans = data / "derived" / "chunk_line_spans.jsonl"
    if not spans.is_file():
        raise SystemExit(f"{spans} not found: pass --data pointing at the logchunks folder")
    out: list[Example] = []
    with spans.open(encoding="utf-8") as handle:
        for row in map(json.loads, handle):
            path = data / "logs" / f"{row['log']}.gz"
            out.append(Example(path, row["language"], row["start_line"], row["end_line"]))
    out.sort(key=lambda e: str(e.path))
    return out[:limit] if limit else out


def read_lines(path: Path) -> list[str]:
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    return [x.decode("utf-8", "replace") for x in split_lines(raw)]


def _tail(n: int) -> Callable[[Path], Output]:
    def run(path: Path) -> Output:
        total = len(read_lines(path))
        r = [(max(1, total - n + 1), total)] if total else []
        return Output(r, r)

    return run


def _all_keywords(path: Path) -> Output:
    hits = [i for i, text in enumerate(read_lines(path), 1) if KEYWORDS.search(text)]
    r = to_ranges(hits)
    return Output(r, r)


def _first_keyword_in_tail(path: Path) -> Output:
    lines = read_lines(path)
    start = max(1, len(lines) - 99)
    for i in range(start, len(lines) + 1):
        if KEYWORDS.search(lines[i - 1]):
            return Output([(i, i)], [(i, min(len(lines), i + 10))])
    return Output([], [])


def _project(path: Path) -> Output:
    report = analyze_path(path)
    return Output(
        [(r.start, r.end) for r in report.key_lines],
        [(r.start, r.end) for r in report.excerpt],
        report.category,
    )


EXTRACTORS: dict[str, Callable[[Path], Output]] = {
    "buildlens": _project,
    "last 100 lines": _tail(100),
    "last 200 lines": _tail(200),
    "every keyword line": _all_keywords,
    "first keyword line in last 100": _first_keyword_in_tail,
}


def score(example: Example, output: Output) -> Score:
    gold = set(range(example.start, example.end + 1))
    p, r, f1 = prf(gold, line_set(output.key_lines))
    exc = line_set(output.excerpt)
    exc_hit = len(exc & gold)
    return Score(p, r, f1, exc_hit / len(gold), exc_hit == len(gold), len(exc))


def _row(name: str, scores: list[Score]) -> str:
    return (
        f"| {name} | {len(scores)} | {mean([s.precision for s in scores]):.3f} "
        f"| {mean([s.recall for s in scores]):.3f} | {mean([s.f1 for s in scores]):.3f} "
        f"| {mean([s.excerpt_recall for s in scores]):.3f} "
        f"| {100 * mean([float(s.whole) for s in scores]):.1f}% "
        f"| {mean([float(s.excerpt_size) for s in scores]):.1f} |"
    )


HEADER = (
    "| {what} | logs | key P | key R | key F1 | excerpt recall | whole chunk in excerpt "
    "| mean excerpt lines |\n|---|---|---|---|---|---|---|---|"
)


def evaluate(examples: list[Example]) -> dict[str, list[tuple[Example, Output, Score]]]:
    results: dict[str, list[tuple[Example, Output, Score]]] = {}
    for name, run in EXTRACTORS.items():
        rows = []
        for ex in examples:
            out = run(ex.path)
            rows.append((ex, out, score(ex, out)))
        results[name] = rows
    return results


def _category(ex: Example, out: Output) -> str:
    return out.category or "-"


def _language(ex: Example, out: Output) -> str:
    return ex.language


def print_tables(results: dict[str, list[tuple[Example, Output, Score]]]) -> None:
    print("## Key lines and excerpt vs the labelled chunk\n")
    print(HEADER.format(what="extractor"))
    for name, rows in results.items():
        print(_row(name, [s for _, _, s in rows]))
    project = results["buildlens"]
    # A chunk longer than the excerpt's cap cannot be inside it whole: counted apart.
    fits = [s for ex, _, s in project if ex.end - ex.start + 1 <= EXCERPT_CAP]
    longer = len(project) - len(fits)
    print(
        f"\nWhole chunk inside the excerpt, of the {len(fits)} chunks that fit in "
        f"{EXCERPT_CAP} lines: {100 * mean(float(s.whole) for s in fits):.1f}% "
        f"({longer} longer chunks counted apart)"
    )
    keys: tuple[tuple[str, Callable[[Example, Output], str]], ...] = (
        ("category (buildlens classification)", _category),
        ("language", _language),
    )
    for title, key in keys:
        groups: dict[str, list[Score]] = defaultdict(list)
        for ex, out, s in project:
            groups[key(ex, out)].append(s)
        print(f"\n## buildlens by {title}\n")
        print(HEADER.format(what=title.split(" ")[0]))
        for group in sorted(groups):
            print(_row(group, groups[group]))


# A generated log: ordinary build and test output, some warnings and errors that do not
# matter, progress lines with `\r`, and a failure at the end.
_FILLER = (
    "Compiling src/module_{n}/file_{m}.c",
    "  CC       lib/obj_{n}.o",
    "[INFO] Building jar: /workspace/target/app-{n}.jar",
    "test_case_{n}_{m} (tests.test_mod_{m}.TestThing) ... ok",
    "  ✓ renders component {n} ({m}ms)",
    "Downloading https://repo.example.org/pkg/{n}/pkg-{m}.tar.gz",
    "Step {n}/{m} : RUN make -j4",
    "2026-04-23T04:08:22.{n}Z INFO worker {m} processed batch {n}",
    "\x1b[32m.\x1b[0m\x1b[32m.\x1b[0m\x1b[32m.\x1b[0m {n}/{m}",
    "warning: unused variable `x{n}` in src/lib_{m}.rs",
    "    at com.example.Service{n}.call(Service{n}.java:{m})",
    "Retrying request {n} after error 503 (attempt {m})",
    "ok   github.com/example/pkg{n}\t0.{m}s",
    "Progress: {n}%\r",
    "npm WARN deprecated package-{n}@1.{m}.0: use something else",
)
_FAILURE = (
    "=================================== FAILURES ===================================\n"
    "___________________________ test_parse_config ________________________________\n"
    "\n"
    "    def test_parse_config():\n"
    ">       assert parse('a=1') == {'a': 2}\n"
    "E       AssertionError: assert {'a': 1} == {'a': 2}\n"
    "\n"
    "tests/test_config.py:12: AssertionError\n"
    "=========================== short test summary info ============================\n"
    "FAILED tests/test_config.py::test_parse_config - AssertionError: assert {'a': 1}\n"
    "========================= 1 failed, 20000 passed in 812.31s ====================\n"
)


def generate_log(path: Path, size_mb: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    target = size_mb * 1_000_000
    written = 0
    with path.open("wb") as handle:
        while written < target:
            batch = "\n".join(
                rng.choice(_FILLER).format(n=rng.randrange(10_000), m=rng.randrange(1_000))
                for _ in range(20_000)
            )
            data = (batch + "\n").encode()
            handle.write(data)
            written += len(data)
        data = _FAILURE.encode()
        handle.write(data)
        written += len(data)
    return written


_PROBE = """
import resource, sys, time, json
sys.path.insert(0, {root!r})
from pathlib import Path
from analyzers.extraction import analyze_path
from analyzers.excerpt import MAX_LINES as EXCERPT_CAP
from bench._scoring import KEYWORDS, Ranges, line_set, mean, prf, to_ranges
t = time.perf_counter()
r = analyze_path(Path({path!r}))
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:  # VmHWM starts afresh at exec; ru_maxrss can carry the forking parent's peak
    status = open("/proc/self/status").read()
    rss = int(status.split("VmHWM:")[1].split()[0])
except (OSError, IndexError, ValueError):
    pass
key = [[x.start, x.end] for x in r.key_lines]
print(json.dumps({{"seconds": dt, "peak_rss_kb": rss, "key": key, "category": r.category}}))
"""


_PROBE_BASELINE = """
import resource
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    rss = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
except (OSError, IndexError, ValueError):
    pass
print(rss)
"""


def throughput(size_mb: int) -> None:
    root = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.log"
        size = generate_log(path, size_mb)
        baseline = subprocess.run(
            [sys.executable, "-c", _PROBE_BASELINE],
            capture_output=True,
            text=True,
            check=True,
        )
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE.format(root=root, path=str(path))],
            capture_output=True,
            text=True,
            check=True,
        )
        got = json.loads(probe.stdout)
        print(f"\n## Throughput on a generated {size / 1e6:.0f} MB log\n")
        print("| tool | seconds | MB/s | peak RSS |\n|---|---|---|---|")
        mb = size / 1e6
        print(
            f"| buildlens (analyze_path, own process) | {got['seconds']:.2f} "
            f"| {mb / got['seconds']:.1f} | {got['peak_rss_kb'] / 1024:.0f} MB "
            f"(interpreter alone: {int(baseline.stdout) / 1024:.0f} MB) |"
        )
        grep = shutil.which("grep")
        if grep:
            for args in (["-c", "error"], ["-c", "-i", "-E", "error|fail|exception|fatal"]):
                t = time.perf_counter()
                run = subprocess.run([grep, *args, str(path)], capture_output=True, text=True)
                dt = time.perf_counter() - t
                label = ("grep " + " ".join(args)).replace("|", "\\|")
                print(f"| `{label}` ({run.stdout.strip()} lines) | {dt:.2f} | {mb / dt:.1f} | - |")
        print(f"\nkey lines found: {got['key']} ({got['category']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/logchunks"))
    parser.add_argument("--limit", type=int, default=None, help="only the first N logs")
    parser.add_argument("--size-mb", type=int, default=200, help="generated log size")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--misses", type=Path, default=None, help="write per-log scores (JSONL)")
    args = parser.parse_args(argv)
    examples = load_examples(args.data, args.limit)
    results = evaluate(examples)
    print_tables(results)
    if args.misses:
        with args.misses.open("w", encoding="utf-8") as handle:
            for ex, out, s in results["buildlens"]:
                row = {
                    "path": str(ex.path),
                    "gold": [ex.start, ex.end],
                    "key": out.key_lines,
                    "f1": round(s.f1, 3),
                    "whole": s.whole,
                }
                handle.write(json.dumps(row) + "\n")
    if not args.no_throughput:
        throughput(args.size_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
