"""Where settings come from: the environment, then `config.env` at the repository root.

Every settings section of the function uses `settings_config()`, so they all read the same
file the same way (each section takes its own variables from it).
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = REPO_ROOT / "config.env"


def settings_config() -> SettingsConfigDict:
    return SettingsConfigDict(
        env_file=CONFIG_ENV if CONFIG_ENV.exists() else None, extra="ignore", frozen=True
    )
