"""Soak: 1,000 build messages through the Pub/Sub emulator push path (mixed statuses, 20%
duplicates, 5% malformed, logs from 1 kB to 50 MB). Counts what was reported against what
should have been, and the function's memory at the start and at the end."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.biglog import write_big_log
from tests.conftest import fixture_cases
from tests.hardening.harness import Deployment

pytestmark = pytest.mark.emulator
MESSAGES = 1000


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


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path_factory.mktemp("soak"), {"SINK_HTTP_ATTEMPTS": "3"})
    yield deployment
    deployment.stop()


def test_soak(deployment: Deployment, tmp_path: Path) -> None:
    rng = random.Random(20261127)
    big, medium = tmp_path / "50mb.txt", tmp_path / "5mb.txt"
    write_big_log(big, 50 << 20, "soak")
    write_big_log(medium, 5 << 20, "soak")
    failures = [c for c in fixture_cases() if c != "success"]
    unique = int(MESSAGES * 0.75)
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
    messages: list[dict[str, Any] | bytes] = [*builds, *rng.sample(builds, MESSAGES // 5)]
    malformed = [b"\x00\xff not json", b'{"kind": "storage#object"}', b"[1, 2, 3]"]
    messages += [malformed[i % 3] for i in range(MESSAGES - len(messages))]
    rng.shuffle(messages)
    expected = {b["id"] for b in builds if b["status"] in ("FAILURE", "TIMEOUT", "INTERNAL_ERROR")}

    deployment.wait_for(lambda: process_tree_rss_mib(deployment.function.proc.pid) > 0, 10, "rss")
    warm = deployment.new_build()
    deployment.publish(warm)
    deployment.wait_for(lambda: deployment.delivered_everywhere_once(warm["id"]), 60, "warm-up")
    rss_start = process_tree_rss_mib(deployment.function.proc.pid)
    started = time.monotonic()
    for message in messages:
        if isinstance(message, bytes):
            deployment.publish(message, {"buildId": "garbage"})
        else:
            deployment.publish(message)
    deployment.wait_for(
        lambda: set(deployment.pull_reports(1.0)) >= expected | {warm["id"]}, 900, "all reports"
    )
    time.sleep(5)  # late duplicates would arrive now
    reports = deployment.pull_reports(2.0)
    elapsed = time.monotonic() - started
    rss_end = process_tree_rss_mib(deployment.function.proc.pid)
    webhook = {b: deployment.webhook.count(b) for b in expected}
    chat = {b: deployment.chat.count(b) for b in expected}
    rows = {
        "messages": len(messages),
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
    print("\n| soak | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows.items()))
    assert rows["lost (any sink)"] == 0
    assert rows["duplicated (any sink)"] == 0
    assert rows["unexpected reports"] == 0
    assert rows["reported (pubsub)"] == len(expected)
    assert rss_end - rss_start < 200, "memory grew beyond the bound"
