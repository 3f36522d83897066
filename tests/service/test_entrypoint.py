"""service/entrypoint.sh with a stand-in vLLM: flags, stages, pre-warm switch, failures, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service.keys import KeySet, new_key
from tests.service import vllm_harness
from tests.service.conftest import key_record
from tests.service.servers import free_port

FAKE_VLLM = Path(__file__).with_name("fake_vllm.py")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    wrapper = tmp_path / "fake-vllm-python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_VLLM}" "$@"\n')
    wrapper.chmod(0o755)
    model = tmp_path / "model"
    model.mkdir()
    key = new_key()
    keys = tmp_path / "keys.json"
    keys.write_text(KeySet(keys=(key_record("user", key),)).to_json())
    return {
        **os.environ,
        "VLLM_PYTHON": str(wrapper),
        "GATEWAY_PYTHON": sys.executable,
        "MODEL_DIR": str(model),
        "SERVED_MODEL_NAME": "fake",
        "FAKE_VLLM_ARGS": str(tmp_path / "args.json"),
        "GATEWAY_KEYS_FILE": str(keys),
        "PORT": str(free_port()),
        "VLLM_PORT": str(free_port()),
        "VLLM_TORCH_COMPILE_LEVEL": "3",
        "PREWARM_DEADLINE": "20",
        "TEST_KEY": key,
    }


def run_to_end(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(vllm_harness.ENTRYPOINT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_full_start_then_sigterm(env: dict[str, str], tmp_path: Path) -> None:
    stack = vllm_harness.start_stack(env, tmp_path / "out.log", deadline=60)
    try:
        response = httpx.get(stack.url + "/v1/models", headers={"X-API-Key": env["TEST_KEY"]})
        assert [m["id"] for m in response.json()["data"]] == ["fake"]
        args = json.loads(Path(env["FAKE_VLLM_ARGS"]).read_text())
        joined = " ".join(args)
        assert "--host 127.0.0.1" in joined
        assert "--dtype bfloat16" in joined  # from config.env
        assert "--served-model-name fake" in joined
        assert "--generation-config auto" in joined
        assert "--reasoning-parser deepseek_r1" in joined
        assert "--max-num-seqs 32" in joined
        assert '{"mode": 3}' in args
    finally:
        code = stack.stop(timeout=30)
    output = stack.output()
    assert code == 0
    assert list(vllm_harness.stage_timings(output)) == [
        "config",
        "vllm_ready",
        "prewarm",
        "gateway_ready",
        "total",
    ]
    assert "pre-warm done" in output
    for url in (stack.url, stack.vllm_url):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/health", timeout=2)


def test_env_overrides_config_and_prewarm_switch(env: dict[str, str], tmp_path: Path) -> None:
    env.update(VLLM_DTYPE="float32", VLLM_EXTRA_ARGS="--enforce-eager --max-model-len 512")
    env["SKIP_PREWARM"] = "1"
    stack = vllm_harness.start_stack(env, tmp_path / "out.log", deadline=60)
    stack.stop(timeout=30)
    args = json.loads(Path(env["FAKE_VLLM_ARGS"]).read_text())
    assert args[args.index("--dtype") + 1] == "float32"
    assert "--enforce-eager" in args
    assert args[-3:] == ["--enforce-eager", "--max-model-len", "512"]  # last one wins in vLLM
    assert "prewarm" not in vllm_harness.stage_timings(stack.output())


def test_gateway_exits_when_vllm_dies(env: dict[str, str], tmp_path: Path) -> None:
    env.update(FAKE_VLLM_MODE="die", FAKE_VLLM_DIE_AFTER="4", SKIP_PREWARM="1")
    start = time.monotonic()
    result = run_to_end(env)
    assert result.returncode == 5
    assert "vLLM exited with status 5; stopping the other process" in result.stderr
    assert time.monotonic() - start < 30
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{env['PORT']}/health", timeout=2)


def test_fails_fast_when_vllm_exits(env: dict[str, str]) -> None:
    env["FAKE_VLLM_MODE"] = "exit"
    result = run_to_end(env)
    assert result.returncode == 1
    assert "vLLM exited with status 3 before becoming healthy" in result.stderr


def test_startup_deadline(env: dict[str, str]) -> None:
    env.update(FAKE_VLLM_MODE="hang", VLLM_STARTUP_DEADLINE="3")
    result = run_to_end(env)
    assert result.returncode == 1
    assert "vLLM not healthy within 3s; raise VLLM_STARTUP_DEADLINE" in result.stderr


def test_missing_model_dir(env: dict[str, str], tmp_path: Path) -> None:
    env["MODEL_DIR"] = str(tmp_path / "nope")
    result = run_to_end(env)
    assert result.returncode == 1
    assert "model directory" in result.stderr
    assert "missing" in result.stderr


def test_model_dir_derived_from_model_id(env: dict[str, str], tmp_path: Path) -> None:
    del env["MODEL_DIR"]
    env["MODELS_ROOT"] = str(tmp_path / "models")
    result = run_to_end(env)
    assert "models/deepseek-ai--DeepSeek-R1-Distill-Qwen-1.5B missing" in result.stderr


def test_sigint_is_forwarded(env: dict[str, str], tmp_path: Path) -> None:
    env["SKIP_PREWARM"] = "1"
    stack = vllm_harness.start_stack(env, tmp_path / "out.log", deadline=60)
    stack.proc.send_signal(signal.SIGINT)
    assert stack.proc.wait(30) == 0
    assert "received SIGINT" in stack.output()
