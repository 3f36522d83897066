"""Soak: 1,000 build messages through the Pub/Sub emulator push path (mixed statuses, 20%
duplicates, 5% malformed, logs from 1 kB to 50 MB). Counts what was reported against what
should have been, and the function's memory at the start and at the end. The workload lives
in tests/hardening/soak.py; bench/soak.py runs it too, sampling memory over time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening import soak
from tests.hardening.harness import Deployment

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path_factory.mktemp("soak"), soak.ENV)
    yield deployment
    deployment.stop()


def test_soak(deployment: Deployment, tmp_path: Path) -> None:
    work = soak.workload(deployment, tmp_path)
    expected = work.expected
    result = soak.run(deployment, work)
    rows, rss_start, rss_end = result.rows, result.rss_start, result.rss_end
    print("\n" + result.table())
    assert rows["lost (any sink)"] == 0
    assert rows["duplicated (any sink)"] == 0
    assert rows["unexpected reports"] == 0
    assert rows["reported (pubsub)"] == len(expected)
    assert rss_end - rss_start < 200, "memory grew beyond the bound"
