"""Benchmark: redaction of the excerpts reports show, beside the cost of only copying them.

    python -m bench.redaction

Every real and composed case of the Cloud Build corpus gives its excerpt (at most 150 lines,
as the excerpt analyzer chooses them), and one more excerpt is the planted-secrets corpus of
the tests. Each is redacted many times; the table gives the median and p95 per excerpt, beside
the baseline measured in the same run: splitting and joining the same lines without redacting.

A second table counts what the redactor marks in real logs, by rule, over their distinct
lines as reports show them: the Cloud Build corpus, and the LogChunks dev set when `--data`
points at it. None of these logs holds a planted secret; a marked line is a real credential
or a line the redactor cut for nothing (read them with `--show RULE`).

A third table compares the detector with detect-secrets (Yelp's scanner, default plugins, as
`detect-secrets scan` runs them) on the planted-secrets corpus of the tests: secrets caught,
ordinary lines flagged, and the time to scan it (a finding anywhere on a secret's line counts
as catching it).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers.extraction import analyze_chunks
from bench.cloudbuild import load_cases
from bench.logchunks import load_examples, read_lines
from buildlens_core.buildlog import split_lines
from buildlens_core.redact import Redactor
from notifier.report import display_text
from tests.analyzers.llm.corpus import CUSTOM_PATTERN, ordinary_lines, planted_lines

REPEAT = 50


def excerpts() -> list[list[str]]:
    out: list[list[str]] = []
    for case in load_cases():
        lines = [x.decode("utf-8", "replace") for x in split_lines(case.log)]
        report = analyze_chunks([case.log])
        out.append([lines[n - 1] for r in report.excerpt for n in range(r.start, r.end + 1)])
    return out


def _times(run: object, excerpt: list[str], repeat: int = REPEAT) -> list[float]:
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        run(excerpt)  # type: ignore[operator]
        found.append((time.perf_counter() - started) * 1000)
    return found


def print_hostile_line() -> None:
    """One huge line full of what context rules look around (`-p` flags, `key:` settings):
    the cost per match must not grow with the line."""
    print("\n## One long line, many matches (median of 5 runs)\n")
    print("| line | redact ms | baseline: split and join only, ms |\n|---|---|---|")
    for label, unit in ((" -p", " -p abcdefgh1 "), (" key:", " key: 8.68 ms ")):
        for count in (2000, 8000):
            line = [("x" * 50 + unit) * count]
            redact = statistics.median(_times(Redactor().redact_lines, line, 5))
            base = statistics.median(_times(lambda x: "\n".join(x).split("\n"), line, 5))
            size = len(line[0]) // 1000
            print(f"| {size} kB, {count} `{label.strip()}` | {redact:.1f} | {base:.2f} |")


_MARKER = re.compile(r"\[REDACTED:([\w-]+)\]")


def real_lines(data: Path) -> dict[str, set[str]]:
    """Distinct lines as reports show them, per log set."""
    sets = {
        "Cloud Build corpus": {
            display_text(raw.decode("utf-8", "replace"))
            for case in load_cases()
            for raw in split_lines(case.log)
        }
    }
    if data.is_dir():
        sets["LogChunks dev set"] = {
            display_text(line) for ex in load_examples(data) for line in read_lines(ex.path)
        }
    return sets


def print_real_lines(data: Path, show: str | None) -> None:
    print("\n## Lines the redactor marks in real logs (distinct lines, as reports show them)\n")
    print("| log set | distinct lines | lines marked | by rule (lines) |\n|---|---|---|---|")
    redactor = Redactor()
    shown: list[str] = []
    for name, lines in real_lines(data).items():
        marked = 0
        rules: Counter[str] = Counter()
        ordered = sorted(lines)
        for line, out in zip(ordered, redactor.redact_lines(ordered), strict=True):
            kinds = set(_MARKER.findall(out))
            marked += bool(kinds)
            rules.update(kinds)
            if show in kinds:
                shown.append(f"{line!r}\n  -> {out!r}")
        by_rule = ", ".join(f"{k} {n}" for k, n in rules.most_common()) or "-"
        print(f"| {name} | {len(lines)} | {marked} | {by_rule} |")
    if not data.is_dir():
        print(f"\n(LogChunks dev set not found at {data}: pass --data to count it too)")
    for text in shown:
        print(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/logchunks"))
    parser.add_argument("--show", metavar="RULE", help="print the real lines RULE marked")
    args = parser.parse_args(argv)
    samples = excerpts()
    redactor = Redactor()
    rows = {
        "redact (Redactor.redact_lines)": redactor.redact_lines,
        "baseline: split and join only": lambda lines: "\n".join(lines).split("\n"),
    }
    sizes = [len(s) for s in samples]
    print(
        f"## Redaction of {len(samples)} report excerpts (lines: mean {statistics.mean(sizes):.0f},"
        f" max {max(sizes)}), {REPEAT} runs each\n"
    )
    print("| what | median ms per excerpt | p95 ms | max ms |\n|---|---|---|---|")
    for name, run in rows.items():
        per = [statistics.median(_times(run, s)) for s in samples]
        per.sort()
        p95 = per[int(0.95 * (len(per) - 1))]
        print(f"| {name} | {statistics.median(per):.3f} | {p95:.3f} | {per[-1]:.3f} |")
    longest = max(samples, key=len)
    padded = (longest * (150 // max(1, len(longest)) + 1))[:150]
    t = statistics.median(_times(redactor.redact_lines, padded))
    print(f"\nA 150-line excerpt (the longest one, repeated to 150 lines): {t:.3f} ms median")
    print(f"Markers written: {sum(redactor.counts.values())} ({dict(redactor.counts)})")
    print_hostile_line()
    print_real_lines(args.data, args.show)
    compare_detectors()
    return 0


def _detect_secrets(lines: list[str]) -> list[tuple[int, str]] | None:
    """(0-based line, value) of what detect-secrets finds, or None when it is not installed."""
    try:
        from detect_secrets import SecretsCollection
        from detect_secrets.settings import default_settings
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "excerpt.log"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with default_settings():
            found = SecretsCollection()
            found.scan_file(str(path))
    return [(s.line_number - 1, str(s.secret_value)) for _, s in found]


def compare_detectors() -> None:
    planted, secrets = planted_lines()
    ordinary = ordinary_lines()
    lines = planted + ordinary
    where = [next(i for i, line in enumerate(planted) if s in line) for s in secrets]
    redactor = Redactor([CUSTOM_PATTERN])
    print(
        f"\n## Detectors on the planted corpus ({len(secrets)} fake secrets on {len(planted)} "
        f"lines, {len(ordinary)} ordinary lines)\n"
    )
    print("| detector | secrets caught | ordinary lines flagged | ms per scan (median of 5) |")
    print("|---|---|---|---|")
    out = redactor.redact_lines(lines)
    caught = sum(s not in out[i] for s, i in zip(secrets, where, strict=True))
    flagged = sum(a != b for a, b in zip(ordinary, out[len(planted) :], strict=True))
    ms = statistics.median(_times(redactor.redact_lines, lines)[:5])
    print(f"| buildlens Redactor | {caught}/{len(secrets)} | {flagged} | {ms:.2f} |")
    started = time.perf_counter()
    found = _detect_secrets(lines)
    if found is None:
        print("| detect-secrets | not installed (`pip install detect-secrets`) | | |")
        return
    runs = [(time.perf_counter() - started) * 1000]
    for _ in range(4):
        started = time.perf_counter()
        _detect_secrets(lines)
        runs.append((time.perf_counter() - started) * 1000)

    # Generous to detect-secrets: any finding on a secret's line counts as catching it (some
    # plugins report only a token's prefix as its value, which could not redact it).
    caught = sum(any(n == i for n, _ in found) for i in where)
    flagged = len({n for n, _ in found if n >= len(planted)})
    ms = statistics.median(runs)
    print(f"| detect-secrets (default plugins) | {caught}/{len(secrets)} | {flagged} | {ms:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
