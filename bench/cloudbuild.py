"""Benchmark the analysis on real failed Cloud Build logs, beside crude baselines.

    python -m bench.cloudbuild                 # tables for the tune and check parts
    python -m bench.cloudbuild --show check    # per-case lines of one part (tune only on tune!)
    python -m bench.cloudbuild --index         # rewrite bench/data/cloudbuild/INDEX.md

Each case in `bench/data/cloudbuild/cases/<id>/` is a real log (`log.txt`), its labels
(`label.json`: failing_step, key_lines, category, cause, family) and where it was found
(`source.json`). Cases are split by repository (a hash of its name): about 70% tune, 30%
check. Composed cases (real tool output placed in Cloud Build's log shapes) are scored apart.
Nothing here asserts times or scores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers.classify import CATEGORIES, UNCLASSIFIED
from analyzers.extraction import LogReport, analyze_chunks
from bench._scoring import KEYWORDS, Ranges, line_set, mean, prf, to_ranges
from buildlens_core.buildlog import split_lines

DATA = Path(__file__).resolve().parent / "data" / "cloudbuild"
CASES = DATA / "cases"
TUNE_SHARE = 7  # of 10 hash buckets
MAX_PER_REPOSITORY = 5


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    log: bytes
    failing_step: int | None
    key_lines: Ranges
    category: str
    cause: str
    family: str
    repository: str
    url: str
    path: str
    commit: str
    licence: str
    composed: bool

    @property
    def part(self) -> str:
        return split_of(self.repository)


@dataclass(frozen=True, slots=True)
class Output:
    key_lines: Ranges
    excerpt: Ranges
    report: LogReport | None = None


class LabelError(ValueError):
    """A case's files are incomplete or inconsistent; the message names the case and field."""


def split_of(repository: str) -> str:
    """`tune` or `check`, fixed by the repository's name so that no repository is in both."""
    digest = hashlib.sha256(repository.lower().encode()).digest()
    return "tune" if digest[0] % 10 < TUNE_SHARE else "check"


def _ranges(value: object, where: str) -> Ranges:
    if not isinstance(value, list) or not value:
        raise LabelError(f"{where}: key_lines must be a non-empty list of [start, end] pairs")
    out: Ranges = []
    for item in value:
        pair = isinstance(item, list) and len(item) == 2
        if not (pair and all(isinstance(x, int) for x in item)):
            raise LabelError(f"{where}: key_lines item {item!r} is not [start, end]")
        if not 1 <= item[0] <= item[1]:
            raise LabelError(f"{where}: key_lines item {item!r} must have 1 <= start <= end")
        out.append((item[0], item[1]))
    return sorted(out)


def load_case(folder: Path) -> Case:
    where = folder.name
    try:
        log = (folder / "log.txt").read_bytes()
        label = json.loads((folder / "label.json").read_text(encoding="utf-8"))
        source = json.loads((folder / "source.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LabelError(
            f"{where}: {exc}; each case needs log.txt, label.json, source.json"
        ) from exc
    total = len(split_lines(log))
    key = _ranges(label.get("key_lines"), where)
    if key[-1][1] > total:
        raise LabelError(f"{where}: key_lines {key[-1]} past the log's {total} lines")
    category = label.get("category")
    if category not in (*CATEGORIES, UNCLASSIFIED):
        raise LabelError(f"{where}: category {category!r} is not one of {CATEGORIES}")
    step = label.get("failing_step")
    if step is not None and not isinstance(step, int):
        raise LabelError(f"{where}: failing_step must be an int or null")
    for name in ("cause", "family"):
        if not isinstance(label.get(name), str) or not label[name]:
            raise LabelError(f"{where}: label.json needs a non-empty `{name}`")
    for name in ("repository", "url", "licence"):
        if not isinstance(source.get(name), str) or not source[name]:
            raise LabelError(f"{where}: source.json needs a non-empty `{name}`")
    return Case(
        id=folder.name,
        log=log,
        failing_step=step,
        key_lines=key,
        category=category,
        cause=label["cause"],
        family=label["family"],
        repository=source["repository"],
        url=source["url"],
        path=source.get("path", ""),
        commit=source.get("commit", ""),
        licence=source["licence"],
        composed=bool(source.get("composed", False)),
    )


def load_cases(root: Path = CASES) -> list[Case]:
    if not root.is_dir():
        raise SystemExit(f"{root} not found: the corpus lives in the repository")
    return [load_case(p) for p in sorted(root.iterdir()) if p.is_dir()]


def crowded(cases: list[Case]) -> list[str]:
    """Repositories with more cases than one repository may give (it would weigh too much)."""
    per_repo: dict[str, int] = defaultdict(int)
    for case in cases:
        per_repo[case.repository.lower()] += 1
    return sorted(r for r, n in per_repo.items() if n > MAX_PER_REPOSITORY)


# --- extractors ---------------------------------------------------------------------------


def _texts(case: Case) -> list[str]:
    return [x.decode("utf-8", "replace") for x in split_lines(case.log)]


def _project(case: Case) -> Output:
    report = analyze_chunks([case.log])
    return Output(
        [(r.start, r.end) for r in report.key_lines],
        [(r.start, r.end) for r in report.excerpt],
        report,
    )


def _last(n: int) -> Callable[[Case], Output]:
    def run(case: Case) -> Output:
        total = len(_texts(case))
        r = [(max(1, total - n + 1), total)] if total else []
        return Output(r, r)

    return run


def _last_keyword_lines(case: Case) -> Output:
    """The last 10 error-word lines, each with 10 lines of context in the excerpt."""
    lines = _texts(case)
    hits = [i for i, text in enumerate(lines, 1) if KEYWORDS.search(text)][-10:]
    around = (n for i in hits for n in range(max(1, i - 10), min(len(lines), i + 10) + 1))
    return Output(to_ranges(hits), to_ranges(around))


def _first_keyword_in_last_100(case: Case) -> Output:
    lines = _texts(case)
    for i in range(max(1, len(lines) - 99), len(lines) + 1):
        if KEYWORDS.search(lines[i - 1]):
            return Output([(i, i)], [(i, min(len(lines), i + 10))])
    return Output([], [])


EXTRACTORS: dict[str, Callable[[Case], Output]] = {
    "buildlens": _project,
    "last 100 lines": _last(100),
    "last 10 error-word lines (+10 context)": _last_keyword_lines,
    "first error-word line in last 100": _first_keyword_in_last_100,
}


# --- scores -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    cause_in_excerpt: bool
    excerpt_lines: int


def score(case: Case, out: Output) -> Score:
    gold = line_set(case.key_lines)
    p, r, f1 = prf(gold, line_set(out.key_lines))
    excerpt = line_set(out.excerpt)
    return Score(p, r, f1, gold <= excerpt, len(excerpt))


# A log as another build of the same failure would print it: other ids, times, durations,
# digests, temporary paths, and a few more lines in the steps before the failure.
_REWRITES: tuple[tuple[re.Pattern[str], Callable[[random.Random], str]], ...] = (
    (
        re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        lambda rng: "-".join(f"{rng.getrandbits(n * 4):0{n}x}" for n in (8, 4, 4, 4, 12)),
    ),
    (re.compile(r"sha256:[0-9a-f]{64}"), lambda rng: f"sha256:{rng.getrandbits(256):064x}"),
    (
        re.compile(r"\b[0-9a-f]{12}\b(?=: (?:Pull|Waiting|Download|Verifying|Already))"),
        lambda rng: f"{rng.getrandbits(48):012x}",
    ),
    (
        re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z?"),
        lambda rng: (
            f"2027-0{rng.randrange(1, 9)}-1{rng.randrange(10)}T0{rng.randrange(10)}:"
            f"{rng.randrange(10, 60)}:{rng.randrange(10, 60)}.{rng.randrange(1000):03d}Z"
        ),
    ),
    (
        re.compile(r"\b\d{1,4}\.\d{1,3}s\b"),
        lambda rng: f"{rng.randrange(1, 900)}.{rng.randrange(10)}s",
    ),
    (re.compile(r"/tmp/[\w.-]{6,}"), lambda rng: f"/tmp/tmp{rng.getrandbits(40):010x}"),
)


def rewrite(text: str, before: int, seed: int = 11) -> str:
    """`text` as another build of the same failure would log it; `before` is the first line
    of the cause (1-based): only the output before it (earlier steps) gets longer."""
    rng = random.Random(seed)
    for pattern, make in _REWRITES:
        text = pattern.sub(lambda _m, make=make: make(rng), text)  # type: ignore[misc]
    lines = text.split("\n")
    # Three ordinary lines well above the cause print twice, as a slower pull or a retry would.
    early = lines[: max(0, before - 6)]
    quiet = [i for i, line in enumerate(early) if not KEYWORDS.search(line)]
    for i in sorted(rng.sample(quiet, min(3, len(quiet))), reverse=True):
        lines.insert(i, lines[i])
    return "\n".join(lines)


# --- tables -------------------------------------------------------------------------------


HEADER = (
    "| extractor | logs | key P | key R | key F1 | cause in excerpt | mean excerpt lines |\n"
    "|---|---|---|---|---|---|---|"
)


def _row(name: str, scores: list[Score]) -> str:
    return (
        f"| {name} | {len(scores)} | {mean(s.precision for s in scores):.3f} "
        f"| {mean(s.recall for s in scores):.3f} | {mean(s.f1 for s in scores):.3f} "
        f"| {100 * mean(float(s.cause_in_excerpt) for s in scores):.0f}% "
        f"| {mean(float(s.excerpt_lines) for s in scores):.1f} |"
    )


@dataclass(frozen=True, slots=True)
class Verdicts:
    category: float
    unclassified: float  # said nothing; the rest of the misses named a wrong category
    failing_step: float
    collisions: int  # fingerprints shared by cases of different causes
    empty: int  # cases without a fingerprint
    stable: float  # share of fingerprinted cases that keep it when logged by another build


def verdicts(cases: list[Case], outs: list[Output]) -> Verdicts:
    reports = [o.report for o in outs if o.report is not None]
    pairs = list(zip(cases, reports, strict=True))
    category = mean(float(r.category == c.category) for c, r in pairs)
    silent = mean(float(r.category == UNCLASSIFIED != c.category) for c, r in pairs)
    step = mean(float(r.failing_step == c.failing_step) for c, r in pairs)
    by_print: dict[str, set[str]] = defaultdict(set)
    for c, r in zip(cases, reports, strict=True):
        if r.fingerprint:
            by_print[r.fingerprint].add(c.cause)
    collisions = sum(len(causes) - 1 for causes in by_print.values() if len(causes) > 1)
    empty = sum(1 for r in reports if not r.fingerprint)
    kept = [
        analyze_chunks(
            [rewrite(c.log.decode("utf-8", "replace"), c.key_lines[0][0]).encode()]
        ).fingerprint
        == r.fingerprint
        for c, r in zip(cases, reports, strict=True)
        if r.fingerprint
    ]
    return Verdicts(category, silent, step, collisions, empty, mean(float(k) for k in kept))


def print_tables(cases: list[Case]) -> None:
    groups = [
        (part, composed)
        for part in ("tune", "check")
        for composed in (False, True)
        if any(c.part == part and c.composed == composed for c in cases)
    ]
    for part, composed in groups:
        chosen = [c for c in cases if c.part == part and c.composed == composed]
        kind = "composed" if composed else "real"
        print(f"\n## {part} part, {kind} logs ({len(chosen)} logs)\n")
        print(HEADER)
        project: list[Output] = []
        for name, run in EXTRACTORS.items():
            outs = [run(c) for c in chosen]
            if name == "buildlens":
                project = outs
            print(_row(name, [score(c, o) for c, o in zip(chosen, outs, strict=True)]))
        v = verdicts(chosen, project)
        print(
            "\n| buildlens | category right | wrong category | unclassified | failing step right "
            "| fingerprint collisions | no fingerprint | fingerprint stable |\n"
            "|---|---|---|---|---|---|---|---|\n"
            f"| {part} ({kind}) | {100 * v.category:.0f}% "
            f"| {100 * (1 - v.category - v.unclassified):.0f}% | {100 * v.unclassified:.0f}% "
            f"| {100 * v.failing_step:.0f}% "
            f"| {v.collisions} | {v.empty} | {100 * v.stable:.0f}% |"
        )


def show(cases: list[Case], part: str) -> None:
    """One line per case of `part`: what buildlens found beside the labels."""
    for c in cases:
        if c.part != part:
            continue
        out = _project(c)
        s = score(c, out)
        r = out.report
        assert r is not None
        print(
            f"{c.id:42} F1={s.f1:.2f} key={out.key_lines} gold={c.key_lines} "
            f"cat={r.category}{_want(r.category, c.category)} "
            f"step={r.failing_step}{_want(r.failing_step, c.failing_step)} "
            f"fp={r.fingerprint or '-'}"
        )


def _want(got: object, want: object) -> str:
    return "" if got == want else f" (want {want})"


def write_index(cases: list[Case]) -> str:
    """INDEX.md: every case with its exact source and licence (generated from source.json)."""
    out = [
        "# Real failed Cloud Build logs",
        "",
        "Generated by `python -m bench.cloudbuild --index` from each case's `source.json`;",
        "do not edit by hand. Labels are in `cases/<id>/label.json`. `part` is the split by",
        "repository (tune: analysis may be tuned on it; check: never looked at while tuning).",
        "Credentials found in a log were replaced by `<REDACTED:kind>` before committing.",
        "",
        "| case | part | family | category | source | licence | composed |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        where = c.url
        if c.path:
            where += f" (`{c.path}`" + (f" @ {c.commit[:12]}" if c.commit else "") + ")"
        out.append(
            f"| {c.id} | {c.part} | {c.family} | {c.category} | {c.repository}: {where} "
            f"| {c.licence} | {'yes' if c.composed else 'no'} |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--show", choices=("tune", "check"), help="per-case lines of a part")
    parser.add_argument("--index", action="store_true", help="rewrite INDEX.md and exit")
    args = parser.parse_args(argv)
    cases = load_cases()
    if args.index:
        (DATA / "INDEX.md").write_text(write_index(cases), encoding="utf-8")
        return 0
    if args.show:
        show(cases, args.show)
        return 0
    parts = {p: sum(1 for c in cases if c.part == p) for p in ("tune", "check")}
    real = [c for c in cases if not c.composed]
    print(
        f"# Cloud Build logs: {len(real)} real and {len(cases) - len(real)} composed cases "
        f"({parts['tune']} tune, {parts['check']} check); tool families: "
        f"{len({c.family for c in real})} in the real logs, {len({c.family for c in cases})} in all"
    )
    print_tables(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
