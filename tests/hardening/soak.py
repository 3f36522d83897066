"""The soak workload, shared by tests/hardening/test_soak.py (which asserts on it) and
bench/soak.py (which samples memory while it runs and plots it): 1,000 build messages through
the Pub/Sub emulator push path (mixed statuses, 20% duplicates, 5% malformed, logs from 1 kB
to 50 MB), counting what was reported against what should have been."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixtures.biglog import write_big_log
from tests.conftest import fixture_cases
from tests.hardening.harness import Deployment

MESSAGES = 1000
ENV = {"SINK_HTTP_ATTEMPTS": "3"}  # the deployment's settings for a soak
REPORTED = ("FAILURE", "TIMEOUT", "INTERNAL_ERROR")


def process_tree_rss_mib(pgid: int) -> float:
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            stat = (status.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[2]) == pgid:  # field 5 of /proc/PID/stat: the process group
            rss = next((line for line in text.splitlines() if line.startswith("VmRSS:")), "")
            total += int(rss.split()[1]) if rss else 0
    return total / 1024


def function_rss_mib(deployment: Deployment) -> float:
    """The function's whole process tree (functions-framework and its workers)."""
    return process_tree_rss_mib(deployment.function.proc.pid)


@dataclass
class Workload:
    messages: list[dict[str, Any] | bytes]  # builds, duplicates and malformed, shuffled
    expected: set[str]  # build ids that must be reported exactly once per sink


def workload(deployment: Deployment, folder: Path, messages: int = MESSAGES) -> Workload:
    """The messages, their logs (served by the deployment; the big ones written to
    `folder`) and the builds that must be reported. Deterministic for a given count."""
    rng = random.Random(20261127)
    big, medium = folder / "50mb.txt", folder / "5mb.txt"
    write_big_log(big, 50 << 20, "soak")
    write_big_log(medium, 5 << 20, "soak")
    failures = [c for c in fixture_cases() if c != "success"]
    unique = int(messages * 0.75)
    builds: list[dict[str, Any]] = []
    for i in range(unique):
        roll = rng.random()
        if roll < 0.15:
            builds.append(deployment.new_build("success"))
            continue
        case = rng.choice(failures)
        log = big if i % 100 == 0 else medium if i % 20 == 0 else None
        if case == "pytest-failure" or log is not None:
            case = "pytest-failure"
        build = deployment.new_build(case, log=log, options={"logging": "GCS_ONLY"})
        if roll < 0.22:
            build["status"] = rng.choice(["QUEUED", "WORKING", "CANCELLED"])
        builds.append(build)
    mixed: list[dict[str, Any] | bytes] = [*builds, *rng.sample(builds, messages // 5)]
    malformed = [b"\x00\xff not json", b'{"kind": "storage#object"}', b"[1, 2, 3]"]
    mixed += [malformed[i % 3] for i in range(messages - len(mixed))]
    rng.shuffle(mixed)
    return Workload(mixed, {b["id"] for b in builds if b["status"] in REPORTED})


@dataclass
class Result:
    rows: dict[str, Any]  # the soak table, in print order
    rss_start: float  # MiB, after the warm-up
    rss_end: float  # MiB, after the last report
    started: float  # time.monotonic() when publishing began
    published: float  # ... and when the last message was published

    def table(self) -> str:
        lines = [f"| {k} | {v} |" for k, v in self.rows.items()]
        return "| soak | value |\n|---|---|\n" + "\n".join(lines)


def run(
    deployment: Deployment, work: Workload, *, timeout_s: float = 900, strict: bool = True
) -> Result:
    """Warm up, publish every message, wait until every expected report arrived and count
    reports in every sink. Past `timeout_s` it raises with the function's log tail, or, not
    `strict`, counts what arrived (the missing reports are then lost)."""
    deployment.wait_for(lambda: function_rss_mib(deployment) > 0, 10, "rss")
    warm = deployment.new_build()
    deployment.publish(warm)
    deployment.wait_for(lambda: deployment.delivered_everywhere_once(warm["id"]), 60, "warm-up")
    rss_start = function_rss_mib(deployment)
    started = time.monotonic()
    for message in work.messages:
        if isinstance(message, bytes):
            deployment.publish(message, {"buildId": "garbage"})
        else:
            deployment.publish(message)
    published = time.monotonic()
    expected = work.expected
    try:
        deployment.wait_for(
            lambda: set(deployment.pull_reports(1.0)) >= expected | {warm["id"]},
            timeout_s,
            "all reports",
        )
    except AssertionError:
        if strict:
            raise
    time.sleep(5)  # late duplicates would arrive now
    reports = deployment.pull_reports(2.0)
    elapsed = time.monotonic() - started
    rss_end = function_rss_mib(deployment)
    webhook = {b: deployment.webhook.count(b) for b in expected}
    chat = {b: deployment.chat.count(b) for b in expected}
    rows = {
        "messages": len(work.messages),
        "expected reports": len(expected),
        "reported (pubsub)": sum(1 for b in expected if reports[b] >= 1),
        "duplicated (any sink)": sum(
            1 for b in expected if max(reports[b], webhook[b], chat[b]) > 1
        ),
        "lost (any sink)": sum(1 for b in expected if min(reports[b], webhook[b], chat[b]) == 0),
        "unexpected reports": len(set(reports) - expected - {warm["id"]}),
        "seconds": round(elapsed, 1),
        "function RSS start MiB": round(rss_start, 1),
        "function RSS end MiB": round(rss_end, 1),
    }
    return Result(rows, rss_start, rss_end, started, published)
