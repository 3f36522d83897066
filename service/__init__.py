"""The API-key gateway in front of vLLM, its key CLI, pre-warm and smoke test."""

from .app import FORWARDED, create_app, key_source
from .metrics import GatewayMetrics
from .ratelimit import RateLimiter
from .settings import Settings

__all__ = ["FORWARDED", "GatewayMetrics", "RateLimiter", "Settings", "create_app", "key_source"]
