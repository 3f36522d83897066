"""The gateway's public API as an OpenAPI 3.1 document (for clients, and for the fuzzing tests).

Not served: the gateway exposes nothing but its routes. `create_app(...).openapi()` returns it.
Bodies of the forwarded routes are described loosely (the model server validates them); what the
gateway itself answers (errors, /health, /metrics, key reloads) is described exactly.
"""

from __future__ import annotations

from typing import Any

_ERROR = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": ["string", "null"]},
                "param": {"type": ["string", "null"]},
            },
        }
    },
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        response["headers"] = headers
    return response


_RETRY_AFTER = {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_KEYED = {
    "401": _error("missing, invalid or expired API key"),
    "429": _error("the key's rate limit is reached", _RETRY_AFTER),
}
_UPSTREAM = {
    "502": _error("the model server cannot be reached"),
    "504": _error("the model server did not answer in time"),
}
_BODY_ERRORS = {
    "408": _error("the request body did not arrive in time"),
    "413": _error("the request body is too large"),
}
_ANY_JSON: dict[str, Any] = {"application/json": {"schema": {}}}
_UPSTREAM_ANSWER = {
    "description": "the model server's answer, passed through (a stream when `stream` is true)",
    "content": {**_ANY_JSON, "text/event-stream": {"schema": {}}},
}
_UPSTREAM_STATUS = {
    "4XX": {"description": "refused by the model server (its own error body)", "content": _ANY_JSON}
}


def _forwarded(summary: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": _UPSTREAM_ANSWER,
                **_UPSTREAM_STATUS,
                **_KEYED,
                **_BODY_ERRORS,
                **_UPSTREAM,
            },
        }
    }


_MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "user", "assistant"]},
        "content": {"type": "string"},
    },
}
_SAMPLING = {
    "model": {"type": "string"},
    "max_tokens": {"type": "integer", "minimum": 1},
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "stream": {"type": "boolean"},
}


def openapi_schema() -> dict[str, Any]:
    """The OpenAPI document of the gateway's routes."""
    keyed: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "buildlens gateway", "version": "1"},
        "security": keyed,
        "paths": {
            "/v1/models": {
                "get": {
                    "summary": "served models",
                    "responses": {"200": _UPSTREAM_ANSWER, **_KEYED, **_UPSTREAM},
                }
            },
            "/v1/models/{model_id}": {
                "get": {
                    "summary": "one served model",
                    "parameters": [
                        {
                            "name": "model_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "the model", "content": _ANY_JSON},
                        "404": _error("no such model"),
                        **_KEYED,
                        **_UPSTREAM,
                    },
                }
            },
            "/v1/completions": _forwarded(
                "text completion",
                {
                    "type": "object",
                    "required": ["model", "prompt"],
                    "properties": {
                        **_SAMPLING,
                        "prompt": {"type": "string"},
                    },
                },
            ),
            "/v1/chat/completions": _forwarded(
                "chat completion",
                {
                    "type": "object",
                    "required": ["model", "messages"],
                    "properties": {
                        **_SAMPLING,
                        "messages": {"type": "array", "items": _MESSAGE, "minItems": 1},
                    },
                },
            ),
            "/v1/embeddings": _forwarded(
                "embeddings",
                {
                    "type": "object",
                    "required": ["model", "input"],
                    "properties": {"model": {"type": "string"}, "input": {"type": "string"}},
                },
            ),
            "/health": {
                "get": {
                    "summary": "ready when the model server lists its model (no key)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "ready",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Health"}
                                }
                            },
                        },
                        "503": {
                            "description": "starting, or the model server is down",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Health"}
                                }
                            },
                        },
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (admin key)",
                    "responses": {
                        "200": {
                            "description": "Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "401": _KEYED["401"],
                        "403": _error("not an admin key"),
                    },
                }
            },
            "/admin/reload-keys": {
                "post": {
                    "summary": "reload the keys now (admin key)",
                    "responses": {
                        "200": {
                            "description": "reloaded",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["reloaded", "keys"],
                                        "properties": {
                                            "reloaded": {"const": True},
                                            "keys": {"type": "integer", "minimum": 0},
                                        },
                                    }
                                }
                            },
                        },
                        "401": _KEYED["401"],
                        "403": _error("not an admin key"),
                        "503": _error("the key source failed; the last good set is kept"),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "Error": _ERROR,
                "Health": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {
                        "status": {"enum": ["ok", "unavailable"]},
                        "models": {"type": "array", "items": {"type": "string"}},
                        "reason": {"type": "string"},
                    },
                },
            },
        },
    }
