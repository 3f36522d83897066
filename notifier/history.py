"""Failure history by fingerprint, per-lane state (trigger + branch) for recovery and flaky
hints. Everything lives in the state store, so it is shared across function instances and
idempotent under redelivery (a build is counted once, however often it arrives)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from analyzers.base import Finding
from analyzers.fingerprint import fingerprint
from analyzers.scoring import line_score
from buildlens_core.build import BuildEvent
from buildlens_core.state import Doc, StateStore
from notifier.repo_links import repo_web
from notifier.report import ExcerptLine, History, SincePassing

_KEEP_SEEN = 200
_KEEP_BUILDS = 20
_KEEP_COMMITS = 50
_KEEP_PASSES = 10
_KEEP_FAILURES = 100


def fallback_fingerprint(findings: list[Finding], excerpt: tuple[ExcerptLine, ...]) -> str:
    """The failing step plus its last error line, masked like any fingerprint: used when no
    analyzer produced a `fingerprint` finding."""
    step = next((f for f in findings if f.kind == "failing_step"), None)
    step_id = ""
    if step is not None:
        step_id = str(step.data.get("step_id") or step.data.get("step_index") or step.summary)
    errors = [e.text for e in excerpt if line_score(e.text) > 0]
    line = errors[-1] if errors else (excerpt[-1].text if excerpt else "")
    return fingerprint([f"step {step_id}", line])[0]


def _lane_owner(build: BuildEvent) -> str:
    return build.trigger_id or build.trigger_name or build.repo_full_name or build.repo_name


def lane_key(build: BuildEvent) -> str:
    """Builds of the same trigger on the same branch (or tag) form a lane."""
    ref = build.branch or build.tag or "-"
    return f"lane/{_lane_owner(build) or '-'}/{ref}"


def has_lane(build: BuildEvent) -> bool:
    """Does the build name its trigger or repository? Builds that do not (`gcloud builds
    submit` of any config) would all share one lane: nothing is compared across them."""
    return bool(_lane_owner(build))


@dataclass(frozen=True, slots=True)
class Recovery:
    failed_build: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """What recording a failure tells the report: its fingerprint's history, and the lane's
    last passing build with the failures since (None without a lane or a pass before)."""

    history: History
    since_passing: SincePassing | None


class FailureHistory:
    def __init__(self, store: StateStore, retention_days: float) -> None:
        self._store = store
        self._ttl_s = retention_days * 86400

    def record_failure(self, build: BuildEvent, fingerprint: str) -> FailureRecord:
        when = build.finish_time or datetime.now(UTC)
        stamp = when.isoformat()

        def change(doc: Doc | None) -> Doc:
            doc = doc or {"first_build": build.id, "first_seen": stamp, "count": 0,
                          "seen": [], "builds": [], "flaky": False}  # fmt: skip
            if all(b["id"] != build.id for b in doc["builds"]):  # redelivered: count once
                doc["count"] += 1
                doc["seen"] = (doc["seen"] + [stamp])[-_KEEP_SEEN:]
                entry = {"id": build.id, "commit": build.commit_sha, "time": stamp}
                doc["builds"] = (doc["builds"] + [entry])[-_KEEP_BUILDS:]
            return doc

        doc = self._store.update(f"history/{fingerprint}", change, self._ttl_s)
        lane = self._store.update(lane_key(build), _lane_failed(build, fingerprint), self._ttl_s)
        week_ago = when - timedelta(days=7)
        count_7d = sum(1 for s in doc["seen"] if _parse(s) >= week_ago)
        flaky = bool(doc.get("flaky")) or build.commit_sha in lane.get("passed_commits", [])
        history = History(
            fingerprint=fingerprint,
            count=int(doc["count"]),
            count_7d=count_7d,
            first_build=str(doc["first_build"]),
            first_seen=str(doc["first_seen"]),
            flaky=flaky and bool(build.commit_sha),
        )
        # The lane document as this update left it: no second read.
        return FailureRecord(history, _since_passing(build, lane) if has_lane(build) else None)

    def record_success(self, build: BuildEvent) -> Recovery | None:
        """Note a passing build; the failure it fixes, if its lane was failing."""
        previous: dict[str, Any] = {}

        def change(doc: Doc | None) -> Doc:
            doc = doc or {"passed_commits": [], "failed_commits": {}, "failing": None}
            previous.clear()
            if doc.get("failing"):
                previous.update(doc["failing"])
                doc["recovered"] = {"by": build.id, **doc["failing"]}
            elif (doc.get("recovered") or {}).get("by") == build.id:
                previous.update(doc["recovered"])  # a redelivery of the same passing build
            doc["failing"] = None
            doc["passes"] = _keep_latest(
                [p for p in doc.get("passes", []) if p.get("id") != build.id]
                + [{"id": build.id, "commit": build.commit_sha, "time": build_stamp(build),
                    "log_url": build.log_url}],
                _KEEP_PASSES,
            )  # fmt: skip
            if build.commit_sha and build.commit_sha not in doc["passed_commits"]:
                doc["passed_commits"] = (doc["passed_commits"] + [build.commit_sha])[
                    -_KEEP_COMMITS:
                ]
            return doc

        lane = self._store.update(lane_key(build), change, self._ttl_s)
        failed_here = lane.get("failed_commits", {}).get(build.commit_sha)
        if failed_here:  # failed and passed on one commit: likely flaky from now on
            self._store.update(f"history/{failed_here}", _mark_flaky, self._ttl_s)
        if not previous or previous.get("build") == build.id:
            return None
        return Recovery(str(previous["build"]), str(previous.get("fingerprint", "")))


def _since_passing(build: BuildEvent, lane: Doc) -> SincePassing | None:
    """The lane's last passing build before this failure, and the failures since (this one
    included). Out-of-order deliveries are placed by their finish times."""
    now = build_stamp(build)
    before = [p for p in lane.get("passes", []) if str(p.get("time", "")) <= now]
    if not before:
        return None
    last = before[-1]
    since = [
        f for f in lane.get("failures", [])
        if str(last.get("time", "")) < str(f.get("time", "")) <= now
    ]  # fmt: skip
    web = repo_web(build)
    old, new = str(last.get("commit") or ""), build.commit_sha
    return SincePassing(
        build=str(last.get("id", "")),
        commit=old,
        finished=str(last.get("time", "")),
        log_url=str(last.get("log_url") or ""),
        builds_since=max(1, len(since)),
        compare_url=web.compare(old, new) if web else "",
        head_commit=new,
    )


def build_stamp(build: BuildEvent) -> str:
    """When the build finished (now if it does not say), RFC 3339: what lanes order by."""
    return (build.finish_time or datetime.now(UTC)).isoformat()


def _keep_latest(entries: list[dict[str, Any]], keep: int) -> list[dict[str, Any]]:
    """The `keep` latest entries by time, oldest first (deliveries come in any order)."""
    return sorted(entries, key=lambda e: str(e.get("time", "")))[-keep:]


def _lane_failed(build: BuildEvent, fingerprint: str) -> Any:
    def change(doc: Doc | None) -> Doc:
        doc = doc or {"passed_commits": [], "failed_commits": {}, "failing": None}
        doc["failing"] = {"build": build.id, "fingerprint": fingerprint, "commit": build.commit_sha}
        failures = [f for f in doc.get("failures", []) if f.get("id") != build.id]
        doc["failures"] = _keep_latest(
            [*failures, {"id": build.id, "time": build_stamp(build)}], _KEEP_FAILURES
        )
        if build.commit_sha:
            failed = dict(doc.get("failed_commits", {}))
            failed[build.commit_sha] = fingerprint
            doc["failed_commits"] = dict(list(failed.items())[-_KEEP_COMMITS:])
        return doc

    return change


def _mark_flaky(doc: Doc | None) -> Doc:
    doc = doc or {"first_build": "", "first_seen": "", "count": 0, "seen": [], "builds": []}
    doc["flaky"] = True
    return doc


def _parse(stamp: str) -> datetime:
    value = datetime.fromisoformat(stamp)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
