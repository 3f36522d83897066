"""Benchmark learning from passing builds: key lines with and without remembered lines.

    python -m bench.passing                      # LogChunks dev set and the Cloud Build corpus
    python -m bench.passing --keep 3 --limit 100

No data set holds passing logs, so a stand-in plays them: for a log, the other logs of the
same repository, with their labelled lines removed (wherever printed), are its trigger's
passing builds (the `--keep` builds nearest before it by build id, then after it).
Repositories are split tune/check by the hash `bench.cloudbuild` uses; the check rows were
not looked at while tuning `KNOWN_SHARE`. Then the cost per passing build: signature time
per MB beside reading the log, and bytes stored per step. Nothing here asserts times or scores.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers.base import LineRange
from analyzers.extraction import analyze_chunks
from analyzers.signature import PassingLines, Signature, line_form, signature_of
from bench._scoring import Ranges, line_set, mean, prf
from bench.cloudbuild import load_cases, split_of
from bench.logchunks import load_examples, read_lines
from buildlens_core.buildlog import parse_step_prefix, split_lines


@dataclass(frozen=True, slots=True)
class Log:
    """One labelled failed log, and what the stand-in passing builds are made from."""

    repository: str
    order: int  # build id or position: which logs came before
    group: str  # language (LogChunks) or tool family (Cloud Build corpus)
    data: bytes
    lines: list[str]
    gold: Ranges
    category: str = ""  # labelled category and failing step (the Cloud Build corpus only)
    failing_step: int | None = None

    def without_gold(self) -> list[tuple[int | None, str]]:
        """The log as a passing build: without its labelled lines, wherever it prints
        them (a test runner repeats its failures in a summary)."""
        drop = {line_form(self.lines[n - 1]) for n in line_set(self.gold) if n <= len(self.lines)}
        return [(None, text) for text in self.lines if line_form(text) not in drop]


@dataclass(frozen=True, slots=True)
class Row:
    log: Log
    f1_without: float
    f1_with: float
    excerpt_without: int
    excerpt_with: int
    passing: int  # stand-in passing builds used
    categories: tuple[str, str]  # (without, with)
    steps: tuple[int | None, int | None]
    fingerprint_kept: bool  # the same fingerprint with and without passing builds


def logchunks(data: Path, limit: int | None) -> list[Log]:
    out = []
    for ex in load_examples(data, limit):
        repo = ex.path.parent.parent.name
        lines = read_lines(ex.path)
        raw = b"\n".join(t.encode("utf-8", "replace") for t in lines)
        out.append(Log(repo, int(ex.path.name.split(".")[0]), ex.language, raw, lines,
                       [(ex.start, ex.end)]))  # fmt: skip
    return out


def corpus() -> list[Log]:
    out = []
    for i, case in enumerate(c for c in load_cases() if not c.composed):
        lines = [x.decode("utf-8", "replace") for x in split_lines(case.log)]
        out.append(Log(case.repository, i, case.family, case.log, lines, case.key_lines,
                       case.category, case.failing_step))  # fmt: skip
    return out


def stand_ins(log: Log, same_repo: Sequence[Log], keep: int) -> list[Log]:
    """The `keep` other logs of the repository nearest before `log`, then after it."""
    before = sorted((o for o in same_repo if o.order < log.order), key=lambda o: -o.order)
    after = sorted((o for o in same_repo if o.order > log.order), key=lambda o: o.order)
    return (before + after)[:keep]


def _size(ranges: Sequence[LineRange]) -> int:
    return sum(r.size for r in ranges)


def evaluate(logs: list[Log], keep: int) -> list[Row]:
    by_repo: dict[str, list[Log]] = defaultdict(list)
    for log in logs:
        by_repo[log.repository].append(log)
    signatures: dict[int, Signature] = {}
    rows = []
    for log in logs:
        others = stand_ins(log, [o for o in by_repo[log.repository] if o is not log], keep)
        if not others:
            continue
        sigs = []
        for other in others:
            if id(other) not in signatures:
                signatures[id(other)] = signature_of(other.without_gold())
            sigs.append(signatures[id(other)])
        gold = line_set(log.gold)
        plain = analyze_chunks([log.data])
        known = analyze_chunks([log.data], PassingLines(sigs))
        f1_without = prf(gold, line_set([(r.start, r.end) for r in plain.key_lines]))[2]
        f1_with = prf(gold, line_set([(r.start, r.end) for r in known.key_lines]))[2]
        rows.append(Row(log, f1_without, f1_with, _size(plain.excerpt), _size(known.excerpt),
                        len(others), (plain.category, known.category),
                        (plain.failing_step, known.failing_step),
                        plain.fingerprint == known.fingerprint))  # fmt: skip
    return rows


def _line(name: str, rows: list[Row]) -> str:
    without = mean(r.f1_without for r in rows)
    with_ = mean(r.f1_with for r in rows)
    better = sum(r.f1_with > r.f1_without + 1e-9 for r in rows)
    worse = sum(r.f1_with < r.f1_without - 1e-9 for r in rows)
    return (
        f"| {name} | {len(rows)} | {without:.3f} | {with_:.3f} | {with_ - without:+.3f} "
        f"| {better} / {worse} | {mean(r.excerpt_without for r in rows):.1f} "
        f"| {mean(r.excerpt_with for r in rows):.1f} |"
    )


HEADER = (
    "| {what} | logs | key F1 without | key F1 with passing | change | logs better / worse "
    "| excerpt lines without | excerpt lines with |\n|---|---|---|---|---|---|---|---|"
)


def _outcomes(name: str, rows: list[Row]) -> str:
    labelled = [r for r in rows if r.log.category]

    def share(hits: list[bool]) -> str:
        return f"{100 * mean(float(h) for h in hits):.0f}%" if hits else "-"

    cat = [share([r.categories[k] == r.log.category for r in labelled]) for k in (0, 1)]
    step = [share([r.steps[k] == r.log.failing_step for r in labelled]) for k in (0, 1)]
    kept = share([r.fingerprint_kept for r in rows])
    return f"| {name} | {len(rows)} | {cat[0]} | {cat[1]} | {step[0]} | {step[1]} | {kept} |"


def print_quality(title: str, rows: list[Row], group: str, plural: str) -> None:
    parts = {p: [r for r in rows if split_of(r.log.repository) == p] for p in ("tune", "check")}
    print(f"\n## {title}\n")
    print(HEADER.format(what="part"))
    for part, picked in parts.items():
        print(_line(part, picked))
    print(_line("all", rows))
    print(
        "\n| part | logs | category right without | with | failing step right without | with "
        "| fingerprint unchanged |\n|---|---|---|---|---|---|---|"
    )
    for part, picked in parts.items():
        print(_outcomes(part, picked))
    print(_outcomes("all", rows))
    groups: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        groups[r.log.group].append(r)
    print(f"\n### by {group}\n")
    print(HEADER.format(what=group))
    for name in sorted(groups):
        print(_line(name, groups[name]))
    losing = [n for n, g in groups.items() if mean(r.f1_with - r.f1_without for r in g) < -1e-9]
    print(f"\n{plural} with a lower mean F1: {', '.join(sorted(losing)) or 'none'}")


def _timed(run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t)
    return best


def print_cost(title: str, logs: list[Log]) -> None:
    """Per passing build: signature time per MB beside reading the log (split into lines,
    as a log source does), and the bytes a signature stores."""
    total_mb = sum(len(log.data) for log in logs) / 1e6
    read_s = sig_s = 0.0
    per_step: list[int] = []
    per_build: list[int] = []
    rates: list[float] = []
    for log in logs:
        pairs: list[tuple[int | None, str]] = [(parse_step_prefix(t)[0], t) for t in log.lines]
        read_s += _timed(partial(split_lines, log.data))
        sig_s += _timed(partial(signature_of, pairs))
        sig = signature_of(pairs)
        per_build.append(sig.size_bytes)
        for f in sig.steps.values():
            per_step.append(len(f.bits))
            rates.append(f.false_positive_rate())
    print(f"\n## Cost per passing build: {title} ({len(logs)} logs, {total_mb:.1f} MB)\n")
    print("| what | ms per MB of log |\n|---|---|")
    print(f"| read the log: split into lines (baseline) | {1000 * read_s / total_mb:.1f} |")
    print(f"| signature: mask, hash, fill the filters | {1000 * sig_s / total_mb:.1f} |")
    print("\n| bytes stored | mean | median | max |\n|---|---|---|---|")
    for name, sizes in (("per step", sorted(per_step)), ("per build", sorted(per_build))):
        print(f"| {name} | {mean(sizes):.0f} | {sizes[len(sizes) // 2]} | {sizes[-1]} |")
    print(
        f"\nsteps over 16 kB: {sum(s > 16 << 10 for s in per_step)}; estimated false-positive "
        f"rate per step: mean {100 * mean(rates):.2f}%, max {100 * max(rates):.2f}%"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/logchunks"))
    parser.add_argument("--limit", type=int, default=None, help="only the first N LogChunks logs")
    parser.add_argument("--keep", type=int, default=3, help="passing builds remembered")
    args = parser.parse_args(argv)
    chunks = logchunks(args.data, args.limit)
    print_quality(
        f"LogChunks dev set: stand-in passing builds = up to {args.keep} other logs of the "
        "repository, labelled chunk removed",
        evaluate(chunks, args.keep),
        "language",
        "languages",
    )
    real = corpus()
    print_quality(
        "Real Cloud Build corpus: repositories with several builds, labelled key lines removed",
        evaluate(real, args.keep),
        "family",
        "families",
    )
    print_cost("LogChunks dev set", chunks)
    print_cost("real Cloud Build corpus", real)
    return 0


if __name__ == "__main__":
    sys.exit(main())
