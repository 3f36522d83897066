"""Property-based tests: decoders never crash on any input, line numbering is exact,
excerpts stay inside the log, Markdown is always escaped."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.base import Finding, LineRange
from buildlens_core.build import BuildDecodeError, decode_build
from buildlens_core.buildlog import LogAccumulator, build_log_from_bytes, iter_lines, split_lines
from buildlens_core.errors import PermanentError
from notifier.event import build_from_message, message_from_event_data
from notifier.render.markdown import escape, fence
from notifier.report import excerpt_lines

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
build_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | st.text(min_size=1, max_size=10),
        "status": st.sampled_from(["FAILURE", "SUCCESS", "WORKING", "nope"]) | json_values,
        "steps": st.lists(
            st.dictionaries(
                st.sampled_from(["id", "name", "args", "status", "exitCode", "timing"]), json_values
            ),
            max_size=3,
        )
        | json_values,
        "substitutions": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        "createTime": st.text(max_size=30) | json_values,
        "options": st.dictionaries(st.just("logging"), json_values) | json_values,
        "failureInfo": json_values,
    },
)


@given(build_like)
def test_build_decoder_only_raises_its_own_clear_error(obj: dict[str, Any]) -> None:
    try:
        build = decode_build(obj)
    except BuildDecodeError as exc:
        assert str(exc)
    else:
        assert isinstance(build.id, str) and build.id


@given(st.one_of(st.binary(max_size=200), json_values, st.text(max_size=200)))
def test_event_decoder_only_raises_permanent_errors(data: object) -> None:
    try:
        build_from_message(message_from_event_data(data))
    except PermanentError as exc:
        assert str(exc)


@given(st.binary(max_size=300))
def test_any_base64_payload_is_a_build_or_a_permanent_error(payload: bytes) -> None:
    body = {"message": {"data": base64.b64encode(payload).decode(), "messageId": "1"}}
    with contextlib.suppress(PermanentError):
        build_from_message(message_from_event_data(json.dumps(body)))


pieces = [b"a", b'Step #1 - "x": ', b"\r", b"\n", b"\r\n", b"\xff", b"\x00", b"ERROR"]
log_bytes = st.lists(st.sampled_from(pieces), max_size=80).map(b"".join)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(log_bytes, st.lists(st.integers(1, 40), max_size=5), st.integers(1024, 4096))
def test_line_numbering_is_exact_however_the_log_is_chunked_or_capped(
    data: bytes, cuts: list[int], cap: int
) -> None:
    expected = split_lines(data)
    edges = sorted({0, len(data), *[c for c in cuts if c < len(data)]})
    chunks = [data[a:b] for a, b in itertools.pairwise(edges)]
    assert list(iter_lines(chunks)) == expected
    acc = LogAccumulator(cap)
    for chunk in chunks:
        acc.feed(chunk)
    assert acc.total_lines() == len(expected)
    log = build_log_from_bytes(chunks, max_bytes=cap)
    numbers = [line.number for line in log.lines]
    assert numbers == sorted(set(numbers))
    assert all(1 <= n <= len(expected) for n in numbers)


@given(
    st.integers(0, 400),
    st.lists(st.tuples(st.integers(1, 500), st.integers(0, 60)), max_size=8),
    st.lists(st.integers(1, 500), max_size=10),
)
def test_excerpt_ranges_stay_inside_the_log_ordered_and_capped(
    n_lines: int, ranges: list[tuple[int, int]], keys: list[int]
) -> None:
    data = b"".join(b"line %d\n" % i for i in range(1, n_lines + 1))
    log = build_log_from_bytes([data], max_bytes=1 << 20)
    findings = [
        Finding("t", "excerpt", "", tuple(LineRange(s, s + w) for s, w in ranges)),
        Finding("t", "key_lines", "", tuple(LineRange(k, k) for k in keys)),
    ]
    excerpt = excerpt_lines(log, findings)
    numbers = [e.number for e in excerpt]
    assert numbers == sorted(set(numbers))
    assert all(1 <= n <= n_lines for n in numbers)
    assert len(excerpt) <= 150
    assert all(e.text == f"line {e.number}" for e in excerpt)
    assert all(e.key == (e.number in keys) for e in excerpt)


_UNESCAPED = re.compile(r"(?<!\\)[\[\]()<>`*_|@#]")


@given(st.text(max_size=200))
def test_markdown_escape_leaves_no_active_syntax(text: str) -> None:
    escaped = escape(text)
    assert not _UNESCAPED.search(escaped.replace("\\\\", ""))


@given(st.text(max_size=200))
def test_code_fence_cannot_be_closed_from_inside(text: str) -> None:
    block = fence(text)
    opening = block.split("text\n", 1)[0]
    assert block.count(opening) == 2 or (text.count(opening) == 0 and block.endswith(opening))
    inner = block[len(opening) + len("text\n") : -len(opening) - 1]
    assert opening not in inner
