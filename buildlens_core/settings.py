"""Typed settings, read from the environment (and `config.env` when present)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

from buildlens_core.config import read_settings, settings_config

CommaList = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """Every setting of the notifier; the README lists them with their defaults."""

    model_config = settings_config()

    # Which builds are reported.
    report_statuses: CommaList = ("FAILURE", "TIMEOUT", "INTERNAL_ERROR")
    trigger_names: CommaList = ()  # glob patterns; empty: all
    branches: CommaList = ()
    repos: CommaList = ()
    filter_cel: str = ""  # e.g. build.substitutions.BRANCH_NAME == "main"

    # Pipeline stages, by registry name, in order.
    analyzers: CommaList = ("failing_step", "key_lines", "excerpt", "classify", "fingerprint")
    sinks: CommaList = ("stdout",)

    # Logs.
    log_source: Literal["auto", "gcs", "cloud_logging", "fixture"] = "auto"
    fixture_dir: str = ""  # for log_source=fixture: a folder holding log.txt or entries.json
    max_log_bytes: int = Field(default=16 << 20, ge=1024)
    log_fetch_attempts: int = Field(default=4, ge=1)
    log_fetch_timeout_s: float = Field(default=30.0, gt=0)  # per request
    log_fetch_deadline_s: float = Field(default=90.0, gt=0)  # whole fetch, retries included
    log_wait_s: float = Field(default=20.0, ge=0)  # Cloud Logging ingestion can lag
    log_give_up_after_s: float = Field(default=900.0, ge=0)  # then report without the log
    cloud_logging_endpoint: str = ""  # tests only: a local server speaking the REST API
    tail_lines: int = Field(default=40, ge=1)

    # Delivery.
    stdout_format: Literal["text", "markdown", "json"] = "text"
    report_topic: str = ""  # projects/P/topics/T for the pubsub sink
    state_store: Literal["memory", "firestore"] = "memory"
    firestore_database: str = "(default)"
    claim_lease_s: float = Field(default=300.0, gt=0)  # a crashed delivery is retried after this
    history_retention_days: float = Field(default=30.0, gt=0)
    notify_recovery: bool = False  # send a short "fixed" message when a failing lane passes
    sink_give_up_after_s: float = Field(default=3600.0, ge=0)
    google_cloud_project: str = ""

    @field_validator(
        "report_statuses",
        "trigger_names",
        "branches",
        "repos",
        "analyzers",
        "sinks",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("report_statuses", mode="after")
    @classmethod
    def _upper(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.upper() for v in value)


def load_settings() -> Settings:
    """The function's settings; a bad value is a ConfigError naming its variable."""
    return read_settings(Settings)
