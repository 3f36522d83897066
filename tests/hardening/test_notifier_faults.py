"""Faults on the real Pub/Sub and Firestore emulators: a killed function, restarted
emulators, a slow then failing log source, Gemini down, a sink rate-limiting for long.
Every failed build ends up reported exactly once on every sink."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.gemini import FakeGemini
from tests.fakes.http import Request, Response
from tests.hardening.harness import Deployment

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path_factory.mktemp("faults"))
    yield deployment
    deployment.stop()


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


def test_slow_then_failing_log_source_then_back(deployment: Deployment) -> None:
    entries = json.loads(Path("fixtures/builds/npm-error/entries.json").read_text())
    build = deployment.new_build("npm-error", options={"logging": "CLOUD_LOGGING_ONLY"})
    for entry in entries:
        entry["resource"]["labels"]["build_id"] = build["id"]
    deployment.logging_api.entries = entries
    deployment.logging_api.page_size = max(1, len(entries) // 4)
    deployment.logging_api.delay_s = 10  # 10 s per page: past LOG_FETCH_DEADLINE_S
    deployment.publish(build)
    deployment.wait_for(lambda: "LOG_FETCH_DEADLINE_S" in deployment.function.output(), 120,
                        "the fetch deadline")  # fmt: skip
    deployment.logging_api.delay_s = 0
    for _ in range(4):  # then failing
        deployment.logging_api.faults.append(Response(503, b'{"error": {"code": 503}}'))
    deployment.wait_for(lambda: deployment.delivered_everywhere_once(build["id"]), 120,
                        "the report once the log source is back")  # fmt: skip
    report = next(json.loads(r.body) for r in deployment.webhook.accepted
                  if r.headers["X-Buildlens-Delivery"].startswith(build["id"]))  # fmt: skip
    assert report["log"]["source"].startswith("logging:")


def test_sink_rate_limited_with_long_retry_after(deployment: Deployment) -> None:
    build = deployment.new_build()
    until = time.monotonic() + 20

    def rate_limited(request: Request) -> Response | None:
        if time.monotonic() < until:
            return Response(429, b"{}", {"Retry-After": "120"})
        return None

    deployment.webhook.behaviour = rate_limited
    try:
        deployment.publish(build)
        deployment.wait_for(lambda: deployment.webhook.refused > 0, 30, "a 429")
        deployment.wait_for(lambda: deployment.delivered_everywhere_once(build["id"]), 120,
                            "the report after the rate limit")  # fmt: skip
        # Retry-After was longer than the sink's deadline: the sink gave up at once and let
        # Pub/Sub redeliver, instead of sleeping 120 s inside one invocation.
        assert "past this send's" in deployment.function.output()
    finally:
        deployment.webhook.behaviour = lambda r: None


def test_gemini_down_costs_only_the_explanation(deployment: Deployment, tmp_path: Path) -> None:
    gemini = FakeGemini().start()
    for _ in range(200):
        gemini.faults.append(Response(500, b'{"error": {"code": 500, "status": "INTERNAL"}}'))
    deployment.function.stop()
    deployment.env.update(
        ANALYZERS="failing_step,key_lines,excerpt,classify,fingerprint,gemini",
        GEMINI_API_KEY="test-key-not-secret",
        GEMINI_BASE_URL=gemini.url,
        LLM_DEADLINE_S="5",
    )
    deployment.function = deployment.start_function()
    try:
        build = deployment.new_build()
        deployment.publish(build)
        deployment.wait_for(lambda: deployment.delivered_everywhere_once(build["id"]), 90,
                            "the report without the explanation")  # fmt: skip
        report = next(json.loads(r.body) for r in deployment.webhook.accepted
                      if r.headers["X-Buildlens-Delivery"].startswith(build["id"]))  # fmt: skip
        assert [e["name"] for e in report["errors"]] == ["gemini"]
        assert report["category"]  # the rule analyzers still ran
        assert len(gemini.requests) >= 1
    finally:
        gemini.stop()
