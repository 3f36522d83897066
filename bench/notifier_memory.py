"""Peak memory while fetching and analyzing a 200 MB log from a (local) GCS bucket.

Each row is a fresh interpreter; the GCS REST server runs in this process, so only the
notifier's memory is counted. Baseline in the same run: the naive download of the whole
object into memory and a split into lines.

    python -m bench.notifier_memory [--log-mb 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._table import table
from fixtures.biglog import write_big_log
from tests.fakes.gcs import FakeGcs
from tests.notifier.builds import fixture_build, serve_log

ROOT = Path(__file__).resolve().parent.parent

PIPELINE = """
import json, resource, sys, time
from buildlens_core.build import decode_build
from notifier.pipeline import Notifier
from buildlens_core.settings import load_settings
from notifier.sinks.stdout import StdoutSink
import io
build = decode_build(json.loads(sys.argv[1]))
sink = StdoutSink("json", io.StringIO())
t = time.perf_counter()
outcome = Notifier(load_settings(), sinks=[sink]).handle_build(build)
report = outcome.report
print(json.dumps({"s": time.perf_counter() - t,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "lines": report.log_lines, "kept": len(report.excerpt),
                  "cut": report.log_cut.count if report.log_cut else 0}))
"""

NAIVE = """
import json, resource, sys, time
from google.cloud import storage
build = json.loads(sys.argv[1])
bucket = build["logsBucket"][5:]
t = time.perf_counter()
data = storage.Client(project="p").bucket(bucket).blob(f"log-{build['id']}.txt").download_as_bytes()
lines = data.decode("utf-8", "replace").splitlines()
print(json.dumps({"s": time.perf_counter() - t,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "lines": len(lines), "kept": len(lines), "cut": 0}))
"""


def child(code: str, build: dict[str, object], env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(build)],
        env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log-mb", type=float, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    big = tmp / "big.txt"
    started = time.perf_counter()
    write_big_log(big, int(args.log_mb * (1 << 20)), "bench")
    print(f"generated {big.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s")
    gcs = FakeGcs().start()
    build = fixture_build("pytest-failure", options={"logging": "GCS_ONLY"})
    serve_log(gcs, build, "pytest-failure", big)
    base = {"STORAGE_EMULATOR_HOST": gcs.url, "GOOGLE_CLOUD_PROJECT": "buildlens-demo"}
    rows = []
    try:
        naive = child(NAIVE, build, base)
        rows.append(["naive: download whole object, split lines", "-", naive["rss_mb"],
                     naive["s"], int(naive["lines"]), 0])  # fmt: skip
        for cap_mb in (8, 16, 32):
            env = {**base, "MAX_LOG_BYTES": str(cap_mb << 20)}
            got = child(PIPELINE, build, env)
            rows.append(["notifier pipeline (fetch + analyzers + report)", f"{cap_mb} MiB",
                         got["rss_mb"], got["s"], int(got["lines"]), int(got["cut"])])  # fmt: skip
    finally:
        gcs.stop()
    print(f"\n## Peak memory for a {big.stat().st_size / 1e6:.0f} MB log (fresh process per row)\n")
    print(table(["what", "MAX_LOG_BYTES", "peak RSS MiB", "seconds", "log lines", "lines cut"],
                rows))  # fmt: skip
    big.unlink()


if __name__ == "__main__":
    main()
