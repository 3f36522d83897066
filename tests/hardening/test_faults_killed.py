"""A function killed mid-delivery, on the real Pub/Sub and Firestore emulators: the
redelivery reports the failed build exactly once on every sink.

The `deployment` fixture (one per module) is in tests/hardening/conftest.py."""

from __future__ import annotations

import time

import pytest

from tests.hardening.harness import Deployment

pytestmark = pytest.mark.emulator


def test_killed_while_fetching_the_log_then_redelivered(deployment: Deployment) -> None:
    build = deployment.new_build()
    deployment.gcs.delay_s = 20  # the log download hangs: kill the function meanwhile
    deployment.publish(build)
    deployment.wait_for(lambda: any(build["id"] in r.path for r in deployment.gcs.requests),
                        30, "the log fetch")  # fmt: skip
    deployment.function.kill()
    deployment.gcs.delay_s = 0
    assert deployment.counts(build["id"]) == (0, 0, 0)
    deployment.function = deployment.start_function()  # a new instance takes over
    deployment.wait_for(lambda: deployment.delivered_everywhere_once(build["id"]), 90,
                        "one report on every sink")  # fmt: skip


def test_killed_after_one_sink_posted_resends_only_the_rest(deployment: Deployment) -> None:
    build = deployment.new_build()
    deployment.chat.delay_s = 30  # the second sink hangs: kill the function meanwhile
    deployment.publish(build)
    deployment.wait_for(lambda: deployment.webhook.count(build["id"]) == 1, 60, "the webhook")
    time.sleep(0.5)
    deployment.function.kill()
    deployment.chat.delay_s = 0
    deployment.function = deployment.start_function()
    # The dead instance's claim on the chat sink expires after CLAIM_LEASE_S, then the
    # redelivery posts to chat and pubsub only.
    deployment.wait_for(lambda: deployment.delivered_everywhere_once(build["id"]), 120,
                        "the redelivery")  # fmt: skip
    time.sleep(3)
    assert deployment.counts(build["id"]) == (1, 1, 1)
