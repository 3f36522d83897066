"""Wrapper, structure and instruction lines of build runners, loaded from `wrappers.toml`.

A wrapper says that something failed (Cloud Build's step line, Docker's non-zero code,
BuildKit's `failed to solve`); the cause stands above it. Structure lines are printed around
every step; instruction lines start one Dockerfile instruction or buildpack phase.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

KINDS = ("wrapper", "structure", "repeat", "instruction")


class WrappersError(ValueError):
    """wrappers.toml is malformed; the message names the entry and the field to fix."""


@dataclass(frozen=True, slots=True)
class Shape:
    kind: str
    id: str
    pattern: re.Pattern[str]
    source: str
    examples: tuple[str, ...]


def load_shapes(text: str | None = None) -> tuple[Shape, ...]:
    if text is None:
        text = resources.files("analyzers").joinpath("wrappers.toml").read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WrappersError(f"wrappers.toml is not valid TOML ({exc}); fix the syntax") from exc
    unknown = set(data) - set(KINDS)
    if unknown:
        raise WrappersError(f"unknown tables {sorted(unknown)}; use {', '.join(KINDS)}")
    shapes: list[Shape] = []
    for kind in KINDS:
        for i, item in enumerate(data.get(kind, [])):
            sid = str(item.get("id", f"{kind}#{i}"))
            for key in ("id", "pattern", "source"):
                if not isinstance(item.get(key), str) or not item[key]:
                    raise WrappersError(f"{kind} {sid}: set `{key}` to a non-empty string")
            examples = item.get("examples", [])
            if not examples or not all(isinstance(x, str) for x in examples):
                raise WrappersError(f"{kind} {sid}: give `examples`, lines the pattern matches")
            try:
                pattern = re.compile(item["pattern"])
            except re.error as exc:
                raise WrappersError(f"{kind} {sid}: bad pattern ({exc}); fix the regex") from exc
            shapes.append(Shape(kind, sid, pattern, item["source"], tuple(examples)))
    return tuple(shapes)


def _union(kind: str) -> re.Pattern[str]:
    parts = [f"(?:{s.pattern.pattern})" for s in load_shapes_cached() if s.kind == kind]
    return re.compile("|".join(parts) or r"(?!)")


@cache
def load_shapes_cached() -> tuple[Shape, ...]:
    return load_shapes()


WRAPPER = _union("wrapper")
STRUCTURE = _union("structure")
REPEAT = _union("repeat")
INSTRUCTION = _union("instruction")


def says_only_that_it_failed(text: str) -> bool:
    """A wrapper or structure line: it says that something failed (or nothing), never why."""
    return bool(WRAPPER.search(text) or STRUCTURE.search(text))
