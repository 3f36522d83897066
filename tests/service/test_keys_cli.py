"""`python -m service.keys` against a local Secret Manager REST server and against a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from service.keys import digest, parse_key_set
from service.keys.cli import main
from tests.service.conftest import GatewayFactory, SecretManager

SECRET = "projects/p1/secrets/gateway-keys"
ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sm_args(secretmanager: SecretManager) -> list[str]:
    return ["--secret", SECRET, "--endpoint", secretmanager.url, "--anonymous"]


def test_secret_lifecycle(
    capsys: pytest.CaptureFixture[str], secretmanager: SecretManager, sm_args: list[str]
) -> None:
    assert run(capsys, "create-secret", *sm_args)[0] == 0
    assert secretmanager.store.secrets[SECRET] == [b'{\n  "version": 1,\n  "keys": []\n}\n']

    code, out, err = run(capsys, "add", "--name", "ci", "--rpm", "30", *sm_args)
    assert code == 0
    key = out.strip()
    assert key.startswith("sk-")
    assert len(key) >= 3 + 43  # 32 random bytes, URL-safe base64
    assert "shown only this once" in err
    stored = secretmanager.store.latest(SECRET)
    assert key.encode() not in stored  # only the digest is stored
    record = parse_key_set(stored).find("ci")
    assert record is not None
    assert record.sha256 == digest(key)
    assert record.rpm == 30

    code, _, _ = run(capsys, "add", "--name", "ops", "--admin", *sm_args)
    assert code == 0
    assert len(secretmanager.store.secrets[SECRET]) == 3  # every change is a new version

    code, out, _ = run(capsys, "list", *sm_args)
    assert code == 0
    assert "ci" in out
    assert "ops" in out
    assert key not in out
    code, out, _ = run(capsys, "list", "--json", *sm_args)
    assert [k["name"] for k in json.loads(out)] == ["ci", "ops"]

    code, rotated, _ = run(capsys, "rotate", "--name", "ci", *sm_args)
    assert code == 0
    new = parse_key_set(secretmanager.store.latest(SECRET)).find("ci")
    assert new is not None
    assert new.sha256 == digest(rotated.strip()) != digest(key)
    assert new.rpm == 30  # settings survive rotation

    assert run(capsys, "remove", "--name", "ci", *sm_args)[0] == 0
    assert parse_key_set(secretmanager.store.latest(SECRET)).find("ci") is None
    assert len(secretmanager.store.secrets[SECRET]) == 5


def test_errors_say_what_to_do(
    capsys: pytest.CaptureFixture[str], secretmanager: SecretManager, sm_args: list[str]
) -> None:
    code, _, err = run(capsys, "list", *sm_args)
    assert code == 1
    assert "create-secret" in err
    run(capsys, "create-secret", *sm_args)
    code, _, err = run(capsys, "create-secret", *sm_args)
    assert (code, "already exists" in err) == (1, True)
    run(capsys, "add", "--name", "a", *sm_args)
    code, _, err = run(capsys, "add", "--name", "a", *sm_args)
    assert code == 1
    assert "rotate --name a" in err
    code, _, err = run(capsys, "remove", "--name", "zz", *sm_args)
    assert code == 1
    assert "existing names: a" in err
    code, _, err = run(capsys, "list")
    assert code == 1
    assert "--secret" in err
    code, _, err = run(capsys, "list", "--secret", "bad-name")
    assert code == 1
    assert "projects/PROJECT/secrets/SECRET" in err


def test_plain_mapping_secret_is_migrated(
    capsys: pytest.CaptureFixture[str], secretmanager: SecretManager, sm_args: list[str]
) -> None:
    secretmanager.store.secrets[SECRET] = [json.dumps({"legacy": "sk-legacy-key"}).encode()]
    assert run(capsys, "add", "--name", "new", *sm_args)[0] == 0
    stored = secretmanager.store.latest(SECRET)
    assert b"sk-legacy-key" not in stored
    legacy = parse_key_set(stored).find("legacy")
    assert legacy is not None
    assert legacy.sha256 == digest("sk-legacy-key")


def test_file_backend(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    code, key, _ = run(capsys, "add", "--name", "local", "--file", str(path))
    assert code == 0
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert key.strip() not in path.read_text()
    assert run(capsys, "remove", "--name", "local", "--file", str(path))[0] == 0
    assert parse_key_set(path.read_bytes()).keys == ()


def test_module_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.keys", "add", "--name", "x", "--file", str(tmp_path / "k")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sk-")


def test_gateway_loads_keys_from_secret_manager(
    capsys: pytest.CaptureFixture[str],
    secretmanager: SecretManager,
    sm_args: list[str],
    gateway_factory: GatewayFactory,
) -> None:
    run(capsys, "create-secret", *sm_args)
    _, key, _ = run(capsys, "add", "--name", "svc", *sm_args)
    _, admin, _ = run(capsys, "add", "--name", "ops", "--admin", *sm_args)
    key, admin = key.strip(), admin.strip()
    with gateway_factory(
        keys_file=None,
        keys_secret=SECRET,
        secret_manager_endpoint=secretmanager.url,
        secret_manager_anonymous=True,
    ) as url:
        assert httpx.get(url + "/v1/models", headers={"X-API-Key": key}).status_code == 200
        run(capsys, "remove", "--name", "svc", *sm_args)
        reload = httpx.post(url + "/admin/reload-keys", headers={"X-API-Key": admin})
        assert reload.json() == {"reloaded": True, "keys": 1}
        assert httpx.get(url + "/v1/models", headers={"X-API-Key": key}).status_code == 401
        # The secret disappears: the gateway keeps its last good set.
        secretmanager.store.secrets.clear()
        reload = httpx.post(url + "/admin/reload-keys", headers={"X-API-Key": admin})
        assert reload.status_code == 503
        assert "kept the last good set of 1 keys" in reload.json()["error"]["message"]
        assert httpx.get(url + "/metrics", headers={"X-API-Key": admin}).status_code == 200
