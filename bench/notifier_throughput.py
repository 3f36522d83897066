"""Throughput of the whole function on the emulators: events per second through the real
functions-framework server (gunicorn threads), the Pub/Sub emulator as the report sink, a
local GCS REST server for logs, with the in-memory store and with the Firestore emulator.

    python -m bench.notifier_throughput [--events 200] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench import _plot
from bench._table import median, percentile, table
from tests.fakes.gcs import FakeGcs
from tests.notifier.builds import fixture_build, push_body, serve_log
from tests.procs import Process, start_emulator, start_function

PROJECT = "buildlens-demo"
TOPIC_PATH = f"/projects/{PROJECT}/topics/cloud-builds"
REPORTS = f"projects/{PROJECT}/topics/bench-throughput"


def drive(url: str, bodies: list[dict[str, Any]], clients: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0

    def one(body: dict[str, Any]) -> None:
        nonlocal errors
        started = time.perf_counter()
        response = httpx.post(url + TOPIC_PATH, json=body, timeout=120)
        latencies.append((time.perf_counter() - started) * 1000)
        errors += response.status_code != 200

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, bodies))
    return len(bodies) / (time.perf_counter() - started), latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument(
        "--clients", default="1,2,4,8,16",
        help="concurrent clients; several (comma-separated) find the saturation point",
    )  # fmt: skip
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    pubsub = start_emulator("pubsub", tmp / "pubsub.log")
    firestore = start_emulator("firestore", tmp / "firestore.log")
    os.environ["PUBSUB_EMULATOR_HOST"] = pubsub.url.removeprefix("http://")
    from google.cloud import pubsub_v1

    pubsub_v1.PublisherClient().create_topic(name=REPORTS)
    gcs = FakeGcs().start()
    base = {
        "PUBSUB_EMULATOR_HOST": pubsub.url.removeprefix("http://"),
        "FIRESTORE_EMULATOR_HOST": firestore.url.removeprefix("http://"),
        "STORAGE_EMULATOR_HOST": gcs.url,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "SINKS": "pubsub",
        "REPORT_TOPIC": REPORTS,
    }
    rows = []
    curves: dict[str, list[tuple[int, float]]] = {}
    processes: list[Process] = [pubsub, firestore]
    try:
        for store in ("memory", "firestore"):
            function = start_function({**base, "STATE_STORE": store}, tmp / f"{store}.log")
            processes.append(function)
            for clients in [int(c) for c in args.clients.split(",")]:
                bodies = []
                for _ in range(args.events + clients):
                    build = fixture_build("pytest-failure", options={"logging": "GCS_ONLY"})
                    serve_log(gcs, build, "pytest-failure")
                    bodies.append(push_body(build))
                drive(function.url, bodies[:clients], clients)  # warm-up
                rate, latencies, errors = drive(function.url, bodies[clients:], clients)
                rows.append([f"{store} store", clients, rate, median(latencies),
                             percentile(latencies, 95), errors])  # fmt: skip
                curves.setdefault(store, []).append((clients, rate))
            function.stop()
    finally:
        for process in processes:
            process.stop()
        gcs.stop()
    analyzers = os.environ.get("ANALYZERS", "default rules analyzers")
    print(f"## Notifier throughput ({args.events} events per row, {analyzers}, "
          "one function instance)\n")  # fmt: skip
    print(table(["state", "clients", "events/s", "p50 ms", "p95 ms", "errors"], rows))
    for store, points in curves.items():
        best = max(points, key=lambda p: p[1])
        print(f"\n{store}: saturates at {best[1]:.1f} events/s with {best[0]} clients")
    _plot.lines(curves, "notifier_throughput.png", "clients", "events/s")


if __name__ == "__main__":
    main()
