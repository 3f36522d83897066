"""Restarted Pub/Sub and Firestore emulators: nothing is lost and nothing is doubled.

The `deployment` fixture (one per module) is in tests/hardening/conftest.py."""

from __future__ import annotations

import json
import time

import pytest

from tests.hardening.harness import Deployment

pytestmark = pytest.mark.emulator


def test_firestore_restart_loses_nothing_and_doubles_nothing(deployment: Deployment) -> None:
    deployment.firestore.stop()
    builds = [deployment.new_build() for _ in range(3)]
    for build in builds:
        deployment.publish(build)
    deployment.wait_for(lambda: "Firestore" in deployment.function.output(), 60,
                        "the function to say Firestore failed")  # fmt: skip
    assert all(deployment.counts(b["id"]) == (0, 0, 0) for b in builds)
    from tests.procs import start_emulator

    deployment.firestore = start_emulator(
        "firestore", deployment.tmp / "firestore.log", port=deployment.firestore_port
    )
    for build in builds:
        deployment.wait_for(lambda b=build: deployment.delivered_everywhere_once(b["id"]), 180,
                            "reports after Firestore came back")  # fmt: skip
    time.sleep(3)
    assert [deployment.counts(b["id"]) for b in builds] == [(1, 1, 1)] * 3
    errors = [json.loads(line) for line in deployment.function.output().splitlines()
              if line.startswith("{") and "Firestore" in line]  # fmt: skip
    assert errors and all("redeliver" in e["message"] for e in errors)


def test_pubsub_restart_keeps_delivering(deployment: Deployment) -> None:
    before = deployment.new_build()
    deployment.publish(before)
    deployment.wait_for(lambda: deployment.delivered_everywhere_once(before["id"]), 60, "batch 1")
    deployment.restart_pubsub()  # the emulator forgets topics and subscriptions; we rewire
    deployment.reports.clear()
    after = deployment.new_build()
    deployment.publish(after)
    deployment.wait_for(lambda: deployment.delivered_everywhere_once(after["id"]), 90, "batch 2")
