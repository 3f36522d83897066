"""Typed, lenient decoding of the Cloud Build `Build` resource.

Only the fields buildlens uses are read; unknown fields are ignored. A field of the
wrong type is a `BuildDecodeError` naming the field, never a crash deeper down.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from buildlens_core.errors import PermanentError

TERMINAL_STATUSES = frozenset(
    {"SUCCESS", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED"}
)
FAILURE_STATUSES = frozenset({"FAILURE", "INTERNAL_ERROR", "TIMEOUT"})
KNOWN_STATUSES = TERMINAL_STATUSES | {"STATUS_UNKNOWN", "PENDING", "QUEUED", "WORKING"}


class BuildDecodeError(PermanentError):
    """The message is not a Cloud Build `Build` we can read."""


@dataclass(frozen=True, slots=True)
class Step:
    index: int
    id: str
    name: str
    args: tuple[str, ...] = ()
    entrypoint: str = ""
    status: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None

    @property
    def label(self) -> str:
        """How Cloud Build names the step in logs: `Step #2 - "test"` or `Step #2`."""
        return f'Step #{self.index} - "{self.id}"' if self.id else f"Step #{self.index}"

    @property
    def duration_s(self) -> float | None:
        if self.start_time is None or self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()


@dataclass(frozen=True, slots=True)
class BuildEvent:
    id: str
    project_id: str
    status: str
    status_detail: str = ""
    failure_type: str = ""
    failure_detail: str = ""
    steps: tuple[Step, ...] = ()
    logs_bucket: str = ""
    log_url: str = ""
    logging_mode: str = "LEGACY"
    substitutions: Mapping[str, str] = field(default_factory=dict)
    trigger_id: str = ""
    create_time: datetime | None = None
    start_time: datetime | None = None
    finish_time: datetime | None = None
    tags: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def trigger_name(self) -> str:
        return self.substitutions.get("TRIGGER_NAME", "")

    @property
    def repo_name(self) -> str:
        return self.substitutions.get("REPO_NAME", "")

    @property
    def repo_full_name(self) -> str:
        return self.substitutions.get("REPO_FULL_NAME", "")

    @property
    def branch(self) -> str:
        return self.substitutions.get("BRANCH_NAME", "")

    @property
    def tag(self) -> str:
        return self.substitutions.get("TAG_NAME", "")

    @property
    def commit_sha(self) -> str:
        return self.substitutions.get("COMMIT_SHA", "")

    @property
    def short_sha(self) -> str:
        return self.substitutions.get("SHORT_SHA", "") or self.commit_sha[:7]

    @property
    def pr_number(self) -> str:
        return self.substitutions.get("_PR_NUMBER", "")

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def duration_s(self) -> float | None:
        if self.start_time is None or self.finish_time is None:
            return None
        return (self.finish_time - self.start_time).total_seconds()

    def step(self, index: int) -> Step | None:
        return self.steps[index] if 0 <= index < len(self.steps) else None


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: str) -> datetime:
    """Parse RFC 3339 as Cloud Build writes it (nanoseconds, `Z`)."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # datetime takes at most microseconds; Cloud Build sends nanoseconds.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    return datetime.fromisoformat(text)


def decode_build(obj: object) -> BuildEvent:
    """Decode a Build JSON object; raise `BuildDecodeError` naming the bad field."""
    if not isinstance(obj, Mapping):
        raise BuildDecodeError(f"expected a Build JSON object, got {type(obj).__name__}")
    build_id = _string(obj, "id", required=True)
    status = _string(obj, "status", required=True)
    if status not in KNOWN_STATUSES:
        raise BuildDecodeError(
            f"field 'status' is {status!r}, not a Cloud Build status "
            f"({', '.join(sorted(KNOWN_STATUSES))})"
        )
    failure = _mapping(obj, "failureInfo")
    options = _mapping(obj, "options")
    raw_steps = obj.get("steps") or []
    if not isinstance(raw_steps, list):
        raise BuildDecodeError(f"field 'steps' must be a list, got {type(raw_steps).__name__}")
    substitutions = _mapping(obj, "substitutions")
    subs: dict[str, str] = {}
    for key, value in substitutions.items():
        if not isinstance(value, str | int | float | bool):
            raise BuildDecodeError(f"field 'substitutions.{key}' must be a string")
        subs[str(key)] = str(value)
    tags = obj.get("tags") or []
    return BuildEvent(
        id=build_id,
        project_id=_string(obj, "projectId"),
        status=status,
        status_detail=_string(obj, "statusDetail"),
        failure_type=_string(failure, "type", "failureInfo."),
        failure_detail=_string(failure, "detail", "failureInfo."),
        steps=tuple(_decode_step(i, s) for i, s in enumerate(raw_steps)),
        logs_bucket=_string(obj, "logsBucket"),
        log_url=_string(obj, "logUrl"),
        logging_mode=_string(options, "logging", "options.") or "LEGACY",
        substitutions=subs,
        trigger_id=_string(obj, "buildTriggerId"),
        create_time=_time(obj, "createTime"),
        start_time=_time(obj, "startTime"),
        finish_time=_time(obj, "finishTime"),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        raw=obj,
    )


def _decode_step(index: int, obj: object) -> Step:
    prefix = f"steps[{index}]."
    if not isinstance(obj, Mapping):
        raise BuildDecodeError(f"field 'steps[{index}]' must be an object")
    args = obj.get("args") or []
    if not isinstance(args, list):
        raise BuildDecodeError(f"field '{prefix}args' must be a list of strings")
    timing = _mapping(obj, "timing", prefix)
    exit_code = obj.get("exitCode")
    if exit_code is not None and not isinstance(exit_code, int):
        try:
            exit_code = int(exit_code)
        except (TypeError, ValueError):
            raise BuildDecodeError(f"field '{prefix}exitCode' must be an integer") from None
    return Step(
        index=index,
        id=_string(obj, "id", prefix),
        name=_string(obj, "name", prefix),
        args=tuple(str(a) for a in args),
        entrypoint=_string(obj, "entrypoint", prefix),
        status=_string(obj, "status", prefix),
        start_time=_time(timing, "startTime", prefix + "timing."),
        end_time=_time(timing, "endTime", prefix + "timing."),
        exit_code=exit_code,
    )


def _string(obj: Mapping[str, Any], key: str, prefix: str = "", *, required: bool = False) -> str:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise BuildDecodeError(f"field '{prefix}{key}' is missing: this is not a Build")
        return ""
    if not isinstance(value, str):
        raise BuildDecodeError(
            f"field '{prefix}{key}' must be a string, got {type(value).__name__}"
        )
    return value


def _mapping(obj: Mapping[str, Any], key: str, prefix: str = "") -> Mapping[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BuildDecodeError(
            f"field '{prefix}{key}' must be an object, got {type(value).__name__}"
        )
    return value


def _time(obj: Mapping[str, Any], key: str, prefix: str = "") -> datetime | None:
    value = _string(obj, key, prefix)
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise BuildDecodeError(
            f"field '{prefix}{key}' is not an RFC 3339 time: {value[:40]!r}"
        ) from None
