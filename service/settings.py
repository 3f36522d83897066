"""Typed gateway settings, read from the environment and config.env."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_ENV = Path(__file__).resolve().parents[1] / "config.env"


class Settings(BaseSettings):
    """Gateway settings; every field is `GATEWAY_<NAME>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_file=CONFIG_ENV,
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    upstream_url: str = "http://127.0.0.1:8000"
    # Exactly one key source is used, in this order: secret, file, inline JSON.
    keys_secret: str | None = Field(
        default=None, description="projects/P/secrets/S[/versions/V] holding the key set JSON"
    )
    keys_file: Path | None = None
    keys_json: str | None = Field(default=None, description="key set JSON inline (tests, local)")
    admin_names: frozenset[str] = Field(
        default=frozenset(), description="key names that are admins when the plain form is used"
    )
    secret_manager_endpoint: str | None = Field(
        default=None, description="Secret Manager API endpoint override (private endpoint, tests)"
    )
    secret_manager_anonymous: bool = False
    keys_reload_seconds: float = Field(default=60.0, gt=0)
    default_rpm: int = Field(default=0, ge=0, description="requests/minute per key; 0 = unlimited")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    # Slow-loris bounds: the whole request body, and each request's headers, must arrive in time.
    body_timeout: float = Field(default=60.0, gt=0, description="seconds to receive a body")
    header_timeout: float = Field(default=10.0, gt=0, description="seconds to receive headers")
    max_header_bytes: int = Field(default=64 * 1024, gt=0, description="request line + headers")
    # Longer than the idle timeout of whatever keeps connections to us (Google's external
    # load balancers: 600 s; httpx: 5 s), so the client closes idle connections, never the
    # gateway under a request it is sending: that race resets the client's connection.
    keepalive_timeout: int = Field(default=620, gt=0, description="idle keep-alive seconds")
    connect_timeout: float = Field(default=5.0, gt=0)
    # Long: a busy server can take minutes before the first token of a long prompt.
    read_timeout: float = Field(default=600.0, gt=0)
    health_timeout: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=512, gt=0)
    access_log: bool = True
    log_level: str = "INFO"
    host: str = "0.0.0.0"
    port: int = Field(default=8080, validation_alias="PORT")

    def key_source_description(self) -> str:
        if self.keys_secret:
            return f"Secret Manager secret {self.keys_secret}"
        if self.keys_file:
            return f"file {self.keys_file}"
        if self.keys_json:
            return "GATEWAY_KEYS_JSON"
        return "no key source"
