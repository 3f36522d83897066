"""User templates: compiled and test-rendered at start-up, escaped per target."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from buildlens_core.errors import ConfigError
from buildlens_core.settings import load_settings
from notifier.render import templates
from notifier.sinks import github, google_chat, slack
from tests.notifier.sinks.conftest import hostile_report, write_template


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write_template(tmp_path, "line one\n{{ title }}\n{% if x %}never closed\n")
    with pytest.raises(ConfigError) as info:
        templates.load(path, "slack", "SLACK_TEMPLATE")
    message = str(info.value)
    assert "SLACK_TEMPLATE" in message and path in message
    assert re.search(r"line [34]\b", message)


def test_unknown_variable_fails_at_start_up_with_its_line(tmp_path: Path) -> None:
    path = write_template(tmp_path, "{{ title }}\n\n{{ no_such_thing }}\n")
    with pytest.raises(ConfigError, match=r"line 3 .*'no_such_thing' is undefined"):
        templates.load(path, "markdown", "GITHUB_TEMPLATE")


def test_optional_values_must_be_guarded(tmp_path: Path) -> None:
    # `report.history` is None for a bare failure: the start-up check catches it.
    path = write_template(tmp_path, "{{ report.history.summary }}")
    with pytest.raises(ConfigError, match="bare failure"):
        templates.load(path, "chat", "GOOGLE_CHAT_TEMPLATE")
    guarded = write_template(
        tmp_path, "{% if report.history %}{{ report.history.summary }}{% endif %}", "ok.j2"
    )
    templates.load(guarded, "chat", "GOOGLE_CHAT_TEMPLATE")


def test_sandbox_blocks_python_internals(tmp_path: Path) -> None:
    path = write_template(tmp_path, "{{ title.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(ConfigError, match="line 1"):
        templates.load(path, "slack", "SLACK_TEMPLATE")


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="no such template file"):
        templates.load("/nonexistent/t.j2", "slack", "SLACK_TEMPLATE")


def test_broken_template_fails_sink_creation(tmp_path: Path) -> None:
    path = write_template(tmp_path, "{{ title ")
    with pytest.raises(ConfigError, match="SLACK_TEMPLATE"):
        slack.create(load_settings(slack_webhook_url="https://x", slack_template=path))
    with pytest.raises(ConfigError, match="GOOGLE_CHAT_TEMPLATE"):
        google_chat.create(
            load_settings(google_chat_webhook_url="https://x", google_chat_template=path)
        )
    with pytest.raises(ConfigError, match="GITHUB_TEMPLATE"):
        github.create(load_settings(github_token="t", github_template=path))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("slack", "&lt;!channel&gt; &lt;!here&gt; @\u2060here"),
        ("chat", "&lt;!channel&gt; &lt;!here&gt; @\u2060here"),
        ("markdown", "\\<\\!channel\\> \\<\\!here\\> \\@here"),
    ],
)
def test_values_are_escaped_per_target(tmp_path: Path, target: str, expected: str) -> None:
    path = write_template(
        tmp_path, "*literal* {% for line in key_lines[:1] %}{{ line }}{% endfor %}"
    )
    loaded = templates.load(path, target, "T")  # type: ignore[arg-type]
    out = loaded.render(hostile_report())
    assert out.startswith("*literal* ")
    assert expected in out


def test_link_and_code_filters(tmp_path: Path) -> None:
    text = "{{ commit_url | link(short_sha) }}\n{{ ['a ``` b', '<x>'] | code }}"
    report = hostile_report()
    sha, url = report.build.short_sha, report.commit_url
    slack_out = templates.load(write_template(tmp_path, text), "slack", "T").render(report)
    assert slack_out.startswith(f"<{url}|{sha}>\n```\n")
    assert "a `\u200b`\u200b` b\n&lt;x&gt;\n```" in slack_out
    md = templates.load(write_template(tmp_path, text, "m.j2"), "markdown", "T").render(report)
    assert md.startswith(f"[{sha}]({url})\n````text\na ``` b\n<x>\n````")
    chat = templates.load(write_template(tmp_path, text, "c.j2"), "chat", "T").render(report)
    assert chat.startswith(f'<a href="{url}">{sha}</a>')
    assert "&lt;x&gt;" in chat


def test_every_documented_variable_exists() -> None:
    documented = set(re.findall(r"\b([a-z_]+)(?= \(|,|\)|$)", templates.__doc__ or "", re.M))
    context = templates.context(hostile_report())
    names = {
        "kind", "is_recovery", "title", "status", "status_detail", "trigger", "build_id",
        "project_id", "repo", "branch", "tag", "commit", "short_sha", "pr_number", "log_url",
        "commit_url", "repo_url", "branch_url", "pr_url", "failing_step", "exit_code",
        "category", "cause", "hint", "doc_url", "history", "flaky", "since_passing",
        "last_passing_build", "compare_url", "summary", "root_cause", "fix_steps", "llm",
        "key_lines", "excerpt", "facts", "errors", "fixed_failure", "report",
    }  # fmt: skip
    assert names == set(context)
    assert names <= documented | {"report"}


def test_sample_reports_cover_the_shapes() -> None:
    samples = templates.sample_reports()
    assert {r.kind for r in samples.values()} == {"failure", "recovery"}
    assert any(r.history is None and not r.findings for r in samples.values())
