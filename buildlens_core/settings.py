"""The function's settings: one object, loaded once, with a section per part.

Each section is read from the environment, then `config.env`, then its defaults, under the
flat variable names the README lists (`MAX_LOG_BYTES`, `SLACK_WEBHOOK_URL`). The core
sections (builds, sources, state, analysis, learning, delivery, cloud) are typed attributes; a
plugin (an LLM analyzer, a sink) declares its own `Section` class and reads it with
`settings.section(Cls)`, once, from the same snapshot. Problems are collected, not raised
one at a time: `Settings.problems` lists every bad value and every unknown variable under a
section's prefix (a typo such as `SLACK_WEBHOOK=`), so start-up reports them all at once.
See docs/ARCHITECTURE.md section 5 (plugin seams).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from dotenv import dotenv_values
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode

from buildlens_core.config import CONFIG_ENV, settings_config
from buildlens_core.errors import ConfigError

CommaList = Annotated[tuple[str, ...], NoDecode]

# Prefixes are narrow (`LOG_FETCH`, not `LOG_`) so that variables of other programs, such as
# LOG_LEVEL or the platform's LOG_EXECUTION_ID, are never taken for misspelt settings.


class Section(BaseSettings):
    """One part's settings. Variables starting with one of `prefixes` belong to the section:
    one that names no field is reported as unknown."""

    model_config = settings_config()
    prefixes: ClassVar[tuple[str, ...]] = ()


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class BuildSelection(Section):
    """Which builds are reported."""

    prefixes = ("REPORT_STATUS", "TRIGGER_NAME", "FILTER_")

    report_statuses: CommaList = ("FAILURE", "TIMEOUT", "INTERNAL_ERROR")
    trigger_names: CommaList = ()  # glob patterns; empty: all
    branches: CommaList = ()
    repos: CommaList = ()
    filter_cel: str = ""  # e.g. build.substitutions.BRANCH_NAME == "main"

    _commas = field_validator(
        "report_statuses", "trigger_names", "branches", "repos", mode="before"
    )(_split_commas)

    @field_validator("report_statuses", mode="after")
    @classmethod
    def _upper(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.upper() for v in value)


class LogSources(Section):
    """Where logs are read from, and how much of them."""

    prefixes = ("LOG_SOURCE", "LOG_FETCH", "LOG_WAIT", "LOG_GIVE", "FIXTURE_", "MAX_LOG")

    log_source: Literal["auto", "gcs", "cloud_logging", "fixture"] = "auto"
    fixture_dir: str = ""  # for log_source=fixture: a folder holding log.txt or entries.json
    max_log_bytes: int = Field(default=16 << 20, ge=1024)
    log_fetch_attempts: int = Field(default=4, ge=1)
    log_fetch_timeout_s: float = Field(default=30.0, gt=0)  # per request
    log_fetch_deadline_s: float = Field(default=90.0, gt=0)  # whole fetch, retries included
    log_wait_s: float = Field(default=20.0, ge=0)  # Cloud Logging ingestion can lag
    log_give_up_after_s: float = Field(default=900.0, ge=0)  # then report without the log


class StateSettings(Section):
    """Claims (exactly-once reports) and failure history."""

    prefixes = ("STATE_", "FIRESTORE_", "HISTORY_", "CLAIM_")

    state_store: Literal["memory", "firestore"] = "memory"
    firestore_database: str = "(default)"
    claim_lease_s: float = Field(default=300.0, gt=0)  # a crashed delivery is retried after this
    history_retention_days: float = Field(default=30.0, gt=0)


class LearningSettings(Section):
    """Learning from passing builds: their lines, remembered per trigger and branch, are
    known noise when a build of the same trigger and branch fails."""

    prefixes = ("LEARN_", "PASSING_")

    learn_from_passing: bool = False  # read each passing build's log (one read per build)
    learn_sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)  # busy triggers: a share
    passing_builds_kept: int = Field(default=3, ge=1, le=10)  # per trigger and branch


class AnalysisSettings(Section):
    """The analyzers, by registry name, in order."""

    prefixes = ("ANALYZER", "TAIL_")

    analyzers: CommaList = ("failing_step", "key_lines", "excerpt", "classify", "fingerprint")
    tail_lines: int = Field(default=40, ge=1)

    _commas = field_validator("analyzers", mode="before")(_split_commas)


class Delivery(Section):
    """The sinks, by registry name, and what every sink shares."""

    prefixes = ("SINKS", "SINK_GIVE", "STDOUT_", "REPORT_TOPIC", "NOTIFY_")

    sinks: CommaList = ("stdout",)
    stdout_format: Literal["text", "markdown", "json"] = "text"
    report_topic: str = ""  # projects/P/topics/T for the pubsub sink
    notify_recovery: bool = False  # send a short "fixed" message when a failing lane passes
    sink_give_up_after_s: float = Field(default=3600.0, ge=0)

    _commas = field_validator("sinks", mode="before")(_split_commas)


class CloudSettings(Section):
    """The Google Cloud project, shared by log sources, state and sinks."""

    prefixes = ("CLOUD_LOGGING_ENDPOINT",)

    google_cloud_project: str = ""
    cloud_logging_endpoint: str = ""  # tests only: a local server speaking the REST API


SectionT = TypeVar("SectionT", bound=Section)

CORE_SECTIONS: dict[str, type[Section]] = {
    "builds": BuildSelection,
    "sources": LogSources,
    "state": StateSettings,
    "analysis": AnalysisSettings,
    "learning": LearningSettings,
    "delivery": Delivery,
    "cloud": CloudSettings,
}


def _messages(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()]


@dataclass(frozen=True, eq=False)
class Settings:
    """Every setting of the function; `load_settings()` builds it. The README lists them."""

    builds: BuildSelection
    sources: LogSources
    state: StateSettings
    analysis: AnalysisSettings
    learning: LearningSettings
    delivery: Delivery
    cloud: CloudSettings
    # Values given in code (tests, the command line) win over the environment.
    overrides: Mapping[str, Any] = field(default_factory=dict)
    _plugins: dict[type[Section], Section] = field(default_factory=dict, repr=False)
    _problems: list[str] = field(default_factory=list, repr=False)

    def section(self, cls: type[SectionT]) -> SectionT:
        """A plugin's section, read on first use and kept. A bad value is a ConfigError
        naming its variable."""
        found = self._plugins.get(cls)
        if found is None:
            try:
                found = cls(**_mine(cls, self.overrides))
            except ValidationError as exc:
                raise ConfigError(f"invalid settings: {'; '.join(_messages(exc))}") from None
            self._plugins[cls] = found
        assert isinstance(found, cls)
        return found

    @property
    def problems(self) -> tuple[str, ...]:
        """The core sections' bad values, every value given in code that names no setting,
        and every variable under a section's prefix that nearly names one (a typo)."""
        return (*self._problems, *self._unknown())

    def _unknown(self) -> list[str]:
        sections = _all_sections()
        known = {name.upper() for cls in sections for name in cls.model_fields}
        prefixes = tuple(p for cls in sections for p in cls.prefixes)
        given = {k.upper() for k in self.overrides}  # given in code: must name a setting
        found = []
        for name in sorted(set(_variables()) | given):
            if name in known or (name not in given and not name.startswith(prefixes)):
                continue
            hint = _closest(name, known)
            # From the environment, only a near miss under a section's prefix is a typo:
            # FIRESTORE_EMULATOR_HOST or OPENAI_ORG_ID belong to other programs.
            if name not in given and not hint:
                continue
            found.append(f"{name}: unknown setting" + (f"; did you mean {hint}?" if hint else ""))
        return found


def _all_sections() -> list[type[Section]]:
    """Every section class defined so far (the core's, and those of imported plugins)."""
    found: list[type[Section]] = []
    todo = [Section]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def _mine(cls: type[Section], overrides: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in overrides.items() if k in cls.model_fields}


def _variables() -> Iterable[str]:
    yield from os.environ
    if CONFIG_ENV.exists():
        yield from dotenv_values(CONFIG_ENV)


def _closest(name: str, known: Iterable[str]) -> str:
    import difflib  # only on the error path

    match = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    return match[0] if match else ""


def load_settings(**overrides: Any) -> Settings:
    """Read every core section once. Keyword arguments (flat names, as the variables but in
    lower case) win over the environment. A bad section falls back to its defaults so the
    rest can still be checked; its problems are in `Settings.problems`, which the caller
    (the pipeline) raises together with its own."""
    problems: list[str] = []
    sections: dict[str, Section] = {}
    for name, cls in CORE_SECTIONS.items():
        try:
            sections[name] = cls(**_mine(cls, overrides))
        except ValidationError as exc:
            problems += _messages(exc)
            sections[name] = cls.model_construct()
    return Settings(**sections, overrides=dict(overrides), _problems=problems)  # type: ignore[arg-type]
