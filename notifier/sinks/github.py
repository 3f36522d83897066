"""GitHub: a commit status (or a check run) on the build's commit, and optionally a pull
request comment that is edited in place when the same trigger fails again on that PR.

- status (default): POST /repos/{owner}/{repo}/statuses/{sha}, context `buildlens/<trigger>`,
  description at most 140 characters, target_url the build log. Works with a classic or
  fine-grained token that may write commit statuses.
- check_run: POST /repos/{owner}/{repo}/check-runs with the Markdown report as output; needs
  a GitHub App installation token (GitHub refuses check runs from other tokens).
- GITHUB_PR_COMMENT=true and the build has `_PR_NUMBER`: the comment carrying the hidden
  marker `<!-- buildlens:trigger=<trigger> -->` is found (paging through the PR's comments)
  and PATCHed, else one is created.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import httpx
from pydantic import Field

from buildlens_core.errors import ConfigError
from buildlens_core.settings import Section
from notifier.render import _text, templates
from notifier.render.github_markdown import description, render_github_markdown
from notifier.report import Report
from notifier.sinks._config import http_url, required, secret
from notifier.sinks._http import HttpPoster, HttpSettings
from notifier.sinks.base import SinkRejected

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

OUTPUT_MAX = 65535  # check run output.summary and output.text
COMMENT_MAX = 65536  # issue comment body
TITLE_MAX = 255
_MARKER_SAFE = re.compile(r"[^A-Za-z0-9._/-]")
_MAX_PAGES = 30  # 3000 comments: past that, post a new one rather than page forever


class GitHubSettings(Section):
    prefixes = ()  # not GITHUB_: GitHub Actions sets many for every job

    github_token: str = ""  # may be sm://
    github_api_url: str = "https://api.github.com"  # GitHub Enterprise: https://HOST/api/v3
    github_mode: Literal["status", "check_run"] = "status"
    github_pr_comment: bool = False
    github_context: str = "buildlens"  # status context / check name prefix
    github_template: str = ""  # a Jinja2 Markdown template file
    github_deadline_s: float = Field(default=30.0, gt=0)


def _rate_limited(response: httpx.Response) -> bool:
    """GitHub signals rate limits with 429, or 403 plus Retry-After or no remaining quota."""
    if response.status_code == 429:
        return True
    return response.status_code == 403 and (
        "Retry-After" in response.headers or response.headers.get("x-ratelimit-remaining") == "0"
    )


class GitHubSink:
    name = "github"

    def __init__(
        self,
        token: str,
        *,
        api_url: str = "https://api.github.com",
        mode: Literal["status", "check_run"] = "status",
        pr_comment: bool = False,
        context: str = "buildlens",
        template: templates.ReportTemplate | None = None,
        deadline_s: float = 30.0,
        http: HttpSettings | None = None,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._mode = mode
        self._pr_comment = pr_comment
        self._context = context
        self._template = template
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        self._poster = HttpPoster(
            self.name, deadline_s=deadline_s, http=http, headers=headers, rate_limited=_rate_limited
        )

    def send(self, report: Report) -> None:
        b = report.build
        if not b.repo_full_name or "/" not in b.repo_full_name or not b.commit_sha:
            raise SinkRejected(
                "github: the build has no REPO_FULL_NAME/COMMIT_SHA substitutions (only "
                "builds from a GitHub trigger have them); limit the github sink to such triggers"
            )
        repo = "/".join(quote(part, safe="") for part in b.repo_full_name.split("/", 1))
        if self._mode == "check_run":
            self._check_run(report, repo)
        else:
            self._status(report, repo)
        if self._pr_comment and b.pr_number.isdigit():
            self._comment(report, repo, b.pr_number)

    # -- commit status / check run --------------------------------------------------------

    def _name(self, report: Report) -> str:
        b = report.build
        return f"{self._context}/{b.trigger_name or b.trigger_id or 'build'}"

    def _status(self, report: Report, repo: str) -> None:
        b = report.build
        state = "success" if report.kind == "recovery" else "failure"
        if b.status in ("INTERNAL_ERROR", "TIMEOUT", "EXPIRED"):
            state = "error"
        body: dict[str, Any] = {
            "state": state,
            "description": description(report),
            "context": self._name(report),
        }
        if b.log_url.startswith(("https://", "http://")):
            body["target_url"] = b.log_url
        path = f"/repos/{repo}/statuses/{b.commit_sha}"
        self._poster.request("POST", self._api + path, json=body, what=f"POST {path}")

    def _check_run(self, report: Report, repo: str) -> None:
        b = report.build
        conclusion = "success" if report.kind == "recovery" else "failure"
        if b.status == "TIMEOUT":
            conclusion = "timed_out"
        finished = b.finish_time or datetime.now(UTC)
        body: dict[str, Any] = {
            "name": self._name(report),
            "head_sha": b.commit_sha,
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": finished.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "external_id": b.id,
            "output": {
                "title": _text.clip(_text.clean(report.title), TITLE_MAX),
                "summary": _text.clip(description(report, limit=OUTPUT_MAX), OUTPUT_MAX),
                "text": render_github_markdown(report, OUTPUT_MAX, self._template),
            },
        }
        if b.log_url.startswith(("https://", "http://")):
            body["details_url"] = b.log_url
        path = f"/repos/{repo}/check-runs"
        self._poster.request("POST", self._api + path, json=body, what=f"POST {path}")

    # -- pull request comment -------------------------------------------------------------

    def marker(self, report: Report) -> str:
        b = report.build
        key = _MARKER_SAFE.sub("_", b.trigger_name or b.trigger_id or "build")
        return f"<!-- buildlens:trigger={key} -->"

    def _comment(self, report: Report, repo: str, number: str) -> None:
        marker = self.marker(report)
        body = (
            marker
            + "\n"
            + render_github_markdown(report, COMMENT_MAX - len(marker) - 1, self._template)
        )
        existing = self._find_comment(repo, number, marker)
        if existing is not None:
            path = f"/repos/{repo}/issues/comments/{existing}"
            self._poster.request(
                "PATCH", self._api + path, json={"body": body}, what=f"PATCH {path}"
            )
        else:
            path = f"/repos/{repo}/issues/{number}/comments"
            self._poster.request("POST", self._api + path, json={"body": body}, what=f"POST {path}")

    def _find_comment(self, repo: str, number: str, marker: str) -> int | None:
        url: str | None = f"{self._api}/repos/{repo}/issues/{number}/comments?per_page=100"
        path = f"/repos/{repo}/issues/{number}/comments"
        for _ in range(_MAX_PAGES):
            if url is None:
                return None
            response = self._poster.request("GET", url, what=f"GET {path}")
            for comment in response.json():
                if isinstance(comment, dict) and marker in str(comment.get("body") or ""):
                    return int(comment["id"])
            nxt = response.links.get("next", {}).get("url")
            # Follow only links on the configured API host: the token goes with the request.
            url = nxt if nxt and httpx.URL(nxt).host == httpx.URL(self._api).host else None
        return None


def create(settings: Settings) -> GitHubSink:
    own = settings.section(GitHubSettings)
    token = secret(required(own.github_token, "GITHUB_TOKEN", "github"), "GITHUB_TOKEN")
    if not token:
        raise ConfigError("GITHUB_TOKEN resolved to an empty secret: store the token in it")
    template = templates.load_optional(own.github_template, "markdown", "GITHUB_TEMPLATE")
    return GitHubSink(
        token,
        api_url=http_url(own.github_api_url, "GITHUB_API_URL"),
        mode=own.github_mode,
        pr_comment=own.github_pr_comment,
        context=own.github_context,
        template=template,
        deadline_s=own.github_deadline_s,
        http=settings.section(HttpSettings),
    )
