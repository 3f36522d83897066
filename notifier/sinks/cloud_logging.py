"""Cloud Logging: one structured entry per report, for log-based metrics and alerts.

The entry goes to `projects/<project>/logs/<LOGGING_SINK_LOG_NAME>` on the `build` monitored
resource, severity ERROR (NOTICE for a recovery), with labels build_id, trigger, category,
fingerprint, status, kind, repo and branch. Its jsonPayload is the versioned JSON report with
the excerpt cut down to the key lines (each at most 500 characters), plus `message` (the
title) for the Logs Explorer summary line. The insertId is fixed per report, and the
timestamp is the build's finish time, so Cloud Logging drops a redelivered duplicate.

Example metric filter: `logName="projects/P/logs/buildlens" AND labels.category="test"`.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field

from buildlens_core.settings import Section
from notifier.render._text import clean, clip
from notifier.report import Report
from notifier.retry import retry_call
from notifier.sinks.base import SinkRejected, SinkUnavailable

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

ENTRY_BUDGET_BYTES = 200_000  # entries are limited to 256 KB; leave room for the envelope
LABEL_MAX = 1024


class LoggingSinkSettings(Section):
    prefixes = ("LOGGING_SINK_",)

    logging_sink_log_name: str = "buildlens"
    logging_sink_project: str = ""  # default: GOOGLE_CLOUD_PROJECT, else the build's project
    logging_sink_deadline_s: float = Field(default=30.0, gt=0)
    logging_sink_attempts: int = Field(default=4, ge=1)


def payload(report: Report) -> dict[str, Any]:
    """The jsonPayload: the JSON report without most of the excerpt text, within budget."""
    data = report.to_json()
    key = [e for e in data["excerpt"] if e["key"]][-50:]
    data["excerpt"] = [{**e, "text": clip(clean(e["text"]), 500)} for e in key]
    data["message"] = report.title
    # Long strings (LLM text, error messages, hostile log lines) are cut until it fits.
    for limit in (4000, 1000, 200, 50):
        if len(json.dumps(data, ensure_ascii=False).encode()) <= ENTRY_BUDGET_BYTES:
            break
        data = {k: _clip_strings(v, limit) for k, v in data.items()}
    return data


def _clip_strings(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, list):
        return [_clip_strings(v, limit) for v in value]
    if isinstance(value, dict):
        return {k: _clip_strings(v, limit) for k, v in value.items()}
    return value


def labels(report: Report) -> dict[str, str]:
    b = report.build
    values = {
        "build_id": b.id,
        "trigger": b.trigger_name,
        "category": report.category or "unclassified",
        "fingerprint": report.fingerprint,
        "status": b.status,
        "kind": report.kind,
        "repo": b.repo_full_name or b.repo_name,
        "branch": b.branch,
    }
    return {k: clip(v, LABEL_MAX) for k, v in values.items() if v}


class CloudLoggingSink:
    name = "cloud_logging"

    def __init__(
        self,
        *,
        log_name: str = "buildlens",
        project: str = "",
        endpoint: str = "",
        deadline_s: float = 30.0,
        attempts: int = 4,
    ) -> None:
        self._log_name = log_name
        self._project = project
        self._endpoint = endpoint
        self._deadline_s = deadline_s
        self._attempts = attempts
        self._clients: dict[str, Any] = {}

    def _client(self, project: str) -> Any:
        if project not in self._clients:
            from google.cloud import logging as gcl  # imported here: only when configured

            kwargs: dict[str, Any] = {"_use_grpc": False}
            if self._endpoint:  # tests: a local server speaking the REST API
                from google.auth.credentials import AnonymousCredentials

                kwargs["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
                kwargs["client_options"] = {"api_endpoint": self._endpoint}
            self._clients[project] = gcl.Client(project=project, **kwargs)  # type: ignore[no-untyped-call]
        return self._clients[project]

    def entry(self, report: Report, project: str) -> dict[str, Any]:
        b = report.build
        when = b.finish_time or datetime.now(UTC)
        resource_labels = {"project_id": b.project_id or project, "build_id": b.id}
        if b.trigger_id:
            resource_labels["build_trigger_id"] = b.trigger_id
        insert_id = hashlib.sha256(f"{b.id}/{b.status}/{report.kind}".encode()).hexdigest()[:32]
        return {
            "logName": f"projects/{project}/logs/{self._log_name}",
            "resource": {"type": "build", "labels": resource_labels},
            "severity": "NOTICE" if report.kind == "recovery" else "ERROR",
            "labels": labels(report),
            "insertId": insert_id,
            "timestamp": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "jsonPayload": payload(report),
        }

    def send(self, report: Report) -> None:
        from google.api_core import exceptions as gexc

        project = self._project or report.build.project_id
        if not project:
            raise SinkRejected(
                "cloud_logging: no project to log to: set LOGGING_SINK_PROJECT or "
                "GOOGLE_CLOUD_PROJECT"
            )
        body = {"entries": [self.entry(report, project)], "partialSuccess": False}
        deadline = time.monotonic() + self._deadline_s
        api = self._client(project).logging_api

        def write() -> None:
            timeout = max(1.0, deadline - time.monotonic())
            api.api_request(method="POST", path="/entries:write", data=body, timeout=timeout)

        def transient(exc: BaseException) -> bool:
            return isinstance(
                exc, gexc.TooManyRequests | gexc.ServerError | OSError | TimeoutError
            ) or exc.__class__.__module__.startswith("requests")

        try:
            retry_call(write, attempts=self._attempts, is_transient=transient, deadline=deadline)
        except (gexc.Forbidden, gexc.Unauthorized, gexc.NotFound, gexc.BadRequest) as exc:
            raise SinkRejected(
                f"cloud_logging: writing to project {project} was refused "
                f"({exc.__class__.__name__}: {exc.message}); grant the function's service "
                "account roles/logging.logWriter"
            ) from None
        except Exception as exc:
            if transient(exc):
                raise SinkUnavailable(
                    f"cloud_logging: writing to project {project} failed: {exc.__class__.__name__}"
                ) from None
            raise


def create(settings: Settings) -> CloudLoggingSink:
    own = settings.section(LoggingSinkSettings)
    return CloudLoggingSink(
        log_name=own.logging_sink_log_name,
        project=own.logging_sink_project or settings.cloud.google_cloud_project,
        endpoint=settings.cloud.cloud_logging_endpoint,
        deadline_s=own.logging_sink_deadline_s,
        attempts=own.logging_sink_attempts,
    )
