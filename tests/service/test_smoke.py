"""`python -m service.smoke` against the gateway in front of the local upstream."""

from __future__ import annotations

import pytest

from service.smoke import main
from tests.service.conftest import GatewayFactory, Keys
from tests.service.servers import free_port


def test_smoke_passes(gateway: str, keys: Keys, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", gateway, "--key", keys.user]) == 0
    out = capsys.readouterr().out
    assert "smoke: 7 of 7 checks passed" in out
    assert "FAIL" not in out


def test_smoke_fails_with_bad_key(gateway: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", gateway, "--key", "sk-wrong"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  models (Bearer)" in out
    assert "is the key valid?" in out


def test_smoke_fails_when_model_down(
    gateway_factory: GatewayFactory, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    with gateway_factory(upstream_url=f"http://127.0.0.1:{free_port()}") as url:
        assert main(["--url", url, "--key", keys.user, "--timeout", "5"]) == 1
    assert "FAIL  health" in capsys.readouterr().out
