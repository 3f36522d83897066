"""Publish the JSON report to a Pub/Sub topic, for other systems to consume."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from buildlens_core.errors import ConfigError
from notifier.report import Report
from notifier.sinks.base import SinkRejected, SinkUnavailable

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

_TIMEOUT_S = 30.0


class PubsubSink:
    name = "pubsub"

    def __init__(self, topic: str) -> None:
        if not topic.startswith("projects/") or "/topics/" not in topic:
            raise ConfigError(
                "the pubsub sink needs REPORT_TOPIC=projects/PROJECT/topics/TOPIC "
                "(or remove pubsub from SINKS)"
            )
        self._topic = topic
        self._client: Any = None

    def _publisher(self) -> Any:
        if self._client is None:
            import google.cloud.pubsub_v1 as pubsub_v1  # imported here: only when configured

            self._client = pubsub_v1.PublisherClient()
        return self._client

    def send(self, report: Report) -> None:
        from google.api_core import exceptions as gexc

        data = json.dumps(report.to_json(), ensure_ascii=False, sort_keys=True).encode()
        attributes = {
            "buildId": report.build.id,
            "status": report.build.status,
            "category": report.category or "unclassified",
            "schemaVersion": report.to_json()["schema_version"],
        }
        try:
            future = self._publisher().publish(self._topic, data, **attributes)
            future.result(timeout=_TIMEOUT_S)
        except gexc.NotFound:
            raise SinkRejected(f"topic {self._topic} does not exist: create it") from None
        except (gexc.PermissionDenied, gexc.InvalidArgument) as exc:
            raise SinkRejected(f"publishing to {self._topic} refused: {exc.message}") from None
        except Exception as exc:
            raise SinkUnavailable(
                f"publishing to {self._topic} failed: {exc.__class__.__name__}"
            ) from None


def create(settings: Settings) -> PubsubSink:
    return PubsubSink(settings.delivery.report_topic)
