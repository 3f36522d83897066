"""Load through the whole stack (entrypoint.sh: vLLM on CPU with the tiny model, the gateway):
200 concurrent streaming clients for 60 s on loopback, a fifth of them hanging up after their
first token, some on a rate-limited key. Afterwards vLLM has nothing running or waiting, nothing
failed but the configured rate limit, and the gateway's memory stayed flat.

BUILDLENS_LOAD_SECONDS / BUILDLENS_LOAD_CLIENTS shorten or widen the run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.keys import KeySet, new_key
from tests.service import vllm_harness
from tests.service.conftest import key_record
from tests.service.hardening import load

pytestmark = [pytest.mark.vllm, pytest.mark.load, pytest.mark.serial, pytest.mark.timeout(600)]

SECONDS = float(os.environ.get("BUILDLENS_LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("BUILDLENS_LOAD_CLIENTS", "200"))
CAPPED_RPM = 20
# Memory bound: the gateway's RSS may not grow more than this between 10 s in and the end.
RSS_GROWTH_KIB = 32 * 1024


@dataclass
class LoadStack:
    stack: vllm_harness.Stack
    keys: list[str]  # 9 clients in 10 use the unlimited key, 1 in 10 the capped one


def load_stack_env(workdir: Path, model: Path, python: Path, keys_file: Path) -> dict[str, str]:
    return vllm_harness.cpu_env(
        workdir,
        model,
        python,
        GATEWAY_KEYS_FILE=str(keys_file),
        GATEWAY_ACCESS_LOG="false",
        MAX_NUM_SEQS="32",
        VLLM_TORCH_COMPILE_LEVEL="0",  # no pre-warm: the load itself warms up
    )


def write_keys(keys_file: Path) -> list[str]:
    unlimited, capped = new_key(), new_key()
    records = (key_record("load", unlimited), key_record("capped", capped, rpm=CAPPED_RPM))
    keys_file.write_text(KeySet(keys=records).to_json())
    return [unlimited] * 9 + [capped]


@pytest.fixture(scope="module")
def load_stack(
    vllm_python: Path, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LoadStack]:
    workdir = tmp_path_factory.mktemp("load-stack")
    keys = write_keys(workdir / "keys.json")
    env = load_stack_env(workdir, tiny_model_dir, vllm_python, workdir / "keys.json")
    try:
        stack = vllm_harness.start_stack(env, workdir / "entrypoint.log")
    except vllm_harness.HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield LoadStack(stack, keys)
    stack.kill()


def test_streaming_load_leaks_nothing(load_stack: LoadStack) -> None:
    stack = load_stack.stack
    pid = load.gateway_pid(stack.proc.pid)
    result = asyncio.run(
        load.run_load(stack.url, load_stack.keys, clients=CLIENTS, seconds=SECONDS, pid=pid)
    )
    load.settle(stack.vllm_url, result, within=10)
    result.rss_end_kib = load.rss_kib(pid)
    print("\n" + load.table(result))

    assert result.vllm_after == {"running": 0, "waiting": 0}, "vLLM still busy after the load"
    assert result.settle_seconds < 5, f"vLLM took {result.settle_seconds:.1f} s to drain"
    assert result.other_errors == 0, dict(result.errors)
    assert result.rate_limited > 0, "the capped key never hit its limit: the load is too light"
    assert result.completed > 0
    assert result.early_disconnects > 0
    assert result.rss_end_kib - result.rss_warm_kib < RSS_GROWTH_KIB, load.table(result)
    assert stack.proc.poll() is None, "the stack died under load"
