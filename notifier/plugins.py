"""Resolve configured names against a registry dict plus an entry-point group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from typing import TypeVar

from buildlens_core.errors import ConfigError

T = TypeVar("T")


def available(registry: Mapping[str, T], group: str) -> dict[str, T]:
    """The built-in registry plus third-party plugins registered under `group`."""
    found = dict(registry)
    for ep in entry_points(group=group):
        found.setdefault(ep.name, ep.load())
    return found


def resolve(names: Sequence[str], registry: Mapping[str, T], group: str, kind: str) -> list[T]:
    """The factories for `names`, in order; an unknown name lists the valid ones."""
    if any(name not in registry for name in names):
        registry = available(registry, group)
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise ConfigError(
            f"unknown {kind} {', '.join(map(repr, unknown))}; valid {kind}s: "
            f"{', '.join(sorted(registry))} (or install a plugin in entry-point group {group!r})"
        )
    return [registry[name] for name in names]
