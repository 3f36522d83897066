"""A whole deployment on the real emulators, one per test module, so that the fault tests of
different files run on different pytest-xdist workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hardening.harness import Deployment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path_factory.mktemp("faults"))
    yield deployment
    deployment.stop()
