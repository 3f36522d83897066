"""The gateway's OpenAPI fuzzed with schemathesis, in-process, against a reflecting upstream.

Every generated request (valid and invalid bodies, odd path parameters, with a valid key, an
admin key, no key or a random key sent either way) must get an answer that is not a 5xx, that
matches the documented status codes, content types and schemas, and that carries none of the
planted keys nor their digests. Nothing but the allowlisted routes may reach the upstream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service import create_app
from service.openapi import openapi_schema
from tests.service.hardening.conftest import Planted, Upstream, assert_no_leak, gateway_settings
from tests.service.hardening.upstreams import ALLOWED

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

EXAMPLES = 100  # per operation and mode; about 35 s in all on a 2-core machine
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
COUNTS: Counter[str] = Counter()
STATUSES: Counter[tuple[str, int]] = Counter()

# Random keys: any printable text, sent as its UTF-8 bytes (as a client would).
_RANDOM_KEY = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=80
).map(lambda t: ("sk-" + t).encode("utf-8").decode("latin-1"))
AUTH = st.one_of(st.sampled_from(["user", "admin", "none"]), _RANDOM_KEY)


@pytest.fixture(scope="module")
def fuzz_app(reflecting: Upstream, planted: Planted) -> FastAPI:
    return create_app(gateway_settings(reflecting, planted))


@pytest.fixture(scope="module")
def gateway_schema(fuzz_app: FastAPI) -> Any:
    loaded = schemathesis.openapi.from_dict(fuzz_app.openapi())
    loaded.app = fuzz_app
    return loaded


@pytest.fixture(scope="module", autouse=True)
def report_counts(reflecting: Upstream) -> Iterator[None]:
    yield
    lines = [f"  {op}: {n} examples" for op, n in sorted(COUNTS.items())]
    statuses = ", ".join(f"{op} {code}: {n}" for (op, code), n in sorted(STATUSES.items()))
    print("\nschemathesis examples per operation:\n" + "\n".join(lines))
    print(f"  total: {sum(COUNTS.values())}\nstatuses: {statuses}")
    reached = reflecting.seen.paths()
    assert reached <= ALLOWED, f"upstream reached outside the allowlist: {reached - ALLOWED}"


def _operations(loaded: Any) -> dict[str, Any]:
    return {result.ok().label: result.ok() for result in loaded.get_all_operations()}


_STATIC = _operations(schemathesis.openapi.from_dict(openapi_schema()))
# Negative cases need something to break: a body or a parameter (the rest have neither).
CASES = [
    (label, mode)
    for label, operation in sorted(_STATIC.items())
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or operation.body or list(operation.iter_parameters())
]


def _headers(auth: str, bearer: bool, planted: Planted) -> dict[str, str]:
    key = {"user": planted.user, "admin": planted.admin}.get(auth, auth)
    if auth == "none":
        return {}
    return {"Authorization": f"Bearer {key}"} if bearer else {"X-API-Key": key}


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_gateway_api(
    gateway_schema: Any, label: str, mode: GenerationMode, planted: Planted
) -> None:
    operation = _operations(gateway_schema)[label]

    @given(case=operation.as_strategy(generation_mode=mode), auth=AUTH, bearer=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same examples on every run: CI failures reproduce
    )
    def one(case: Any, auth: str, bearer: bool) -> None:
        headers = _headers(auth, bearer, planted)
        response = case.call(headers=headers)
        COUNTS[f"{label} ({mode})"] += 1
        STATUSES[(label, response.status_code)] += 1
        assert response.status_code < 500 or (
            operation.path == "/admin/reload-keys" and response.status_code == 503
        ), response.text[:500]
        assert_no_leak(planted, response.content, list(response.headers.items()))
        if auth not in ("user", "admin") and operation.path != "/health":
            assert response.status_code == 401, response.text[:300]
        case.validate_response(response, checks=CHECKS, headers=headers)

    one()
