"""`python -m service.keys`: create, add, list, remove and rotate API keys.

Works on a Secret Manager secret (each change adds a version) or a local JSON file. A new key is
printed once on stdout; only its SHA-256 digest is stored.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .records import KeyRecord, KeySet, KeySetError, digest, new_key, parse_key_set
from .sources import FileSource, KeySource, KeySourceError, SecretManagerSource, secret_client


class CliError(RuntimeError):
    """A user-facing failure; printed without a traceback."""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where the keys live (one of)")
    where.add_argument(
        "--secret",
        default=os.environ.get("GATEWAY_KEYS_SECRET"),
        help="projects/P/secrets/S (default: $GATEWAY_KEYS_SECRET)",
    )
    where.add_argument(
        "--file", default=os.environ.get("GATEWAY_KEYS_FILE"), help="local JSON key file"
    )
    common.add_argument(
        "--endpoint",
        default=os.environ.get("GATEWAY_SECRET_MANAGER_ENDPOINT"),
        help="Secret Manager endpoint override (private endpoint or a local test server)",
    )
    common.add_argument(
        "--anonymous", action="store_true", help="no credentials (local test servers only)"
    )

    parser = argparse.ArgumentParser(prog="python -m service.keys", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create-secret", parents=[common], help="create an empty key set")
    add = sub.add_parser("add", parents=[common], help="add a key and print it once")
    add.add_argument("--name", required=True)
    add.add_argument("--admin", action="store_true", help="may reload keys and read /metrics")
    add.add_argument("--rpm", type=int, help="requests per minute for this key (0 = unlimited)")
    add.add_argument("--expires-days", type=float, help="key stops working after this many days")
    lst = sub.add_parser("list", parents=[common], help="list key names (never keys)")
    lst.add_argument("--json", action="store_true")
    rm = sub.add_parser("remove", parents=[common], help="revoke a key")
    rm.add_argument("--name", required=True)
    rot = sub.add_parser("rotate", parents=[common], help="replace a key, keeping its settings")
    rot.add_argument("--name", required=True)
    return parser


def _source(args: argparse.Namespace) -> KeySource:
    if bool(args.secret) == bool(args.file):
        raise CliError("give exactly one of --secret projects/P/secrets/S or --file PATH")
    if args.file:
        return FileSource(Path(args.file))
    SecretManagerSource(args.secret, None)  # validates the name before looking for credentials
    try:
        client = secret_client(args.endpoint, args.anonymous)
    except Exception as exc:  # google.auth's DefaultCredentialsError and friends
        raise CliError(
            f"no Google credentials ({type(exc).__name__}): run "
            "`gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
        ) from exc
    return SecretManagerSource(args.secret, client)


def _load(source: KeySource) -> KeySet:
    if isinstance(source, FileSource) and not source.exists():
        return KeySet()
    return parse_key_set(source.load())


def _save(source: KeySource, key_set: KeySet, what: str) -> None:
    where = source.save(key_set.to_json().encode("utf-8"))
    print(f"{what}; saved to {where}", file=sys.stderr)


def _print_key(key: str, name: str) -> None:
    print(key)
    print(
        f"key for {name!r} printed above; it is shown only this once: store it now",
        file=sys.stderr,
    )


def _run(args: argparse.Namespace) -> None:
    source = _source(args)
    now = datetime.now(UTC)
    if args.command == "create-secret":
        if isinstance(source, SecretManagerSource):
            source.create()
        elif isinstance(source, FileSource) and source.exists():
            raise CliError(f"{source.path} already exists; use add/list on it")
        _save(source, KeySet(), "created an empty key set")
        return
    key_set = _load(source)
    if args.command == "list":
        rows = [k.model_dump(mode="json", exclude_none=True) for k in key_set.keys]
        if args.json:
            print(json.dumps(rows, indent=2))
            return
        print(f"{'NAME':24} {'DIGEST':10} {'ADMIN':5} {'RPM':>6} {'CREATED':20} EXPIRES")
        for k in key_set.keys:
            print(
                f"{k.name:24} {k.sha256[:8]:10} {'yes' if k.admin else 'no':5} "
                f"{k.rpm if k.rpm is not None else '-':>6} "
                f"{k.created:%Y-%m-%dT%H:%M:%SZ} "
                f"{k.expires.strftime('%Y-%m-%dT%H:%M:%SZ') if k.expires else '-'}"
            )
        return
    existing = key_set.find(args.name)
    if args.command == "add":
        if existing:
            raise CliError(f"a key named {args.name!r} exists; use rotate --name {args.name}")
        key = new_key()
        expires = now + timedelta(days=args.expires_days) if args.expires_days else None
        record = KeyRecord(
            name=args.name,
            sha256=digest(key),
            created=now,
            expires=expires,
            rpm=args.rpm,
            admin=args.admin,
        )
        _save(source, key_set.with_record(record), f"added key {args.name!r}")
        _print_key(key, args.name)
        return
    if existing is None:
        names = ", ".join(k.name for k in key_set.keys) or "none"
        raise CliError(f"no key named {args.name!r}; existing names: {names}")
    if args.command == "remove":
        _save(source, key_set.without(args.name), f"removed key {args.name!r}")
        return
    key = new_key()
    record = existing.model_copy(update={"sha256": digest(key), "created": now})
    _save(source, key_set.with_record(record), f"rotated key {args.name!r}")
    _print_key(key, args.name)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except (CliError, KeySourceError, KeySetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
