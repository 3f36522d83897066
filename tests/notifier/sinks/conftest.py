from __future__ import annotations

import base64
import io
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from analyzers.base import Finding, LineRange
from buildlens_core.build import decode_build
from buildlens_core.settings import load_settings
from notifier.logsources.fixture import FixtureLogSource
from notifier.pipeline import Notifier
from notifier.report import ExcerptLine, History, Report, SincePassing, StageError
from tests.conftest import FIXTURES
from tests.fakes.cloud_logging_write import FakeLoggingWriter
from tests.fakes.github import FakeGitHub
from tests.fakes.google_chat import FakeGoogleChat
from tests.fakes.slack import FakeSlack
from tests.fakes.webhook import FakeWebhook
from tests.service.fake_secretmanager import SecretStore, make_secretmanager
from tests.service.servers import serve

HOSTILE = (
    "<!channel> <!here> @here @channel <@U123> [click](https://evil.example) ``` &amp; "
    "<https://evil.example|x> *bold* _it_ <b>html</b>"
)


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep backoff short so retry tests run in well under a second."""
    monkeypatch.setenv("SINK_HTTP_BACKOFF_S", "0.01")
    monkeypatch.setenv("SINK_HTTP_MAX_BACKOFF_S", "0.05")


# -- Secret Manager ---------------------------------------------------------------------


@dataclass
class Secrets:
    store: SecretStore

    def put(self, value: str) -> str:
        """Store `value` as a new secret; returns its sm:// reference."""
        name = f"projects/buildlens-demo/secrets/s-{uuid.uuid4().hex[:12]}"
        self.store.secrets[name] = [value.encode()]
        return f"sm://{name}/versions/latest"


@pytest.fixture(scope="session")
def secret_manager() -> Iterator[Secrets]:
    # buildlens_core.secrets builds its client once per process, from this variable.
    store = SecretStore()
    with serve(make_secretmanager(store)) as url:
        previous = os.environ.get("SECRET_MANAGER_ENDPOINT")
        os.environ["SECRET_MANAGER_ENDPOINT"] = url
        try:
            yield Secrets(store)
        finally:
            if previous is None:
                os.environ.pop("SECRET_MANAGER_ENDPOINT", None)
            else:
                os.environ["SECRET_MANAGER_ENDPOINT"] = previous


# -- every log line, from every logger --------------------------------------------------


@dataclass
class Logs:
    records: list[logging.LogRecord] = field(default_factory=list)
    stream: io.StringIO = field(default_factory=io.StringIO)

    def text(self) -> str:
        formatted = "\n".join(r.getMessage() for r in self.records)
        return formatted + "\n" + self.stream.getvalue()


class _ListHandler(logging.Handler):
    def __init__(self, logs: Logs) -> None:
        super().__init__(logging.DEBUG)
        self.logs = logs

    def emit(self, record: logging.LogRecord) -> None:
        self.logs.records.append(record)
        self.logs.stream.write(self.format(record) + "\n")


@pytest.fixture
def logs() -> Iterator[Logs]:
    captured = Logs()
    handler = _ListHandler(captured)
    names = ["", "buildlens", "httpx", "httpcore", "google", "urllib3"]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


# -- fakes ------------------------------------------------------------------------------


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    server = FakeSlack()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_chat() -> Iterator[FakeGoogleChat]:
    server = FakeGoogleChat()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_webhook() -> Iterator[FakeWebhook]:
    server = FakeWebhook()
    server.start()
    yield server
    server.stop()


GITHUB_TOKEN = "ghs_" + "t0k3n" * 8


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    server = FakeGitHub(GITHUB_TOKEN, prefix="/api/v3")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_logging_writer() -> Iterator[FakeLoggingWriter]:
    server = FakeLoggingWriter()
    server.start()
    yield server
    server.stop()


# -- reports ----------------------------------------------------------------------------


class _Capture:
    name = "capture"

    def __init__(self) -> None:
        self.reports: list[Report] = []

    def send(self, report: Report) -> None:
        self.reports.append(report)


def build_json(case: str = "pytest-failure", **subs: str) -> dict[str, Any]:
    build: dict[str, Any] = json.loads((FIXTURES / case / "build.json").read_text())
    build["id"] = str(uuid.uuid4())
    build.setdefault("substitutions", {}).update(subs)
    return build


def fixture_report(case: str = "pytest-failure", **subs: str) -> Report:
    """The report the real pipeline makes for a recorded build."""
    capture = _Capture()
    notifier = Notifier(load_settings(), sinks=[capture])
    build = decode_build(build_json(case, **subs))
    notifier.handle_build(build, log_source=FixtureLogSource(FIXTURES / case, 1 << 24))
    return capture.reports[0]


def hostile_report() -> Report:
    """Everything at once: huge lines, markup, mentions, backticks, many findings and errors."""
    huge = (HOSTILE + " ") * 100  # ~12k characters
    subs = {
        "TRIGGER_NAME": "<!channel> deploy @here " + "x" * 300,
        "BRANCH_NAME": "feat/<!here>|`x`",
        "_PR_NUMBER": "17",
    }
    build = decode_build(build_json(**subs))
    findings = (
        Finding(
            "failing_step",
            "failing_step",
            huge,
            data={"step_index": 1, "step_id": "unit-tests", "exit_code": 1},
        ),
        Finding("key_lines", "key_lines", "k", lines=(LineRange(1, 150),)),
        Finding(
            "classification",
            "classification",
            huge,
            data={"category": "test", "rule": "r", "hint": huge, "doc_url": "javascript:alert(1)"},
        ),
        Finding("fingerprint", "fingerprint", "f", data={"fingerprint": "abc123"}),
        Finding(
            "explanation",
            "explanation",
            huge,
            data={
                "summary": huge,
                "root_cause": huge,
                "fix_steps": [huge] * 20,
                "provider": "openai",
                "model": HOSTILE,
            },
        ),
    )
    excerpt = tuple(
        ExcerptLine(n, f"\x1b[31m{n} {huge}\x1b[0m ```", 1, key=True) for n in range(1, 151)
    )
    errors = tuple(StageError("analyzer", f"a{i}", huge) for i in range(20))
    history = History("abc123", 5, 4, "0badcafe", "2026-11-18T09:00:00Z", flaky=True)
    since = SincePassing(
        build=huge, commit=HOSTILE, finished="2026-11-17T09:00:00Z",
        log_url="javascript:alert(1)", builds_since=3, compare_url="https://x.test/" + huge,
        step=1, step_lines=4000, new_lines=17, compared=3,
    )  # fmt: skip
    return Report(
        build,
        findings,
        excerpt,
        errors,
        log_source="fixture",
        log_lines=150,
        history=history,
        since_passing=since,
        notes=(huge,),
    )


def recovery_report() -> Report:
    build = decode_build(build_json("success"))
    return Report(build, kind="recovery", fixed_failure="0badcafe-1111")


def write_template(tmp_path: Path, text: str, name: str = "t.j2") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
