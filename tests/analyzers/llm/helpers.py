"""Contexts from the recorded fixture builds, analysed by the rule analyzers that exist."""

from __future__ import annotations

import json
from pathlib import Path

from analyzers import ANALYZERS
from analyzers.base import AnalysisContext
from buildlens_core.build import decode_build
from buildlens_core.settings import load_settings
from buildlens_core.state import StateStore
from notifier.logsources.fixture import FixtureLogSource
from tests.conftest import FIXTURES

# The rule analyzers, in pipeline order; those not registered (yet) are skipped.
RULES = ("failing_step", "tail", "key_lines", "excerpt", "classify", "fingerprint")


def rule_names() -> tuple[str, ...]:
    return tuple(n for n in RULES if n in ANALYZERS)


def context(case: str | Path, *, state: StateStore | None = None) -> AnalysisContext:
    """The context an LLM analyzer sees after the rule analyzers ran on a build folder
    (build.json and log.txt): a fixture case name or a path."""
    folder = case if isinstance(case, Path) else FIXTURES / case
    build = decode_build(json.loads((folder / "build.json").read_text()))
    settings = load_settings(analyzers=rule_names())
    source = FixtureLogSource(folder, settings.sources.max_log_bytes)
    log = source.fetch(build)
    ctx = AnalysisContext(build, log, state=state)
    for name in rule_names():
        ctx.findings.extend(ANALYZERS[name](settings).analyze(ctx))
    return ctx
