"""Benchmark: redaction of the excerpts reports show, beside the cost of only copying them.

    python -m bench.redaction

Every real and composed case of the Cloud Build corpus gives its excerpt (at most 150 lines,
as the excerpt analyzer chooses them), and one more excerpt is the planted-secrets corpus of
the tests. Each is redacted many times; the table gives the median and p95 per excerpt, beside
the baseline measured in the same run: splitting and joining the same lines without redacting.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers.extraction import analyze_chunks
from analyzers.llm.redact import Redactor
from bench.cloudbuild import load_cases
from notifier.buildlog import split_lines

REPEAT = 50


def excerpts() -> list[list[str]]:
    out: list[list[str]] = []
    for case in load_cases():
        lines = [x.decode("utf-8", "replace") for x in split_lines(case.log)]
        report = analyze_chunks([case.log])
        out.append([lines[n - 1] for r in report.excerpt for n in range(r.start, r.end + 1)])
    return out


def _times(run: object, excerpt: list[str]) -> list[float]:
    found = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run(excerpt)  # type: ignore[operator]
        found.append((time.perf_counter() - started) * 1000)
    return found


def main() -> int:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
