"""Command line: `python -m analyzers excerpt --json FILE...`.

One JSON object per input file, one per line: path, key_lines, excerpt (1-based inclusive
line ranges; a line ends at `\n`, `\r\n` or a lone `\r`), category, fingerprint and
failing_step (the 0-based Cloud Build step the log says failed, or null) and known_lines
(error-looking lines the `--passing-log` logs also printed in the same step; 0 without).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analyzers.extraction import analyze_path, read_passing
from buildlens_core.redact import redact_lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analyzers")
    sub = parser.add_subparsers(dest="command", required=True)
    excerpt = sub.add_parser("excerpt", help="key lines, excerpt, category and fingerprint")
    excerpt.add_argument("files", nargs="+", type=Path, metavar="FILE", help="log (.gz ok)")
    excerpt.add_argument("--json", action="store_true", help="one JSON object per line")
    excerpt.add_argument(
        "--no-redact",
        action="store_true",
        help="print key-line text as it is (by default secrets are replaced by markers)",
    )
    excerpt.add_argument(
        "--passing-log",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a passing build's log of the same pipeline (repeatable): lines it printed in "
        "the same step weigh less",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        passing = read_passing(args.passing_log) if args.passing_log else None
    except OSError as exc:
        print(f"cannot read a --passing-log ({exc}); check the path", file=sys.stderr)
        return 2
    status = 0
    for path in args.files:
        try:
            report = analyze_path(path, passing)
        except OSError as exc:
            print(f"{path}: cannot read ({exc.strerror or exc}); check the path", file=sys.stderr)
            status = 1
            continue
        if args.json:
            print(json.dumps(report.to_json(str(path))), flush=True)
            continue
        print(f"== {path}: {report.category} {report.fingerprint}")
        for r in report.key_lines:
            print(f"  key lines {r.start}-{r.end}")
        print("  excerpt " + ", ".join(f"{r.start}-{r.end}" for r in report.excerpt))
        texts = list(report.found.texts[:20])
        for text in texts if args.no_redact else redact_lines(texts):
            print(f"  | {text}")
    return status


if __name__ == "__main__":
    sys.exit(main())
