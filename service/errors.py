"""OpenAI-style error responses: {"error": {"message", "type", "code"}}."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse


def error_response(
    status: int,
    message: str,
    type_: str,
    code: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error body that the OpenAI SDKs parse into a readable exception."""
    body = {"error": {"message": message, "type": type_, "code": code, "param": None}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))
