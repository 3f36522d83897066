"""Which step failed: from the Build's step statuses, `failureInfo` and the log's ERROR line."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from analyzers.base import AnalysisContext, Finding, JSONValue, LineRange
from analyzers.loglines import BUILD_STEP_ERROR
from analyzers.results import FailedStep
from buildlens_core.build import Step

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

_EXIT = re.compile(r"non-zero status: (\d+)")


class FailingStepAnalyzer:
    name = "failing_step"

    def analyze(self, ctx: AnalysisContext) -> list[Finding]:
        build = ctx.build
        error_line: int | None = None
        log_index: int | None = None
        log_exit: int | None = None
        reason = ""
        for line in reversed(ctx.log.lines):
            if line.step is not None:
                continue
            match = BUILD_STEP_ERROR.match(line.text)
            if match:
                error_line, log_index, reason = line.number, int(match.group(1)), match.group(3)
                exit_match = _EXIT.search(reason)
                log_exit = int(exit_match.group(1)) if exit_match else None
                break

        step = _failed_step(build.steps, build.status)
        if step is None and log_index is not None:
            step = build.step(log_index)
        if step is None:
            if not build.failure_type and error_line is None:
                return []
            detail = build.failure_detail or reason or build.status_detail
            summary = f"{build.failure_type or build.status}: {detail}".strip(": ")
            lines = (LineRange(error_line, error_line),) if error_line else ()
            ctx.put(FailedStep(summary))
            return [Finding(self.name, "failing_step", summary, lines, {"status": build.status})]

        exit_code = step.exit_code if step.exit_code is not None else log_exit
        data: dict[str, JSONValue] = {
            "step_index": step.index,
            "step_id": step.id,
            "image": step.name,
            "args": list(step.args),
            "exit_code": exit_code,
            "duration_s": step.duration_s,
            "status": step.status,
        }
        what = "timed out" if step.status == "TIMEOUT" else "failed"
        summary = f"{step.label} ({step.name}) {what}"
        if exit_code is not None:
            summary += f" with exit code {exit_code}"
        lines = (LineRange(error_line, error_line),) if error_line else ()
        ctx.put(FailedStep(summary, step.index, step.id, step.name, exit_code))
        return [Finding(self.name, "failing_step", summary, lines, data)]


def _failed_step(steps: tuple[Step, ...], build_status: str) -> Step | None:
    for wanted in ("FAILURE", "TIMEOUT", "INTERNAL_ERROR"):
        for step in steps:
            if step.status == wanted:
                return step
    if build_status == "TIMEOUT":
        # Step statuses can lag; the step still WORKING is the one that ran out of time.
        return next((s for s in steps if s.status == "WORKING"), None)
    return None


def create(settings: Settings) -> FailingStepAnalyzer:
    return FailingStepAnalyzer()
