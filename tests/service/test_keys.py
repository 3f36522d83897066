"""Key records, both JSON forms, and the in-memory store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.keys import (
    EnvSource,
    FileSource,
    KeySet,
    KeySetError,
    KeyStore,
    digest,
    new_key,
    parse_key_set,
)


def test_new_key_shape() -> None:
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    for key in keys:
        assert key.startswith("sk-")
        assert len(key) >= 46
        assert set(key[3:]) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_plain_mapping() -> None:
    key_set = parse_key_set('{"ci": "sk-a", "ops": "sk-b"}', admin_names=frozenset({"ops"}))
    ci, ops = key_set.find("ci"), key_set.find("ops")
    assert ci is not None
    assert ops is not None
    assert ci.sha256 == digest("sk-a")
    assert (ci.admin, ops.admin) == (False, True)
    assert "sk-a" not in key_set.to_json()


def test_project_form_round_trip() -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    text = json.dumps(
        {
            "version": 1,
            "keys": [
                {
                    "name": "ci",
                    "sha256": digest("sk-x"),
                    "created": created.isoformat(),
                    "expires": "2027-01-01T00:00:00",
                    "rpm": 10,
                    "admin": True,
                }
            ],
        }
    )
    key_set = parse_key_set(text)
    record = key_set.keys[0]
    assert record.expires == datetime(2027, 1, 1, tzinfo=UTC)  # naive times are UTC
    assert record.expired(datetime(2027, 1, 2, tzinfo=UTC))
    assert not record.expired(datetime(2026, 6, 1, tzinfo=UTC))
    assert parse_key_set(key_set.to_json()) == key_set


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("42", "must be"),
        ('{"a": 1}', "must be"),
        ('{"keys": [{"name": "a"}]}', "invalid key record"),
        ('{"keys": [{"name": "a", "sha256": "zz", "created": "2026-01-01"}]}', "invalid"),
        ('{"a": "sk-1", "b": "sk-1"}', "same key appears twice"),
        ('[{"name": "a", "key": "sk-1"}, {"name": "a", "key": "sk-2"}]', "duplicate key names"),
        ('{"version": 2, "keys": []}', "unsupported key set version"),
    ],
)
def test_bad_key_sets(text: str, message: str) -> None:
    with pytest.raises(KeySetError, match=message):
        parse_key_set(text)


@given(st.text(min_size=1, max_size=80))
def test_store_matches_only_the_exact_key(candidate: str) -> None:
    store = KeyStore(EnvSource('{"one": "sk-the-only-key"}'))
    store.reload()
    found = store.authenticate(candidate)
    assert (found is not None) == (candidate == "sk-the-only-key")


def test_store_keeps_last_good_set(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text('{"a": "sk-a"}')
    store = KeyStore(FileSource(path))
    assert store.reload().ok
    path.write_text("garbage")
    result = store.reload()
    assert (result.ok, result.keys) == (False, 1)
    assert "not valid JSON" in (result.error or "")
    assert store.authenticate("sk-a") is not None
    path.unlink()
    assert not store.reload().ok
    assert store.authenticate("sk-a") is not None
    path.write_text('{"b": "sk-b"}')
    assert store.reload().ok
    assert store.authenticate("sk-a") is None


def test_key_set_edits() -> None:
    now = datetime.now(UTC)
    key_set = parse_key_set('{"a": "sk-a"}', now=now)
    record = key_set.keys[0].model_copy(update={"rpm": 5})
    assert key_set.with_record(record).keys == (record,)
    assert key_set.without("a") == KeySet()
    assert key_set.keys[0].created == now
    assert not key_set.keys[0].expired(now + timedelta(days=9999))
