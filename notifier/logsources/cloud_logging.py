"""The build's log from Cloud Logging: one entry per line, the step in `labels.build_step`."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import TYPE_CHECKING, Any

from buildlens_core.build import BuildEvent
from buildlens_core.buildlog import BuildLog, LogAccumulator, build_log
from notifier.logsources.base import LogNotFound, LogUnavailable, step_lines_as_gcs
from notifier.retry import retry_call

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

# Cloud Build's last orchestration line: once it is in, ingestion has caught up.
_FINAL_LINE = re.compile(r"^(DONE|ERROR|TIMEOUT|ERROR: .*)$")
_POLL_S = 2.0


def entries_filter(build: BuildEvent, project: str) -> str:
    """The filter for one build's lines; the explicit timestamp stops the client adding 24 h."""
    parts = [
        f'logName="projects/{project}/logs/cloudbuild"',
        'resource.type="build"',
        f'resource.labels.build_id="{build.id}"',
    ]
    if build.create_time is not None:
        since = build.create_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        parts.append(f'timestamp>="{since}"')
    else:
        parts.append('timestamp>="1970-01-01T00:00:00Z"')
    return " AND ".join(parts)


def entry_text(payload: object) -> str:
    if isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        message = payload.get("message") or payload.get("textPayload")
        return message if isinstance(message, str) else json.dumps(payload, sort_keys=True)
    return "" if payload is None else str(payload)


def in_log_order(entries: Iterable[Any]) -> Iterator[Any]:
    """Entries come ascending by timestamp; ties are put in insertId order."""
    for _, group in itertools.groupby(entries, key=lambda e: e.timestamp):
        batch = list(group)
        if len(batch) > 1:
            batch.sort(key=lambda e: e.insert_id or "")
        yield from batch


class CloudLoggingSource:
    name = "cloud_logging"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    def _logging(self, project: str) -> Any:
        if self._client is None:
            from google.cloud import logging as gcl  # imported here: only when configured

            kwargs: dict[str, Any] = {"_use_grpc": False}
            if self._settings.cloud.cloud_logging_endpoint:
                from google.auth.credentials import AnonymousCredentials

                kwargs["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
                kwargs["client_options"] = {
                    "api_endpoint": self._settings.cloud.cloud_logging_endpoint
                }
            self._client = gcl.Client(project=project, **kwargs)  # type: ignore[no-untyped-call]
        return self._client

    def fetch(self, build: BuildEvent) -> BuildLog:
        project = build.project_id or self._settings.cloud.google_cloud_project
        if not project:
            raise LogNotFound("the build has no projectId: set GOOGLE_CLOUD_PROJECT")
        wait_until = time.monotonic() + self._settings.sources.log_wait_s
        deadline = time.monotonic() + self._settings.sources.log_fetch_deadline_s
        while True:
            log, complete = retry_call(
                lambda: self._read(build, project, deadline),
                attempts=self._settings.sources.log_fetch_attempts,
                is_transient=lambda e: isinstance(e, LogUnavailable),
                deadline=deadline,
            )
            if complete or time.monotonic() >= min(wait_until, deadline - _POLL_S):
                if not log.lines:
                    raise LogUnavailable(
                        f"Cloud Logging has no entries yet for build {build.id} "
                        f"after waiting {self._settings.sources.log_wait_s:.0f} s"
                    )
                return log
            time.sleep(_POLL_S)

    def _read(self, build: BuildEvent, project: str, deadline: float) -> tuple[BuildLog, bool]:
        from google.api_core import exceptions as gexc
        from google.cloud import logging as gcl

        acc = LogAccumulator(self._settings.sources.max_log_bytes)
        complete = False

        def pairs(entries: Iterable[Any]) -> Iterator[tuple[str, str]]:
            nonlocal complete
            for entry in in_log_order(entries):
                if time.monotonic() > deadline:  # checked per entry: pages arrive lazily
                    raise LogUnavailable(
                        "Cloud Logging paging did not finish before LOG_FETCH_DEADLINE_S"
                    )
                label = (entry.labels or {}).get("build_step", "MAIN")
                text = entry_text(entry.payload)
                if label == "MAIN" and _FINAL_LINE.match(text):
                    complete = True
                yield label, text

        try:
            entries = self._logging(project).list_entries(
                resource_names=[f"projects/{project}"],
                filter_=entries_filter(build, project),
                order_by=gcl.ASCENDING,
                page_size=1000,
            )
            for chunk in step_lines_as_gcs(pairs(entries)):
                acc.feed(chunk)
        except (gexc.NotFound, gexc.Forbidden, gexc.Unauthorized) as exc:
            raise LogNotFound(
                f"cannot read Cloud Logging for project {project} ({exc.__class__.__name__}): "
                "grant the function's service account roles/logging.viewer"
            ) from None
        except (gexc.TooManyRequests, gexc.ServerError, gexc.RetryError) as exc:
            raise LogUnavailable(f"Cloud Logging answered {exc.__class__.__name__}") from None
        except (OSError, TimeoutError) as exc:
            raise LogUnavailable(
                f"Cloud Logging request failed: {exc.__class__.__name__}"
            ) from None
        return build_log(acc, f"logging:projects/{project}/logs/cloudbuild"), complete


def create(settings: Settings) -> CloudLoggingSource:
    return CloudLoggingSource(settings)
