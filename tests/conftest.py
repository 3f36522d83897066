from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.cloud_logging import FakeCloudLogging
from tests.fakes.gcs import FakeGcs
from tests.procs import Process, start_emulator

pytest.register_assert_rewrite("tests.notifier.golden")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "builds"


def fixture_cases() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if (p / "build.json").exists())


@pytest.fixture
def fake_gcs() -> Iterator[FakeGcs]:
    server = FakeGcs().start()
    yield server
    server.stop()


@pytest.fixture
def fake_logging() -> Iterator[FakeCloudLogging]:
    server = FakeCloudLogging()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    process = start_emulator("pubsub", tmp_path_factory.mktemp("pubsub") / "emulator.log")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    process = start_emulator("firestore", tmp_path_factory.mktemp("firestore") / "emulator.log")
    yield process
    process.stop()


@pytest.fixture
def firestore_env(firestore_emulator: Process, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the real Firestore client at the emulator; returns the emulator's host:port."""
    host = firestore_emulator.url.removeprefix("http://")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "buildlens-demo")
    return host
