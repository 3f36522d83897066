"""Event to published report, through the real functions-framework server, a local GCS
REST server and the real Pub/Sub emulator. Baselines in the same run: a hello-world
CloudEvent function (the HTTP and framework floor) and the notifier on an 8 kB log. Writes
the latency distribution of each case to bench/results/notifier_latency.png.

    python -m bench.notifier_latency [--runs 20] [--log-mb 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import _plot
from bench._table import median, percentile, table
from fixtures.biglog import write_big_log
from tests.fakes.gcs import FakeGcs
from tests.notifier.builds import fixture_build, push_body, serve_log
from tests.procs import Process, free_port, start, start_emulator, start_function

PROJECT = "buildlens-demo"
TOPIC_PATH = f"/projects/{PROJECT}/topics/cloud-builds"
REPORTS = f"projects/{PROJECT}/topics/bench-reports"
SUB = f"projects/{PROJECT}/subscriptions/bench-reports"

HELLO = """
import functions_framework

@functions_framework.cloud_event
def hello(event):
    return None
"""


def run(url: str, bodies: list[dict[str, Any]]) -> list[float]:
    times = []
    with httpx.Client(timeout=120) as client:
        for body in bodies:
            started = time.perf_counter()
            response = client.post(url + TOPIC_PATH, json=body)
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--log-mb", type=float, default=10)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    emulator = start_emulator("pubsub", tmp / "pubsub.log")
    host = emulator.url.removeprefix("http://")
    os.environ["PUBSUB_EMULATOR_HOST"] = host
    from google.cloud import pubsub_v1

    pubsub_v1.PublisherClient().create_topic(name=REPORTS)
    subscriber = pubsub_v1.SubscriberClient()
    subscriber.create_subscription(name=SUB, topic=REPORTS)
    gcs = FakeGcs().start()
    env = {"PUBSUB_EMULATOR_HOST": host, "STORAGE_EMULATOR_HOST": gcs.url,
           "GOOGLE_CLOUD_PROJECT": PROJECT, "SINKS": "pubsub", "REPORT_TOPIC": REPORTS}  # fmt: skip
    function = start_function(env, tmp / "function.log")
    (tmp / "hello_main.py").write_text(HELLO)
    port = free_port()
    hello: Process = start(
        [sys.executable, "-m", "functions_framework", "--target", "hello", "--source",
         str(tmp / "hello_main.py"), "--signature-type", "cloudevent", "--host", "127.0.0.1",
         "--port", str(port)],
        os.environ, tmp / "hello.log", f"http://127.0.0.1:{port}", None,
    )  # fmt: skip
    big = tmp / "big.txt"
    write_big_log(big, int(args.log_mb * (1 << 20)), "bench")
    try:
        small_bodies, big_bodies = [], []
        for _ in range(args.runs + 1):  # one warm-up each
            build = fixture_build("pytest-failure", options={"logging": "GCS_ONLY"})
            serve_log(gcs, build, "pytest-failure")
            small_bodies.append(push_body(build))
            build = fixture_build("pytest-failure", options={"logging": "GCS_ONLY"})
            serve_log(gcs, build, "pytest-failure", big)
            big_bodies.append(push_body(build))
        hello_times = run(hello.url, small_bodies[:1] + small_bodies[1:])[1:]
        small_times = run(function.url, small_bodies)[1:]
        big_times = run(function.url, big_bodies)[1:]
        published = 0
        deadline = time.monotonic() + 30
        while published < 2 * (args.runs + 1) and time.monotonic() < deadline:
            got = subscriber.pull(request={"subscription": SUB, "max_messages": 100}, timeout=5)
            published += len(got.received_messages)
            if got.received_messages:
                ack_ids = [m.ack_id for m in got.received_messages]
                subscriber.acknowledge(request={"subscription": SUB, "ack_ids": ack_ids})
        size = big.stat().st_size / (1 << 20)
        rows = [
            ["hello-world CloudEvent function (floor)", "-", median(hello_times),
             percentile(hello_times, 95)],
            ["notifier, recorded pytest failure", "8 kB", median(small_times),
             percentile(small_times, 95)],
            ["notifier, generated log", f"{size:.1f} MB", median(big_times),
             percentile(big_times, 95)],
        ]  # fmt: skip
        print(f"## Event to published report ({args.runs} runs each, after one warm-up)\n")
        print(table(["case", "log", "p50 ms", "p95 ms"], rows))
        print(f"\nreports pulled from the results topic: {published} of {2 * (args.runs + 1)}")
        print(json.dumps({"analyzers": os.environ.get("ANALYZERS", "(default)")}))
        _plot.ecdf(
            {"hello-world function (floor)": hello_times, "notifier, 8 kB log": small_times,
             f"notifier, {size:.1f} MB log": big_times},
            "notifier_latency.png", "event to published report, ms (log scale)", log_x=True,
        )  # fmt: skip
    finally:
        for process in (function, hello, emulator):
            process.stop()
        gcs.stop()


if __name__ == "__main__":
    main()
