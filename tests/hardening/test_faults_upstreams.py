"""Misbehaving upstreams on the real emulators: a slow then failing log source, a sink
rate-limiting for long, Gemini down. Every failed build is still reported exactly once.

The `deployment` fixture (one per module) is in tests/hardening/conftest.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.fakes.gemini import FakeGemini
from tests.fakes.http import Request, Response
from tests.hardening.harness import Deployment

pytestmark = pytest.mark.emulator


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
