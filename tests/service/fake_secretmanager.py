"""A local server speaking Secret Manager's v1 REST API (the subset the key CLI and gateway use).

Clients reach it through the real google-cloud-secret-manager library with transport="rest",
client_options api_endpoint=<this URL> and anonymous credentials.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_SECRET = re.compile(r"^projects/([^/]+)/secrets/([^/:]+)$")
_VERSION = re.compile(r"^(projects/[^/]+/secrets/[^/]+)/versions/([^/]+)$")


@dataclass
class SecretStore:
    secrets: dict[str, list[bytes]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def latest(self, secret: str) -> bytes:
        return self.secrets[secret][-1]


def _error(code: int, status: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "status": status, "message": message}}, code)


def make_secretmanager(store: SecretStore) -> Starlette:
    async def dispatch(request: Request) -> JSONResponse:
        path = request.path_params["rest"]
        resource, _, verb = path.partition(":")
        store.calls.append(f"{request.method} {path}")
        if request.method == "POST" and re.fullmatch(r"projects/[^/]+/secrets", resource):
            name = f"{resource}/{request.query_params['secretId']}"
            if name in store.secrets:
                return _error(409, "ALREADY_EXISTS", f"Secret [{name}] already exists.")
            store.secrets[name] = []
            body = await request.json()
            return JSONResponse({"name": name, "replication": body.get("replication", {})})
        if request.method == "POST" and verb == "addVersion" and _SECRET.match(resource):
            if resource not in store.secrets:
                return _error(404, "NOT_FOUND", f"Secret [{resource}] not found.")
            payload: dict[str, Any] = (await request.json())["payload"]
            store.secrets[resource].append(base64.b64decode(payload["data"]))
            number = len(store.secrets[resource])
            return JSONResponse({"name": f"{resource}/versions/{number}", "state": "ENABLED"})
        match = _VERSION.match(resource)
        if request.method == "GET" and verb == "access" and match:
            secret, version = match.groups()
            versions = store.secrets.get(secret)
            if not versions:
                return _error(404, "NOT_FOUND", f"Secret Version [{resource}] not found.")
            number = len(versions) if version == "latest" else int(version)
            if not 1 <= number <= len(versions):
                return _error(404, "NOT_FOUND", f"Secret Version [{resource}] not found.")
            data = versions[number - 1]
            return JSONResponse(
                {
                    "name": f"{secret}/versions/{number}",
                    "payload": {"data": base64.b64encode(data).decode()},
                }
            )
        return _error(400, "INVALID_ARGUMENT", f"unsupported call {request.method} {path}")

    return Starlette(routes=[Route("/v1/{rest:path}", dispatch, methods=["GET", "POST"])])
