"""Run every benchmark and write one Markdown file per area under bench/results/.

    python -m bench                  # all of them (about 15 minutes on 2 cores, plus 2-3 for soak)
    python -m bench cloudbuild logchunks   # some of them (or --only a,b)

Each benchmark prints its own tables with its baseline measured in the same run; this
runner only collects them. Results are not committed (bench/results/ is git-ignored).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# name -> arguments after `python`; the only list of benchmarks.
BENCHMARKS: dict[str, list[str]] = {
    "cold_start": ["-m", "bench.cold_start"],
    "notifier_latency": ["-m", "bench.notifier_latency"],
    "notifier_memory": ["-m", "bench.notifier_memory"],
    "notifier_throughput": ["-m", "bench.notifier_throughput"],
    "soak": ["-m", "bench.soak"],
    "logchunks": ["bench/logchunks.py", "--data", "../shared/datasets/logchunks"],
    "cloudbuild": ["-m", "bench.cloudbuild"],
    "passing": ["-m", "bench.passing", "--data", "../shared/datasets/logchunks"],
    "redaction": ["-m", "bench.redaction"],
    "gateway": ["bench/gateway.py"],
    "gateway_load": ["bench/gateway_load.py"],
    "entrypoint_stages": ["bench/entrypoint_stages.py"],
    "llm_eval": ["bench/llm_eval.py", "--provider", "openai"],
}
# Benchmarks that need a server of the user's: not run (and said so) until it is configured.
NEEDS: dict[str, tuple[str, ...]] = {"llm_eval": ("OPENAI_BASE_URL", "OPENAI_MODEL")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--only", help=f"comma-separated, from: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    chosen = [*args.names, *(args.only.split(",") if args.only else [])]
    names = [n.strip() for n in chosen] if chosen else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; valid: {', '.join(BENCHMARKS)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    index = ["# Benchmarks", "", f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", ""]
    failed = 0
    for name in names:
        missing = [var for var in NEEDS.get(name, ()) if not os.environ.get(var)]
        if missing:
            why = f"not run: set {' and '.join(missing)} to run it"
            print(f"== {name}: {why}", file=sys.stderr, flush=True)
            index.append(f"- {name}: {why}")
            continue
        started = time.monotonic()
        print(f"== {name}", file=sys.stderr, flush=True)
        result = subprocess.run(
            [sys.executable, *BENCHMARKS[name]], cwd=ROOT, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        seconds = time.monotonic() - started
        body = result.stdout if result.returncode == 0 else result.stdout + result.stderr[-4000:]
        (RESULTS / f"{name}.md").write_text(f"# {name}\n\n{body}")
        status = "ok" if result.returncode == 0 else f"failed (exit {result.returncode})"
        failed += result.returncode != 0
        index.append(f"- [{name}]({name}.md): {status}, {seconds:.0f} s")
    (RESULTS / "README.md").write_text("\n".join(index) + "\n")
    print(f"wrote {RESULTS}/", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
