"""Fixtures for the LLM analyzer tests: the real vLLM tier, reusing the service harness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.keys import KeySet, new_key
from tests.service import vllm_harness
from tests.service.conftest import key_record, tiny_model_dir, vllm_python

__all__ = ["tiny_model_dir", "vllm_python"]  # the harness's session fixtures, shared

# The analyzer's prompt (instructions, facts, excerpt) needs more than the harness's default
# 512-token context; the tiny model has 4096 positions.
MAX_MODEL_LEN = "4096"


@dataclass
class LlmStack:
    gateway_url: str
    vllm_url: str
    key: str
    stack: vllm_harness.Stack


@pytest.fixture(scope="module")
def llm_stack(
    vllm_python: Path, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlmStack]:
    """entrypoint.sh (vLLM with the R1 reasoning parser, and the gateway) on CPU."""
    workdir = tmp_path_factory.mktemp("llm-stack")
    key = new_key()
    keys_file = workdir / "keys.json"
    keys_file.write_text(KeySet(keys=(key_record("analyzer", key),)).to_json())
    env = vllm_harness.cpu_env(
        workdir,
        tiny_model_dir,
        vllm_python,
        GATEWAY_KEYS_FILE=str(keys_file),
        MAX_MODEL_LEN=MAX_MODEL_LEN,
    )
    try:
        stack = vllm_harness.start_stack(env, workdir / "entrypoint.log")
    except vllm_harness.HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield LlmStack(stack.url, stack.vllm_url, key, stack)
    stack.kill()
