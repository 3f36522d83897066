"""Command line: `python -m notifier replay|serve|send`."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildlens_core.config import REPO_ROOT
from buildlens_core.errors import ConfigError, PermanentError, TransientError
from buildlens_core.settings import load_settings
from notifier.render import RENDERERS

DEFAULT_FIXTURE = REPO_ROOT / "fixtures" / "builds" / "pytest-failure"


@dataclass(frozen=True)
class Case:
    build_path: Path
    log_path: Path


def load_build_json(path: Path) -> object:
    """A Build from build.json, or from a Pub/Sub push body (message.json)."""
    obj = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(obj, dict) and isinstance(obj.get("message"), dict):
        return json.loads(base64.b64decode(obj["message"]["data"]))
    return obj


def collect_cases(paths: Sequence[str]) -> list[Case]:
    """Folders are fixtures; a `.json` file followed by a log file is a (build, log) pair."""
    cases: list[Case] = []
    items = [Path(p) for p in paths]
    i = 0
    while i < len(items):
        path = items[i]
        if path.is_dir():
            build = path / "build.json" if (path / "build.json").exists() else path / "message.json"
            if not build.exists():
                raise SystemExit(f"{path}: no build.json or message.json in this folder")
            cases.append(Case(build, path))
            i += 1
        elif path.suffix == ".json" and i + 1 < len(items) and items[i + 1].is_file():
            cases.append(Case(path, items[i + 1]))
            i += 2
        else:
            raise SystemExit(
                f"{path}: give a fixture folder, or a build JSON file followed by its log file"
            )
    return cases


def replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from buildlens_core.build import decode_build
    from notifier.logsources.fixture import FixtureLogSource
    from notifier.pipeline import Notifier
    from notifier.sinks.stdout import StdoutSink

    overrides: dict[str, Any] = {"stdout_format": args.format}
    if args.analyzers:
        overrides["analyzers"] = args.analyzers
    if args.sinks:
        overrides["sinks"] = args.sinks
    try:
        settings = load_settings(**overrides)
        sinks = None if args.sinks else [StdoutSink(args.format)]
        pipeline = Notifier(settings, sinks=sinks)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cases = collect_cases(args.paths or [str(DEFAULT_FIXTURE)])
    passing = None
    if args.passing_log:
        from analyzers.extraction import read_passing

        passing = read_passing(args.passing_log, settings.sources.max_log_bytes)
    failures = 0
    for case in tqdm(cases, disable=len(cases) < 5, file=sys.stderr, unit="build"):
        source = FixtureLogSource(
            case.log_path, settings.sources.max_log_bytes, prefer=args.log_shape
        )
        try:
            build = decode_build(load_build_json(case.build_path))
            outcome = pipeline.handle_build(build, log_source=source, passing=passing)
        except (PermanentError, TransientError, ValueError) as exc:
            print(f"{case.build_path}: error: {exc}", file=sys.stderr)
            failures += 1
            continue
        if outcome.action != "reported":
            print(f"{case.build_path}: no report: {outcome.reason}", file=sys.stderr)
    return 1 if failures else 0


def serve(args: argparse.Namespace) -> int:
    command = [
        sys.executable, "-m", "functions_framework",
        "--target", "on_build_event",
        "--source", str(REPO_ROOT / "notifier" / "main.py"),
        "--signature-type", "cloudevent",
        "--host", args.host, "--port", str(args.port),
    ]  # fmt: skip
    os.execv(sys.executable, command)  # noqa: S606 - replaces this process on purpose
    return 0  # pragma: no cover


def push_body(message: dict[str, Any]) -> dict[str, Any]:
    return {"message": message, "subscription": "projects/local/subscriptions/buildlens"}


def send(args: argparse.Namespace) -> int:
    import httpx

    path = Path(args.path)
    if path.is_dir():
        path = path / "message.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(body.get("message"), dict):  # a bare Build: wrap it as Cloud Build does
        data = base64.b64encode(json.dumps(body).encode()).decode()
        attributes = {"buildId": str(body.get("id", "")), "status": str(body.get("status", ""))}
        body = push_body({"data": data, "attributes": attributes, "messageId": "1"})
    message = body["message"]
    event_id = str(message.get("messageId") or message.get("message_id") or "1")
    source = "//pubsub.googleapis.com/projects/local/topics/cloud-builds"
    if args.mode == "push":
        request = {"json": body}
    elif args.mode == "binary":
        headers = {
            "ce-id": event_id,
            "ce-source": source,
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
            "ce-specversion": "1.0",
            "content-type": "application/json",
        }
        request = {"content": json.dumps(body), "headers": headers}
    else:
        event = {
            "specversion": "1.0",
            "id": event_id,
            "source": source,
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "datacontenttype": "application/json",
            "data": body,
        }
        request = {
            "content": json.dumps(event),
            "headers": {"content-type": "application/cloudevents+json"},
        }
    response = httpx.post(args.url, timeout=args.timeout, **request)
    print(f"{response.status_code} {response.text.strip()}")
    return 0 if response.is_success else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifier", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("replay", help="run recorded builds through the whole pipeline")
    p.add_argument("paths", nargs="*", help="fixture folders, or BUILD.json LOG pairs")
    p.add_argument("--format", choices=sorted(RENDERERS), default="text")
    p.add_argument("--analyzers", help="comma-separated analyzer names (default: ANALYZERS)")
    p.add_argument("--sinks", help="comma-separated sink names (default: print to stdout)")
    p.add_argument(
        "--log-shape", choices=["gcs", "cloud_logging"], default="gcs",
        help="in fixture folders, read log.txt (gcs) or entries.json (cloud_logging)",
    )  # fmt: skip
    p.add_argument(
        "--passing-log", action="append", type=Path, default=[], metavar="FILE",
        help="a passing build's log of the same trigger (repeatable): its lines are known "
        "noise, as with LEARN_FROM_PASSING",
    )  # fmt: skip
    p.set_defaults(func=replay)

    p = commands.add_parser("serve", help="run the function locally with functions-framework")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=serve)

    p = commands.add_parser("send", help="post a fixture to a running function")
    p.add_argument("path", help="a fixture folder, message.json or build.json")
    p.add_argument(
        "--url", required=True, help="e.g. http://127.0.0.1:8080/projects/P/topics/cloud-builds"
    )
    p.add_argument("--mode", choices=["push", "binary", "structured"], default="push")
    p.add_argument("--timeout", type=float, default=120.0)
    p.set_defaults(func=send)

    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
