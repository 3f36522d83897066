"""Prometheus metrics for the gateway, in a registry per app so several apps can coexist."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "GatewayMetrics"]

disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series double the output
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gateway_requests",
            "Authenticated requests forwarded upstream, by key name, route and status code.",
            ["key", "route", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_request_duration_seconds",
            "Time from request to last byte of the response, by route.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "gateway_tokens",
            "Tokens reported in responses' usage, by key name and kind (prompt or completion).",
            ["key", "kind"],
            registry=self.registry,
        )
        self.rejections = Counter(
            "gateway_rejections",
            "Requests refused by the gateway, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "gateway_upstream_errors",
            "Upstream failures, by kind (timeout, connection, stream).",
            ["kind"],
            registry=self.registry,
        )
        self.keys = Gauge("gateway_keys", "Keys currently loaded.", registry=self.registry)
        self.reload_failures = Counter(
            "gateway_key_reload_failures",
            "Key reloads that failed (the last good set was kept).",
            registry=self.registry,
        )

        # Label lookups take a lock and validate every time: the hot path keeps the children it
        # used. As many entries as the metrics' own label combinations, which Prometheus keeps too.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._token_children: dict[str, tuple[Counter, Counter]] = {}

    def record(
        self, key: str, route: str, status: int, seconds: float, prompt: int, completion: int
    ) -> None:
        """One forwarded request: its count, latency and tokens."""
        children = self._request_children.get((key, route, status))
        if children is None:
            children = self._request_children[(key, route, status)] = (
                self.requests.labels(key, route, str(status)),
                self.latency.labels(route),
            )
        children[0].inc()
        children[1].observe(seconds)
        if prompt or completion:
            tokens = self._token_children.get(key)
            if tokens is None:
                tokens = self._token_children[key] = (
                    self.tokens.labels(key, "prompt"),
                    self.tokens.labels(key, "completion"),
                )
            if prompt:
                tokens[0].inc(prompt)
            if completion:
                tokens[1].inc(completion)

    def render(self) -> bytes:
        return generate_latest(self.registry)
