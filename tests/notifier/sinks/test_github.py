"""The GitHub sink against a local server speaking the REST API (under /api/v3, as GHE)."""

from __future__ import annotations

import dataclasses

import pytest

from buildlens_core.errors import ConfigError
from buildlens_core.settings import load_settings
from notifier.render.markdown import escape
from notifier.report import History
from notifier.sinks import SINKS
from notifier.sinks.base import SinkRejected
from notifier.sinks.github import GitHubSink, create
from tests.fakes.github import FakeGitHub
from tests.fakes.http import Response
from tests.notifier.sinks.conftest import (
    GITHUB_TOKEN,
    Logs,
    Secrets,
    fixture_report,
    hostile_report,
    recovery_report,
)

REPO = "acme/payments-api"


def sink(fake: FakeGitHub, **kw: object) -> GitHubSink:
    return create(load_settings(github_token=GITHUB_TOKEN, github_api_url=fake.api_url, **kw))


def test_registered() -> None:
    assert SINKS["github"] is create


def test_commit_status(fake_github: FakeGitHub) -> None:
    report = fixture_report()
    sink(fake_github).send(report)
    [status] = fake_github.repo(REPO).statuses
    assert status["sha"] == report.build.commit_sha
    assert status["state"] == "failure"
    assert status["context"] == "buildlens/payments-api-main"
    assert status["target_url"] == report.build.log_url
    assert 0 < len(status["description"]) <= 140
    assert "unit-tests" in status["description"]
    request = fake_github.requests[0]
    assert request.path == f"/api/v3/repos/{REPO}/statuses/{report.build.commit_sha}"
    assert request.headers["Accept"] == "application/vnd.github+json"


def test_status_states(fake_github: FakeGitHub) -> None:
    sink(fake_github).send(fixture_report("timeout"))
    sink(fake_github).send(recovery_report())
    assert [s["state"] for s in fake_github.repo("acme/search-indexer").statuses] == ["error"]
    assert [s["state"] for s in fake_github.repo(REPO).statuses] == ["success"]


def test_hostile_description_fits(fake_github: FakeGitHub) -> None:
    report = hostile_report()
    sink(fake_github).send(dataclasses.replace(report, history=History("f", 3, 3, "b", "2026")))
    [status] = fake_github.repo(REPO).statuses
    assert len(status["description"]) <= 140


def test_check_run_with_markdown_output(fake_github: FakeGitHub) -> None:
    report = hostile_report()
    sink(fake_github, github_mode="check_run").send(report)
    [run] = fake_github.repo(REPO).check_runs
    assert run["head_sha"] == report.build.commit_sha
    assert run["conclusion"] == "failure" and run["status"] == "completed"
    assert run["details_url"] == report.build.log_url
    assert run["external_id"] == report.build.id
    output = run["output"]
    assert len(output["summary"]) <= 65535 and len(output["text"]) <= 65535
    assert output["text"].startswith("### ❌")
    assert "\x1b[" not in output["text"]
    assert fake_github.repo(REPO).statuses == []


def test_pr_comment_is_created_then_edited_in_place(fake_github: FakeGitHub) -> None:
    fake_github.page_size = 100
    for i in range(130):  # the marker comment lands on the second page
        fake_github.add_comment(REPO, 17, f"unrelated comment {i}")
    first = fixture_report(_PR_NUMBER="17")
    github = sink(fake_github, github_pr_comment=True)
    github.send(first)
    ours = [c for c in fake_github.repo(REPO).comments if "buildlens:trigger" in c.body]
    assert len(ours) == 1
    assert ours[0].body.startswith("<!-- buildlens:trigger=payments-api-main -->\n### ❌")
    assert escape(first.build.id) in ours[0].body
    for i in range(10):
        fake_github.add_comment(REPO, 17, f"later comment {i}")
    second = fixture_report(_PR_NUMBER="17")
    github.send(second)
    ours = [c for c in fake_github.repo(REPO).comments if "buildlens:trigger" in c.body]
    assert len(ours) == 1  # edited, not duplicated
    assert escape(second.build.id) in ours[0].body
    assert escape(first.build.id) not in ours[0].body
    pages = [r for r in fake_github.requests if r.method == "GET"]
    assert any(r.query.get("page") == ["2"] for r in pages)
    assert [r.method for r in fake_github.requests if "comments/" in r.path] == ["PATCH"]


def test_pr_comment_per_trigger(fake_github: FakeGitHub) -> None:
    github = sink(fake_github, github_pr_comment=True)
    github.send(fixture_report(_PR_NUMBER="5"))
    github.send(fixture_report(_PR_NUMBER="5", TRIGGER_NAME="lint --> <x>"))
    bodies = [c.body for c in fake_github.repo(REPO).comments]
    assert len(bodies) == 2
    assert bodies[1].startswith("<!-- buildlens:trigger=lint_--___x_ -->")


def test_no_pr_comment_without_setting_or_number(fake_github: FakeGitHub) -> None:
    sink(fake_github).send(fixture_report(_PR_NUMBER="5"))
    sink(fake_github, github_pr_comment=True).send(fixture_report())
    assert fake_github.repo(REPO).comments == []


def test_huge_report_comment_fits(fake_github: FakeGitHub) -> None:
    sink(fake_github, github_pr_comment=True).send(hostile_report())
    [comment] = fake_github.repo(REPO).comments
    assert len(comment.body) <= 65536


def test_build_without_repo_is_rejected(fake_github: FakeGitHub) -> None:
    report = fixture_report()
    build = dataclasses.replace(report.build, substitutions={})
    with pytest.raises(SinkRejected, match="REPO_FULL_NAME"):
        sink(fake_github).send(dataclasses.replace(report, build=build))


def test_bad_token_is_rejected_without_echoing_it(fake_github: FakeGitHub, logs: Logs) -> None:
    own = load_settings(github_token="ghp_wrongTOKENvalue", github_api_url=fake_github.api_url)
    with pytest.raises(SinkRejected, match=r"401.*GITHUB") as info:
        create(own).send(fixture_report())
    assert "wrongTOKEN" not in str(info.value) and "wrongTOKEN" not in logs.text()
    assert len(fake_github.requests) == 1


def test_secondary_rate_limit_403_is_retried(fake_github: FakeGitHub) -> None:
    fake_github.faults.append(
        Response(403, b'{"message": "secondary rate limit"}', {"Retry-After": "1"})
    )
    sink(fake_github).send(fixture_report())
    assert len(fake_github.repo(REPO).statuses) == 1
    assert len(fake_github.requests) == 2


def test_429_then_503_then_success(fake_github: FakeGitHub) -> None:
    fake_github.faults.append(Response(429, b"{}", {"Retry-After": "1"}))
    fake_github.faults.append(Response(503, b"{}"))
    sink(fake_github).send(fixture_report())
    assert len(fake_github.requests) == 3


def test_422_not_retried(fake_github: FakeGitHub) -> None:
    fake_github.faults.append(Response(422, b'{"message": "No commit found for SHA"}'))
    with pytest.raises(SinkRejected, match=r"422.*No commit found"):
        sink(fake_github).send(fixture_report())
    assert len(fake_github.requests) == 1


def test_token_from_secret_manager(
    fake_github: FakeGitHub, secret_manager: Secrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", secret_manager.put(GITHUB_TOKEN))
    monkeypatch.setenv("GITHUB_API_URL", fake_github.api_url)
    create(load_settings()).send(fixture_report())
    assert len(fake_github.repo(REPO).statuses) == 1


def test_missing_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"GITHUB_TOKEN.*remove github from SINKS"):
        create(load_settings())
