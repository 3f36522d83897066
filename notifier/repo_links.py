"""Links into the build's source repository: a commit, and the commits between two builds.

The host is read from what the Build says: a git URL (`source.gitSource.url`, the resolved
source, `_HEAD_REPO_URL` of pull-request triggers) on GitHub, GitLab or Bitbucket (also
self-hosted ones named so), else `REPO_FULL_NAME` alone, which GitHub triggers set. Cloud
Source Repositories has no compare page: reports name the two commits instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from buildlens_core.build import BuildEvent

Host = Literal["github", "gitlab", "bitbucket"]
_HOSTS: tuple[Host, ...] = ("github", "gitlab", "bitbucket")

_GIT_URL = re.compile(r"^(?:https?://|git@)(?P<host>[\w.-]+)[/:](?P<path>[\w.~/-]+?)(?:\.git)?/?$")
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")


@dataclass(frozen=True, slots=True)
class RepoWeb:
    host: Host
    base: str  # https://github.com/owner/name

    def commit(self, sha: str) -> str:
        if not _SHA.match(sha):
            return ""
        path = {"github": "commit", "gitlab": "-/commit", "bitbucket": "commits"}[self.host]
        return f"{self.base}/{path}/{sha}"

    def branch(self, name: str) -> str:
        path = {"github": "tree", "gitlab": "-/tree", "bitbucket": "branch"}[self.host]
        return f"{self.base}/{path}/{name}" if name else ""

    def pull_request(self, number: str) -> str:
        if not number.isdigit():
            return ""
        path = {"github": "pull", "gitlab": "-/merge_requests", "bitbucket": "pull-requests"}
        return f"{self.base}/{path[self.host]}/{number}"

    def compare(self, old: str, new: str) -> str:
        if not (_SHA.match(old) and _SHA.match(new)) or old == new:
            return ""
        if self.host == "github":
            return f"{self.base}/compare/{old}...{new}"
        if self.host == "gitlab":
            return f"{self.base}/-/compare/{old}...{new}"
        return f"{self.base}/branches/compare/{quote(new)}%0D{quote(old)}"


def repo_web(build: BuildEvent) -> RepoWeb | None:
    for url in _git_urls(build):
        found = _from_url(url)
        if found is not None:
            return found
    if build.repo_full_name and not _has_other_source(build.raw):
        return RepoWeb("github", f"https://github.com/{build.repo_full_name}")
    return None


def _git_urls(build: BuildEvent) -> list[str]:
    raw = build.raw
    urls = [
        _dig(raw, "source", "gitSource", "url"),
        _dig(raw, "sourceProvenance", "resolvedGitSource", "url"),
        build.substitutions.get("_HEAD_REPO_URL", ""),
    ]
    return [u for u in urls if u]


def _from_url(url: str) -> RepoWeb | None:
    match = _GIT_URL.match(url.strip())
    if match is None:
        return None
    host, path = match["host"].lower(), match["path"].strip("/")
    for kind in _HOSTS:
        if kind in host:
            return RepoWeb(kind, f"https://{host}/{path}")
    return None


def _has_other_source(raw: Mapping[str, Any]) -> bool:
    """A Cloud Source Repositories or storage source: REPO_FULL_NAME is not GitHub's then."""
    return bool(_dig(raw, "source", "repoSource", "repoName"))


def _dig(obj: Mapping[str, Any], *keys: str) -> str:
    value: Any = obj
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) else ""
