"""Where settings come from: the environment, then `config.env` at the repository root.

Every settings class of the function uses `settings_config()`, so they all read the same file
the same way (unknown variables are ignored: each class takes its own).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from buildlens_core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = REPO_ROOT / "config.env"


def settings_config() -> SettingsConfigDict:
    return SettingsConfigDict(
        env_file=CONFIG_ENV if CONFIG_ENV.exists() else None, extra="ignore", frozen=True
    )


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def read_settings(cls: type[SettingsT]) -> SettingsT:
    """`cls` read from the environment and config.env; every bad value is named, by its
    variable, in one ConfigError."""
    try:
        return cls()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
