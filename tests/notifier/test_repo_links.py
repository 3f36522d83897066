"""Links into the source repository, by what the Build says about its host."""

from __future__ import annotations

from typing import Any

from buildlens_core.build import decode_build
from notifier.repo_links import repo_web

OLD, NEW = "a" * 40, "b" * 40


def _build(**fields: Any) -> Any:
    return decode_build({"id": "b1", "status": "FAILURE", **fields})


def test_the_host_comes_from_the_git_url_then_repo_full_name() -> None:
    cases = {
        "https://github.com/o/r.git": "https://github.com/o/r/compare/{o}...{n}",
        "git@gitlab.com:group/sub/r.git": "https://gitlab.com/group/sub/r/-/compare/{o}...{n}",
        "https://bitbucket.org/o/r": "https://bitbucket.org/o/r/branches/compare/{n}%0D{o}",
        "https://gitlab.example.org/o/r.git": "https://gitlab.example.org/o/r/-/compare/{o}...{n}",
    }
    for url, want in cases.items():
        web = repo_web(_build(source={"gitSource": {"url": url}}))
        assert web is not None and web.compare(OLD, NEW) == want.format(o=OLD, n=NEW)
    pr = _build(substitutions={"_HEAD_REPO_URL": "https://github.com/fork/r"})
    fork = repo_web(pr)
    assert fork is not None and fork.base == "https://github.com/fork/r"
    github = repo_web(_build(substitutions={"REPO_FULL_NAME": "o/r"}))
    assert github is not None and github.commit(NEW) == f"https://github.com/o/r/commit/{NEW}"


def test_no_link_where_the_host_is_unknown_or_the_commits_are_not_shas() -> None:
    csr = _build(
        source={"repoSource": {"projectId": "p", "repoName": "r"}},
        substitutions={"REPO_FULL_NAME": "p/r"},
    )
    assert repo_web(csr) is None  # Cloud Source Repositories: reports name the two commits
    assert repo_web(_build(source={"gitSource": {"url": "https://git.example.org/o/r"}})) is None
    web = repo_web(_build(substitutions={"REPO_FULL_NAME": "o/r"}))
    assert web is not None
    assert web.compare(OLD, OLD) == "" and web.compare("main", NEW) == ""
    assert web.commit("../../evil") == ""


def test_branch_and_pull_request_links_follow_the_host() -> None:
    gitlab = repo_web(_build(source={"gitSource": {"url": "https://gitlab.com/g/r.git"}}))
    assert gitlab is not None
    assert gitlab.branch("main") == "https://gitlab.com/g/r/-/tree/main"
    assert gitlab.pull_request("7") == "https://gitlab.com/g/r/-/merge_requests/7"
    github = repo_web(_build(substitutions={"REPO_FULL_NAME": "o/r"}))
    assert github is not None
    assert github.branch("main") == "https://github.com/o/r/tree/main"
    assert github.pull_request("7") == "https://github.com/o/r/pull/7"
    assert github.pull_request("x") == "" and github.branch("") == ""
