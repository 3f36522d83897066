"""Classification: which kind of failure this is, from a catalogue of rules kept as data.

Rules live in `rules.toml` (category, patterns, hint, doc link). The first rule in file
order that matches a key line or one of the failing section's last lines wins, so specific
rules are listed before general ones. No match is "unclassified": a wrong category
misleads more than none.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from analyzers.base import AnalysisContext, Finding, JSONValue
from analyzers.keylines import key_lines_for
from analyzers.wrappers import says_only_that_it_failed

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

UNCLASSIFIED = "unclassified"
MAX_RULE_CHARS = 1000  # rules see at most this much of a line: bounded regex cost

CATEGORIES = (
    "test_failure", "compile_error", "lint_or_type_check", "dependency_resolution",
    "registry_or_network", "auth_or_permission", "quota", "timeout", "out_of_memory",
    "disk_full", "docker_build", "deploy", "infrastructure", "configuration", "flaky",
)  # fmt: skip


class RulesError(ValueError):
    """The rules file is malformed; the message names the rule and the field to fix."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    patterns: tuple[re.Pattern[str], ...]
    hint: str
    doc_url: str
    build_status: str = ""  # matches builds with this status (e.g. TIMEOUT) without any text
    failure_type: str = ""  # matches builds with this failureInfo.type


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    rule: str
    hint: str
    doc_url: str
    line: str = ""  # the text that matched


def load_rules(text: str | None = None) -> tuple[Rule, ...]:
    if text is None:
        text = resources.files("analyzers").joinpath("rules.toml").read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"rules.toml is not valid TOML ({exc}); fix the syntax") from exc
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(data.get("rule", [])):
        rid = str(item.get("id", f"#{i}"))
        for key in ("id", "category", "hint", "doc_url"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise RulesError(f"rule {rid}: set `{key}` to a non-empty string")
        if item["category"] not in CATEGORIES:
            raise RulesError(f"rule {rid}: category must be one of {', '.join(CATEGORIES)}")
        if rid in seen:
            raise RulesError(f"rule {rid}: ids must be unique; rename one of them")
        seen.add(rid)
        raw = item.get("patterns", [])
        if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
            raise RulesError(f"rule {rid}: `patterns` must be a list of regex strings")
        flags = re.IGNORECASE if item.get("ignore_case", False) else 0
        try:
            patterns = tuple(re.compile(p, flags) for p in raw)
        except re.error as exc:
            raise RulesError(f"rule {rid}: bad pattern ({exc}); fix the regex") from exc
        status = str(item.get("build_status", ""))
        ftype = str(item.get("failure_type", ""))
        if not patterns and not status and not ftype:
            raise RulesError(f"rule {rid}: give `patterns`, `build_status` or `failure_type`")
        rules.append(
            Rule(rid, item["category"], patterns, item["hint"], item["doc_url"], status, ftype)
        )
    return tuple(rules)


@cache
def default_rules() -> tuple[Rule, ...]:
    return load_rules()


def classify(
    key_texts: Sequence[str],
    context_texts: Iterable[str] = (),
    *,
    build_status: str = "",
    failure_type: str = "",
    rules: Sequence[Rule] | None = None,
) -> Classification:
    """The build's status if a rule names it, else the first rule (in file order) matching
    a key line that states the cause, else one matching the failing section's last lines,
    else (only when no key line states a cause) one matching a wrapper: the cause decides,
    not the step carrying it."""
    rules = default_rules() if rules is None else rules
    for rule in rules:
        # The build's own verdict (TIMEOUT, PUSH_NOT_AUTHORIZED) beats what the text suggests.
        if (rule.build_status and rule.build_status == build_status) or (
            rule.failure_type and rule.failure_type == failure_type
        ):
            return Classification(rule.category, rule.id, rule.hint, rule.doc_url)
    key = [t[:MAX_RULE_CHARS] for t in key_texts if t]
    tail = [t[:MAX_RULE_CHARS] for t in context_texts if t]
    causes = [t for t in key if not says_only_that_it_failed(t)]
    context = [t for t in tail if not says_only_that_it_failed(t)]
    # A wrapper (`ERROR: build step 0 ... failed`) decides only when no key line states a cause.
    wrappers = [] if causes else [t for t in (*key, *tail) if says_only_that_it_failed(t)]
    for texts in (causes, context, wrappers):
        for rule in rules:
            for pattern in rule.patterns:
                for text in texts:
                    if pattern.search(text):
                        return Classification(rule.category, rule.id, rule.hint, rule.doc_url, text)
    return Classification(UNCLASSIFIED, "", "", "")


class ClassifyAnalyzer:
    name = "classify"

    def analyze(self, ctx: AnalysisContext) -> list[Finding]:
        found = key_lines_for(ctx)
        result = classify(
            found.texts,
            found.tail_texts,
            build_status=ctx.build.status,
            failure_type=ctx.build.failure_type,
        )
        ctx.put(result)
        summary = result.category if not result.rule else f"{result.category} ({result.rule})"
        data: dict[str, JSONValue] = {
            "category": result.category,
            "rule": result.rule,
            "hint": result.hint,
            "doc_url": result.doc_url,
        }
        return [Finding(self.name, "classification", summary, found.ranges, data)]


def create(settings: Settings) -> ClassifyAnalyzer:
    return ClassifyAnalyzer()
