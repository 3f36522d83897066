"""Fixtures for the hardening tests: planted keys, a reflecting upstream, the production server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from service import Settings, create_app
from service.keys import KeySet, new_key
from service.server import server_config
from tests.service.conftest import key_record
from tests.service.hardening.upstreams import Seen, reflecting_upstream
from tests.service.servers import free_port, serve


@dataclass
class Planted:
    """Keys in the gateway's store. `unused` ones are never sent: only a leak could reveal them."""

    admin: str
    user: str
    limited: str
    unused: tuple[str, ...]
    file: Path

    def all(self) -> tuple[str, ...]:
        return (self.admin, self.user, self.limited, *self.unused)

    def secrets(self) -> list[bytes]:
        """Every form a key could leak in: itself, its hex and base64 digests, hex prefixes."""
        found: list[bytes] = []
        for key in self.all():
            raw = hashlib.sha256(key.encode()).digest()
            found += [
                key.encode(),
                key[3:].encode(),  # without the sk- prefix
                raw.hex().encode(),
                raw.hex()[:16].encode(),
                base64.b64encode(raw).rstrip(b"="),
                base64.urlsafe_b64encode(raw).rstrip(b"="),
            ]
        return found


def plant(directory: Path) -> Planted:
    planted = Planted(
        admin=new_key(),
        user=new_key(),
        limited=new_key(),
        unused=tuple(new_key() for _ in range(3)),
        file=directory / "keys.json",
    )
    records = [
        key_record("admin", planted.admin, admin=True),
        key_record("user", planted.user),
        key_record("limited", planted.limited, rpm=3),
        *(key_record(f"unused-{i}", k) for i, k in enumerate(planted.unused)),
    ]
    planted.file.write_text(KeySet(keys=tuple(records)).to_json())
    return planted


def assert_no_leak(planted: Planted, body: bytes, headers: list[tuple[str, str]]) -> None:
    text = body.lower() + b"\n".join(f"{k}: {v}".encode("latin-1").lower() for k, v in headers)
    for secret in planted.secrets():
        assert secret.lower() not in text, "a planted key (or its digest) is in a response"


@dataclass
class Upstream:
    url: str
    seen: Seen


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    return plant(tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="module")
def reflecting() -> Iterator[Upstream]:
    seen = Seen()
    with serve(reflecting_upstream(seen)) as url:
        yield Upstream(url, seen)


def gateway_settings(upstream: Upstream, planted: Planted, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "upstream_url": upstream.url,
        "keys_file": planted.file,
        "access_log": False,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def production_server(settings: Settings) -> Iterator[tuple[str, int]]:
    """The gateway in the server configuration `python -m service` uses, on 127.0.0.1."""
    port = free_port()
    config = server_config(
        create_app(settings), settings, host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "gateway failed to start; see the log above"
        assert time.monotonic() < deadline, "gateway did not start within 15 s"
        time.sleep(0.01)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=15)
