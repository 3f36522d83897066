"""Cold start: `import notifier.main` beside a hello-world CloudEvent function, same run.

python -m bench.cold_start [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._table import median, percentile, table

ROOT = Path(__file__).resolve().parent.parent

HELLO = """
import functions_framework

@functions_framework.cloud_event
def hello(event):
    print(event["id"])
"""

# Runs in a fresh interpreter: the import time and the peak memory of the import alone.
PROBE = """
import json, resource, sys, time
sys.path.insert(0, {path!r})
t = time.perf_counter()
import {module}
elapsed = time.perf_counter() - t
loaded = sorted(m for m in sys.modules if m.startswith("google.cloud"))
print(json.dumps({{"s": elapsed, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "google_cloud": loaded}}))
"""


def measure(module: str, path: Path, runs: int) -> tuple[list[float], list[int], list[str]]:
    times, rss, loaded = [], [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(path=str(path), module=module)],
            capture_output=True, text=True, check=True, cwd=path,
        ).stdout  # fmt: skip
        result = json.loads(out)
        times.append(result["s"] * 1000)
        rss.append(result["rss_kb"] // 1024)
        loaded = result["google_cloud"]
    return times, rss, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "hello_main.py").write_text(HELLO)
        hello = measure("hello_main", Path(tmp), args.runs)
    ours = measure("notifier.main", ROOT, args.runs)
    rows = []
    for name, (times, rss, loaded) in (("hello-world CloudEvent function", hello),
                                        ("notifier.main", ours)):  # fmt: skip
        rows.append([name, median(times), percentile(times, 95), max(rss), len(loaded)])
    print(f"## Cold start: import time and memory ({args.runs} fresh interpreters each)\n")
    print(table(["module", "import p50 ms", "import p95 ms", "peak RSS MiB",
                 "google.cloud modules loaded"], rows))  # fmt: skip
    extra_ms = median(ours[0]) - median(hello[0])
    extra_mb = max(ours[1]) - max(hello[1])
    print(f"\nnotifier.main costs {extra_ms:.1f} ms, {extra_mb} MiB (Google clients load on use)")
    print(json.dumps({"notifier_google_cloud_modules": ours[2]}))


if __name__ == "__main__":
    main()
