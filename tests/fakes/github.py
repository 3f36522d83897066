"""The slice of GitHub's REST API the github sink uses: commit statuses, check runs and
issue comments (paged with `Link` headers), behind a bearer token, under any base path
(`/api/v3` for GitHub Enterprise)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http import RecordingServer, Request, Response


@dataclass
class Comment:
    id: int
    body: str
    issue: int


@dataclass
class Repo:
    statuses: list[dict[str, Any]] = field(default_factory=list)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


def _json(status: int, obj: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(obj).encode(), headers or {})


class FakeGitHub(RecordingServer):
    def __init__(self, token: str, prefix: str = "", page_size: int = 30) -> None:
        super().__init__()
        self.token = token
        self.prefix = prefix.rstrip("/")
        self.page_size = page_size
        self.repos: dict[str, Repo] = {}
        self._next_id = 1000

    @property
    def api_url(self) -> str:
        return self.url + self.prefix

    def repo(self, name: str) -> Repo:
        return self.repos.setdefault(name, Repo())

    def add_comment(self, repo: str, issue: int, body: str) -> Comment:
        self._next_id += 1
        comment = Comment(self._next_id, body, issue)
        self.repo(repo).comments.append(comment)
        return comment

    def faultable(self, request: Request) -> bool:
        return request.method != "GET"

    def respond(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json(401, {"message": "Bad credentials"})
        if not request.path.startswith(self.prefix + "/repos/"):
            return _json(404, {"message": "Not Found"})
        path = request.path[len(self.prefix) :]
        body = json.loads(request.body) if request.body else {}
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/statuses/([0-9a-f]{40})", path)
        if m and request.method == "POST":
            if body.get("state") not in ("error", "failure", "pending", "success"):
                return _json(422, {"message": "Validation Failed"})
            if len(body.get("description", "")) > 140:
                return _json(422, {"message": "description is too long (maximum is 140)"})
            self.repo(m.group(1)).statuses.append({"sha": m.group(2), **body})
            return _json(201, {"id": 1, **body})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/check-runs", path)
        if m and request.method == "POST":
            output = body.get("output", {})
            if any(len(output.get(k, "")) > 65535 for k in ("summary", "text")):
                return _json(422, {"message": "output is too long (maximum is 65535)"})
            self.repo(m.group(1)).check_runs.append(body)
            return _json(201, {"id": 7, **body})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path)
        if m and request.method == "GET":
            comments = [c for c in self.repo(m.group(1)).comments if c.issue == int(m.group(2))]
            size = min(int(request.query.get("per_page", ["30"])[0]), self.page_size)
            page = int(request.query.get("page", ["1"])[0])
            chunk = comments[(page - 1) * size : page * size]
            headers = {}
            if page * size < len(comments):
                base = f"{self.url}{request.path}"
                headers["Link"] = f'<{base}?per_page={size}&page={page + 1}>; rel="next"'
            return _json(200, [{"id": c.id, "body": c.body} for c in chunk], headers)
        if m and request.method == "POST":
            if len(body.get("body", "")) > 65536:
                return _json(422, {"message": "body is too long (maximum is 65536)"})
            comment = self.add_comment(m.group(1), int(m.group(2)), body["body"])
            return _json(201, {"id": comment.id, "body": comment.body})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", path)
        if m and request.method == "PATCH":
            for comment in self.repo(m.group(1)).comments:
                if comment.id == int(m.group(2)):
                    comment.body = body["body"]
                    return _json(200, {"id": comment.id, "body": comment.body})
        return _json(404, {"message": "Not Found"})
