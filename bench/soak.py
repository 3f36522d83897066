"""Soak with a memory trace: the workload of tests/hardening/test_soak.py (1,000 build
messages through the Pub/Sub emulator push path: mixed statuses, 20% duplicates, 5%
malformed, logs from 1 kB to 50 MB) on a whole local deployment, while the function's
process tree RSS is sampled. Prints the soak table (expected, reported, duplicated, lost;
RSS at the start, the end and the highest sample) and writes bench/results/soak_memory.png.

    python -m bench.soak [--messages 1000] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import _plot
from bench._table import table
from tests.hardening import soak
from tests.hardening.harness import Deployment


class Sampler:
    """Samples (time.monotonic(), function RSS MiB, reports pulled so far) in a thread."""

    def __init__(self, deployment: Deployment, interval: float) -> None:
        self.deployment = deployment
        self.interval = interval
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = soak.function_rss_mib(self.deployment)
            self.samples.append((time.monotonic(), rss, len(self.deployment.reports)))
            self._stop.wait(self.interval)


def plot(samples: list[tuple[float, float, int]], result: soak.Result) -> None:
    t0 = result.started

    def draw(ax: Any) -> None:
        seconds = [s[0] - t0 for s in samples]
        ax.plot(seconds, [s[1] for s in samples], color="tab:blue", label="function RSS")
        ax.set_xlabel("seconds since the first message was published")
        ax.set_ylabel("function process tree RSS, MiB", color="tab:blue")
        ax.set_ylim(bottom=0)
        ax.axvline(result.published - t0, color="gray", linestyle="--", linewidth=1)
        ax.annotate(
            "last message published", (result.published - t0, 0), xytext=(4, 4),
            textcoords="offset points", fontsize="small", color="gray",
        )  # fmt: skip
        ax.grid(alpha=0.3)
        reports = ax.twinx()
        reports.plot(seconds, [s[2] for s in samples], color="tab:orange", label="reports")
        reports.set_ylabel("reports pulled from the results topic", color="tab:orange")
        reports.set_ylim(bottom=0)
        ax.set_title(f"soak: {result.rows['messages']} messages", fontsize="medium")

    _plot.plot("soak_memory.png", draw, size=(8, 4.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=soak.MESSAGES)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for reports")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    (tmp / "deployment").mkdir()
    deployment = Deployment(tmp / "deployment", soak.ENV)
    sampler = Sampler(deployment, args.interval)
    try:
        work = soak.workload(deployment, tmp, args.messages)
        sampler.start()
        result = soak.run(deployment, work, timeout_s=args.timeout, strict=False)
    finally:
        sampler.stop()
        deployment.stop()
    samples = sampler.samples
    during = [s[1] for s in samples if s[0] >= result.started]
    rows = [[k, v] for k, v in result.rows.items()]
    rows += [
        ["function RSS max MiB", round(max(during), 1) if during else "-"],
        ["RSS samples", f"{len(samples)}, every {args.interval:g} s"],
    ]
    print(f"## Soak ({args.messages} messages, emulator push path, Firestore state store)\n")
    print(table(["soak", "value"], rows))
    plot(samples, result)


if __name__ == "__main__":
    main()
