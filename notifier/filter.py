"""Which builds get a report: status, trigger, branch, repository and an optional CEL rule."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from buildlens_core.build import BuildEvent
from buildlens_core.errors import ConfigError
from buildlens_core.settings import Settings


class BuildFilter:
    def __init__(self, settings: Settings) -> None:
        self._statuses = frozenset(settings.builds.report_statuses)
        self._triggers = settings.builds.trigger_names
        self._branches = settings.builds.branches
        self._repos = settings.builds.repos
        self._cel: Any = None
        self._cel_text = settings.builds.filter_cel.strip()
        if self._cel_text:
            self._cel = _compile_cel(self._cel_text)

    def reason_to_skip(self, build: BuildEvent, *, check_status: bool = True) -> str | None:
        """None when the build is reported, otherwise why it is not."""
        if check_status and build.status not in self._statuses:
            wanted = ", ".join(sorted(self._statuses))
            return f"status {build.status} is not one of REPORT_STATUSES ({wanted})"
        for what, patterns, value in (
            ("trigger", self._triggers, build.trigger_name),
            ("branch", self._branches, build.branch),
            ("repository", self._repos, build.repo_full_name or build.repo_name),
        ):
            if patterns and not any(fnmatchcase(value, p) for p in patterns):
                return f"{what} {value or '(none)'!r} matches none of {', '.join(patterns)}"
        if self._cel is not None and not self._cel_matches(build):
            return f"FILTER_CEL is false for this build: {self._cel_text}"
        return None

    def _cel_matches(self, build: BuildEvent) -> bool:
        import celpy

        try:
            activation = {"build": celpy.json_to_cel(dict(build.raw))}  # type: ignore[attr-defined]
            result = self._cel.evaluate(activation)
        except Exception:  # a field the build lacks: the rule does not match
            return False
        return bool(result) if isinstance(result, bool | int) else False


def _compile_cel(text: str) -> Any:
    import celpy

    env = celpy.Environment()
    try:
        return env.program(env.compile(text))
    except Exception as exc:
        raise ConfigError(
            f"FILTER_CEL is not a valid CEL expression ({exc.__class__.__name__}); "
            f'fix it, e.g. build.substitutions.BRANCH_NAME == "main"'
        ) from None
