"""Evaluate the LLM analyzers over the fixture builds (and a data set folder) and print a table.

    python bench/llm_eval.py --provider openai            # OPENAI_BASE_URL, OPENAI_MODEL, ...
    python bench/llm_eval.py --provider gemini            # GEMINI_API_KEY or Vertex settings
    python bench/llm_eval.py --provider openai --data ../shared/datasets/logchunks --limit 20

Per provider: JSON success rate (an explanation came back), share of cited lines inside the
excerpt, share of summaries naming the failing step or a key error token, mean input and
output tokens, mean and p95 latency. Data set folders are read as `<case>/build.json` +
`log.txt` folders, or as bare log files (`*.log`, `*.txt`) with a synthetic failed build.
Caching is off. Nothing is asserted: a tiny random model gives numbers about the mechanics.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers import ANALYZERS
from analyzers.base import AnalysisContext
from analyzers.keylines import KeyLines
from analyzers.llm.errors import LLMError
from analyzers.llm.explainer import Explainer
from analyzers.results import FailedStep
from buildlens_core.build import decode_build
from buildlens_core.settings import Settings, load_settings
from notifier.logsources.fixture import FixtureLogSource

ROOT = Path(__file__).resolve().parents[1]
RULES = ("failing_step", "tail", "key_lines", "excerpt", "classify", "fingerprint")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{3,}")
SYNTHETIC_BUILD: dict[str, Any] = {
    "id": "bench",
    "projectId": "bench",
    "status": "FAILURE",
    "steps": [{"name": "gcr.io/cloud-builders/docker", "id": "build", "status": "FAILURE"}],
}


@dataclass
class Tally:
    runs: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    cited: int = 0
    cited_inside: int = 0
    named: int = 0
    input_tokens: list[int] = field(default_factory=list)
    output_tokens: list[int] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)


def cases(data: list[Path], limit: int) -> list[tuple[str, Path, Path | None]]:
    """(name, log folder or file, build.json or None)."""
    found: list[tuple[str, Path, Path | None]] = []
    for folder in sorted((ROOT / "fixtures" / "builds").iterdir()):
        if (folder / "build.json").exists() and folder.name != "success":
            found.append((folder.name, folder, folder / "build.json"))
    for root in data:
        extra: list[tuple[str, Path, Path | None]] = []
        for build in sorted(root.rglob("build.json")):
            extra.append((str(build.parent.relative_to(root)), build.parent, build))
        if not extra:
            for log in sorted(p for p in root.rglob("*") if p.suffix in (".log", ".txt")):
                extra.append((str(log.relative_to(root)), log, None))
        found += extra[:limit] if limit else extra
    return found


def context(log_path: Path, build_path: Path | None, settings: Settings) -> AnalysisContext:
    raw = json.loads(build_path.read_text()) if build_path else SYNTHETIC_BUILD
    build = decode_build(raw)
    log = FixtureLogSource(log_path, settings.sources.max_log_bytes).fetch(build)
    ctx = AnalysisContext(build, log)
    for name in RULES:
        if name in ANALYZERS:
            ctx.findings.extend(ANALYZERS[name](settings).analyze(ctx))
    return ctx


def key_tokens(ctx: AnalysisContext) -> set[str]:
    tokens: set[str] = set()
    failing = ctx.get(FailedStep)
    if failing is not None and failing.id:
        tokens.add(failing.id.lower())
    key = ctx.get(KeyLines)
    for text in key.texts[:3] if key else ():
        tokens.update(t.lower() for t in _TOKEN.findall(text)[:6])
    return tokens


def evaluate(analyzer: Explainer, items: list[tuple[str, Path, Path | None]]) -> Tally:
    settings = load_settings()
    tally = Tally()
    for name, log_path, build_path in items:
        try:
            ctx = context(log_path, build_path, settings)
        except Exception as exc:  # a data set file we cannot read is skipped, loudly
            print(f"skip {name}: {exc}", file=sys.stderr)
            continue
        tally.runs += 1
        started = time.monotonic()
        try:
            findings = analyzer.analyze(ctx)
        except LLMError as exc:
            kind = exc.__class__.__name__
            tally.errors[kind] = tally.errors.get(kind, 0) + 1
            print(f"{name}: {exc}", file=sys.stderr)
            findings = []
        tally.latency.append(time.monotonic() - started)
        usage = analyzer.last_usage
        if usage is not None:
            tally.input_tokens.append(usage.input_tokens)
            tally.output_tokens.append(usage.output_tokens)
            analyzer.last_usage = None
        if not findings:
            continue
        data = findings[0].data
        tally.ok += 1
        cited = data.get("cited_lines")
        dropped = data.get("dropped_citations")
        inside = len(cited) if isinstance(cited, list) else 0
        tally.cited_inside += inside
        tally.cited += inside + (len(dropped) if isinstance(dropped, list) else 0)
        summary = str(data.get("summary", "")).lower()
        if any(token in summary for token in key_tokens(ctx)):
            tally.named += 1
    return tally


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.0f}%" if d else "-"


def _mean(values: list[int] | list[float]) -> str:
    return f"{statistics.fmean(values):.0f}" if values else "-"


def print_table(rows: list[tuple[str, str, Tally]]) -> None:
    print(
        "| provider | model | builds | JSON ok | citations inside | names step/error "
        "| input tok | output tok | latency mean s | latency p95 s | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for provider, model, t in rows:
        lat = sorted(t.latency)
        p95 = f"{lat[min(len(lat) - 1, int(0.95 * len(lat)))]:.1f}" if lat else "-"
        mean = f"{statistics.fmean(lat):.1f}" if lat else "-"
        errors = ", ".join(f"{k} {v}" for k, v in sorted(t.errors.items())) or "-"
        print(
            f"| {provider} | {model} | {t.runs} | {_pct(t.ok, t.runs)} "
            f"| {_pct(t.cited_inside, t.cited)} | {_pct(t.named, t.ok)} "
            f"| {_mean(t.input_tokens)} | {_mean(t.output_tokens)} | {mean} | {p95} | {errors} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", action="append", choices=("gemini", "openai"))
    parser.add_argument("--data", action="append", type=Path, default=[])
    parser.add_argument("--limit", type=int, default=0, help="cases per data set folder")
    args = parser.parse_args(argv)
    items = cases(args.data, args.limit)
    rows: list[tuple[str, str, Tally]] = []
    import os

    os.environ.setdefault("LLM_CACHE_TTL_S", "0")
    os.environ.setdefault("LLM_CALLS_PER_HOUR", "100000")
    for provider in args.provider or ["openai"]:
        analyzer = ANALYZERS[provider](load_settings())
        assert isinstance(analyzer, Explainer)
        rows.append((provider, analyzer.model, evaluate(analyzer, items)))
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
