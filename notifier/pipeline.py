"""The notifier's stages wired together: filter, dedupe, fetch log, analyze, report, deliver."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Literal, TypeVar

from analyzers import ANALYZERS
from analyzers import ENTRY_POINT_GROUP as ANALYZER_GROUP
from analyzers.base import AnalysisContext, Analyzer, Finding
from analyzers.llm.settings import LLMSettings
from analyzers.signature import PassingLines
from buildlens_core.build import TERMINAL_STATUSES, BuildEvent, parse_time
from buildlens_core.buildlog import BuildLog
from buildlens_core.errors import ConfigError, PermanentError, TransientError
from buildlens_core.jsonlog import log
from buildlens_core.redact import Redactor
from buildlens_core.settings import Settings
from notifier.event import PubsubMessage, build_from_message
from notifier.filter import BuildFilter
from notifier.history import FailureHistory, fallback_fingerprint
from notifier.learning import PassingMemory, Recalled
from notifier.logsources import LOG_SOURCES, LogNotFound, LogSource, LogUnavailable, source_names
from notifier.plugins import resolve
from notifier.report import Report, SincePassing, StageError, excerpt_lines, redact_report
from notifier.sinks import ENTRY_POINT_GROUP as SINK_GROUP
from notifier.sinks import SINKS, Sink
from notifier.state import STATE_STORES, StateStore


class InProgressElsewhere(TransientError):
    """A duplicate delivery arrived while the first is still being handled."""


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome:
    action: Literal["ignored", "duplicate", "reported", "recovered"]
    reason: str = ""
    report: Report | None = None
    sink_errors: tuple[StageError, ...] = ()


class Notifier:
    """Holds the configured stages; `handle_message` is one event's whole journey."""

    def __init__(
        self,
        settings: Settings,
        *,
        log_source: LogSource | None = None,
        analyzers: Sequence[Analyzer] | None = None,
        sinks: Sequence[Sink] | None = None,
        store: StateStore | None = None,
    ) -> None:
        self.settings = settings
        # Every stage is built before any error is raised, so that one start-up error lists
        # every bad or missing setting, not the first one only.
        problems: list[str] = []

        def built(make: Callable[[], T]) -> T | None:
            try:
                return make()
            except ConfigError as exc:
                problems.append(str(exc))
                return None

        if analyzers is None:
            factories = built(
                lambda: resolve(settings.analysis.analyzers, ANALYZERS, ANALYZER_GROUP, "analyzer")
            )
            analyzers = [a for a in (built(partial(f, settings)) for f in factories or []) if a]
        if sinks is None:
            sink_factories = built(
                lambda: resolve(settings.delivery.sinks, SINKS, SINK_GROUP, "sink")
            )
            sinks = [s for s in (built(partial(f, settings)) for f in sink_factories or []) if s]
        build_filter = built(lambda: BuildFilter(settings))
        llm = built(lambda: settings.section(LLMSettings))
        # Bad values of every section read above, and unknown variables under their prefixes.
        problems = list(dict.fromkeys([*settings.problems, *problems]))
        if problems or build_filter is None or llm is None:
            listed = "\n".join(f"- {p}" for p in problems)
            raise ConfigError(f"{len(problems)} configuration problem(s):\n{listed}")
        self.filter = build_filter
        self.analyzers = list(analyzers)
        self.sinks = list(sinks)
        self.store = store or STATE_STORES[settings.state.state_store](settings)
        self.history = FailureHistory(self.store, settings.state.history_retention_days)
        self.memory = PassingMemory(
            self.store, settings.learning, settings.state.history_retention_days
        )
        # Logs are full of secrets: what reports quote is redacted like what LLMs get.
        self.redactor = Redactor(llm.llm_redact_patterns)
        self._fixed_source = log_source
        self._sources: dict[str, LogSource] = {}

    # -- one event ---------------------------------------------------------------------

    def handle_message(self, message: PubsubMessage) -> Outcome:
        status = message.attributes.get("status", "")
        if status and status not in TERMINAL_STATUSES:
            # Cheap path for QUEUED/WORKING: no need to decode the Build.
            return Outcome("ignored", f"status {status} is not terminal")
        build = build_from_message(message)
        return self.handle_build(build, published=message.publish_time)

    def handle_build(
        self,
        build: BuildEvent,
        *,
        published: str = "",
        log_source: LogSource | None = None,
        passing: PassingLines | None = None,
    ) -> Outcome:
        """`log_source`, `passing`: the log and the passing builds' lines to use instead of
        the configured source and the remembered ones (the command line's replay)."""
        if not build.is_terminal:
            return Outcome("ignored", f"status {build.status} is not terminal")
        reason = self.filter.reason_to_skip(build, check_status=False)
        if reason is not None:
            return Outcome("ignored", reason)
        if build.status == "SUCCESS":
            return self._handle_success(build, published, log_source)
        reason = self.filter.reason_to_skip(build)
        if reason is not None:
            return Outcome("ignored", reason)
        event_key = f"{build.id}/{build.status}"
        claimed = self._claim(event_key)
        if not claimed:
            return self._already_claimed(build, event_key)
        try:
            buildlog, log_errors = self._fetch_log(build, published, log_source)
            recalled = self._recall(build, passing)
            findings, analyzer_errors = self._analyze(build, buildlog, recalled)
            excerpt = excerpt_lines(buildlog, findings, self.redactor)
            report = Report(
                build=build,
                findings=tuple(findings),
                excerpt=excerpt,
                errors=tuple(log_errors + analyzer_errors),
                log_source=buildlog.source,
                log_lines=buildlog.total_lines,
                log_cut=buildlog.cut,
                notes=recalled.notes,
            )
            fingerprint = report.fingerprint or fallback_fingerprint(findings, excerpt)
            recorded = self.history.record_failure(build, fingerprint)
            report = dataclasses.replace(
                redact_report(report, self.redactor),
                history=recorded.history,
                since_passing=_with_novelty(
                    recorded.since_passing, buildlog, report, recalled.passing
                ),
            )
        except BaseException:
            self._release(event_key, claimed)
            raise
        return self._deliver(report, claimed, event_key, published)

    def _handle_success(
        self, build: BuildEvent, published: str, log_source: LogSource | None
    ) -> Outcome:
        """A passing build: remember it (flaky hints, its lines with LEARN_FROM_PASSING)
        and, if its lane was failing and NOTIFY_RECOVERY is on, say it is fixed."""
        learned = self._learn(build, published, log_source)
        if not self.settings.delivery.notify_recovery:
            self.history.record_success(build)
            return Outcome("ignored", f"status SUCCESS: recorded for history{learned}")
        event_key = f"{build.id}/{build.status}"
        claimed = self._claim(event_key)
        if not claimed:
            return self._already_claimed(build, event_key)
        try:
            recovery = self.history.record_success(build)
        except BaseException:
            self._release(event_key, claimed)
            raise
        if recovery is None:
            self._release(event_key, claimed)
            return Outcome("ignored", "status SUCCESS and the lane was not failing")
        report = Report(build=build, kind="recovery", fixed_failure=recovery.failed_build)
        return self._deliver(report, claimed, event_key, published)

    def _claim(self, event_key: str) -> list[Sink]:
        lease = self.settings.state.claim_lease_s
        return [s for s in self.sinks if self.store.claim(f"{event_key}/{s.name}", lease)]

    def _already_claimed(self, build: BuildEvent, event_key: str) -> Outcome:
        """Every sink is claimed by someone: a duplicate if all delivered; otherwise another
        instance is delivering now, and acknowledging would lose the report if it died."""
        held = [s.name for s in self.sinks if not self.store.is_done(f"{event_key}/{s.name}")]
        if held:
            raise InProgressElsewhere(
                f"build {build.id} {build.status} is being delivered by another instance "
                f"({', '.join(held)}); retry later"
            )
        return Outcome("duplicate", f"build {build.id} {build.status} was already reported")

    def _release(self, event_key: str, sinks: Sequence[Sink]) -> None:
        for sink in sinks:
            self.store.release(f"{event_key}/{sink.name}")

    # -- passing builds ----------------------------------------------------------------

    def _learn(self, build: BuildEvent, published: str, log_source: LogSource | None) -> str:
        """Remember a passing build's lines; says what was done, for the outcome. A log
        source that does not answer yet makes the event retried (as for a failure);
        anything else is logged and the build is not learned from: learning never costs a
        report."""
        memory = self.memory
        if not memory.enabled:
            return ""
        skip = memory.reason_to_skip(build)
        if skip:
            return "; " + skip
        buildlog, errors = self._fetch_log(build, published, log_source)
        try:
            learned = memory.learn(build, buildlog)
        except TransientError:
            raise
        except Exception as exc:
            message = f"learning from the passing build failed: {exc.__class__.__name__}: {exc}"
            log("ERROR", message, build_id=build.id)
            return "; " + message
        reason = "; ".join([learned.reason, *(e.message for e in errors)])
        log("INFO", f"passing build {learned.action}: {reason}", build_id=build.id,
            signature_bytes=learned.size_bytes)  # fmt: skip
        return f"; lines {learned.action} ({reason}, {learned.size_bytes} bytes)"

    def _recall(self, build: BuildEvent, given: PassingLines | None) -> Recalled:
        if given is not None:
            return Recalled(given if given else None)
        if not self.memory.enabled:
            return Recalled(None)
        return self.memory.recall(build)

    # -- stages ------------------------------------------------------------------------

    def _source(self, name: str) -> LogSource:
        if name not in self._sources:
            self._sources[name] = LOG_SOURCES[name](self.settings)
        return self._sources[name]

    def _fetch_log(
        self, build: BuildEvent, published: str, override: LogSource | None
    ) -> tuple[BuildLog, list[StageError]]:
        fixed = override or self._fixed_source
        if fixed is not None:
            candidates = [fixed]
        else:
            candidates = [
                self._source(n) for n in source_names(build, self.settings.sources.log_source)
            ]
        errors: list[StageError] = []
        transient: list[str] = []
        for source in candidates:
            name = source.name
            try:
                return source.fetch(build), errors
            except LogNotFound as exc:
                errors.append(StageError("log", name, str(exc)))
            except LogUnavailable as exc:
                transient.append(f"{name}: {exc}")
                errors.append(StageError("log", name, str(exc)))
            except Exception as exc:  # unknown: retry, within the give-up window
                message = f"unexpected {exc.__class__.__name__}: {exc}"
                transient.append(f"{name}: {message}")
                errors.append(StageError("log", name, message))
        if transient and self._age_s(build, published) < self.settings.sources.log_give_up_after_s:
            raise LogUnavailable("no log source answered: " + "; ".join(transient))
        if not candidates:
            errors.append(StageError("log", "none", "the build's options.logging is NONE"))
        return BuildLog([], 0, 0, "no log"), errors

    @staticmethod
    def _age_s(build: BuildEvent, published: str) -> float:
        try:
            since = parse_time(published) if published else build.finish_time
        except ValueError:
            since = build.finish_time
        if since is None:
            return 0.0
        return (datetime.now(UTC) - since).total_seconds()

    def _analyze(
        self, build: BuildEvent, buildlog: BuildLog, recalled: Recalled
    ) -> tuple[list[Finding], list[StageError]]:
        ctx = AnalysisContext(build, buildlog, state=self.store)
        if recalled.passing is not None:
            ctx.put(recalled.passing)
        errors: list[StageError] = []
        for analyzer in self.analyzers:
            started = time.monotonic()
            try:
                ctx.findings.extend(analyzer.analyze(ctx))
            except Exception as exc:  # one analyzer never costs the report
                message = f"{exc.__class__.__name__}: {exc}"
                errors.append(StageError("analyzer", analyzer.name, message))
                log("ERROR", f"analyzer {analyzer.name} failed: {message}", build_id=build.id)
            finally:
                elapsed = time.monotonic() - started
                if elapsed > 5:
                    log(
                        "WARNING",
                        f"analyzer {analyzer.name} took {elapsed:.1f} s",
                        build_id=build.id,
                    )
        return ctx.findings, errors

    def _deliver(
        self, report: Report, sinks: Sequence[Sink], event_key: str, published: str
    ) -> Outcome:
        """Send to each claimed sink; raise if one failed transiently, so it is retried.

        Sinks that delivered are never sent again. A sink that keeps failing is given up
        on once the event is older than SINK_GIVE_UP_AFTER_S, but only if it is the only
        one failing (every other configured sink delivered): nothing is lost silently.
        """
        errors: list[StageError] = []
        failing: list[Sink] = []
        for sink in sinks:
            try:
                sink.send(report)
                self.store.complete(f"{event_key}/{sink.name}")
            except Exception as exc:  # one sink never blocks the others
                transient = not isinstance(exc, PermanentError)
                error = StageError("sink", sink.name, str(exc) or exc.__class__.__name__)
                errors.append(error)
                report = dataclasses.replace(report, errors=(*report.errors, error))
                if transient:
                    failing.append(sink)
                else:
                    self.store.complete(f"{event_key}/{sink.name}")  # retrying cannot help
                retrying = " (will retry)" if transient else ""
                log("ERROR", f"sink {sink.name} failed{retrying}: {error.message}",
                    build_id=report.build.id)  # fmt: skip
        old = self._age_s(report.build, published) > self.settings.delivery.sink_give_up_after_s
        if len(failing) == 1 and old:
            self.store.complete(f"{event_key}/{failing[0].name}")
            log("ERROR", f"gave up on sink {failing[0].name}: every other sink delivered",
                build_id=report.build.id)  # fmt: skip
            failing = []
        others = [s for s in self.sinks if s not in sinks]
        held = [s.name for s in others if not self.store.is_done(f"{event_key}/{s.name}")]
        if failing:
            self._release(event_key, failing)
            raise TransientError(
                "sinks failed and will be retried on redelivery: "
                + "; ".join(f"{e.name}: {e.message}" for e in errors)
            )
        if held:
            raise InProgressElsewhere(
                f"build {report.build.id} still being delivered to {', '.join(held)} by "
                "another instance; retry later"
            )
        action: Literal["reported", "recovered"] = (
            "recovered" if report.kind == "recovery" else "reported"
        )
        return Outcome(action, "", report, tuple(errors))


def _with_novelty(
    since: SincePassing | None, buildlog: BuildLog, report: Report, passing: PassingLines | None
) -> SincePassing | None:
    """The since-passing section with how much of the failing step the compared passing
    builds never printed (when any were compared)."""
    if passing is None:
        return since
    step = report.failing_step.step_index if report.failing_step else None
    lines = buildlog.step_lines(step) if step is not None else buildlog.lines
    novelty = passing.novelty(step, (line.text for line in lines))
    return dataclasses.replace(
        since or SincePassing("", "", "", "", 0),
        step=step,
        step_lines=novelty.lines,
        new_lines=novelty.new,
        compared=len(passing),
    )
