"""Property-based tests of the chat renderers: whatever a report holds (any Unicode, huge
counts of lines, very long lines, mrkdwn/HTML control characters, mentions), the message the
Slack and Google Chat sinks would post stays inside the platform's limits and shows user text
literally: no mention, link, tag or code-block end can be injected from a build or its log.

The payloads are built by the sinks' own `payload()` (what `send()` posts); the limits are
checked by the same validators the local fake webhooks use, plus the escaping rules below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.base import Finding, LineRange
from buildlens_core.build import BuildEvent
from buildlens_core.buildlog import LogCut
from notifier.render import templates
from notifier.render._text import slack_code, slack_escape
from notifier.report import ExcerptLine, History, Report, StageError
from notifier.sinks.google_chat import GoogleChatSink
from notifier.sinks.slack import SlackSink
from tests.fakes.google_chat import card_texts, chat_problems
from tests.fakes.slack import mrkdwn_texts, slack_problems

SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/secret"
CHAT_URL = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t"

# -- arbitrary report text ------------------------------------------------------------------

HOSTILE_TOKENS = [
    "<!channel>", "<!here>", "<!everyone>", "@here", "@channel", "@everyone", "@all",
    "<@U123>", "<#C123>", "<https://evil.example|click>", "<users/all>", "&", "&amp;", "&lt;",
    "&#60;", "<", ">", "*", "_", "~", "`", "``", "```", "`````", "|", "\\", '"', "'",
    "<b>", "</font>", '<a href="https://evil.example">x</a>', "<script>", "[x](https://e.x)",
    "\n", "\r\n", "\r", "\t", "\x00", "\x1b[31m", "\x7f", "\u0085", "\u2028", "\u2060",
    "\u200b", "\u202e", "\ufeff", "é", "日本", "😀", "👩‍👩‍👧", "\U0010ffff", " ",
]  # fmt: skip

tokens = st.lists(st.sampled_from(HOSTILE_TOKENS) | st.text(max_size=4), max_size=40).map("".join)
short_text = st.text(max_size=40) | tokens
# Very long text without generating it character by character: a piece repeated.
long_text = st.tuples(short_text, st.integers(1, 4000)).map(lambda t: (t[0] * t[1])[:60_000])
text = short_text | long_text
maybe_text = st.just("") | text

when = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
substitution_keys = ["TRIGGER_NAME", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME",
                     "COMMIT_SHA", "SHORT_SHA", "_PR_NUMBER"]  # fmt: skip
log_urls = st.sampled_from(
    [
        "",
        "https://console.cloud.google.com/cloud-build/builds/b1?project=1",
        "javascript:alert(1)",
        "http://example.com/<!channel>|x>&y",
    ]
) | st.builds(lambda rest: "https://console.cloud.google.com/" + rest, text)


@st.composite
def builds(draw: st.DrawFn) -> BuildEvent:
    start = draw(st.none() | when)
    finish = None if start is None else start + timedelta(seconds=draw(st.integers(0, 10**7)))
    return BuildEvent(
        id=draw(st.text(min_size=1, max_size=80) | text.filter(bool)),
        project_id=draw(maybe_text),
        status=draw(st.sampled_from(["FAILURE", "TIMEOUT", "INTERNAL_ERROR", "SUCCESS"])),
        status_detail=draw(maybe_text),
        failure_type=draw(st.sampled_from(["", "USER_BUILD_STEP", "PUSH_FAILED"]) | text),
        failure_detail=draw(maybe_text),
        log_url=draw(log_urls),
        substitutions=draw(st.dictionaries(st.sampled_from(substitution_keys), text)),
        create_time=start,
        start_time=start,
        finish_time=finish,
    )


json_text = text | st.integers() | st.none() | st.lists(text, max_size=3)


@st.composite
def findings(draw: st.DrawFn) -> tuple[Finding, ...]:
    found: list[Finding] = []
    if draw(st.booleans()):
        data = {"step_index": draw(st.integers(-5, 10**9)), "step_id": draw(text),
                "exit_code": draw(st.integers() | st.none()), "image": draw(text)}  # fmt: skip
        found.append(Finding("failing_step", "failing_step", draw(text), data=data))
    if draw(st.booleans()):
        starts = draw(st.lists(st.integers(1, 10**6), max_size=5))
        found.append(
            Finding("key_lines", "key_lines", "", lines=tuple(LineRange(s, s) for s in starts))
        )
    if draw(st.booleans()):
        doc = draw(st.sampled_from(["", "https://docs.example/x", "javascript:alert(1)"]) | text)
        data = {"category": draw(text), "rule": draw(text), "hint": draw(json_text),
                "doc_url": doc}  # fmt: skip
        found.append(Finding("classification", "classification", draw(text), data=data))
    if draw(st.booleans()):
        found.append(Finding("fingerprint", "fingerprint", "f", data={"fingerprint": draw(text)}))
    if draw(st.booleans()):
        data = {
            "summary": draw(text),
            "root_cause": draw(json_text),
            "fix_steps": draw(st.lists(text, max_size=30) | json_text),
            "provider": draw(maybe_text),
            "model": draw(maybe_text),
        }
        found.append(Finding("explanation", "explanation", draw(text), data=data))
    return tuple(draw(st.permutations(found)))


@st.composite
def excerpts(draw: st.DrawFn) -> tuple[ExcerptLine, ...]:
    # Up to 400 lines (more than the 150 a report normally keeps) from a few distinct texts.
    count = draw(st.integers(0, 400))
    patterns = draw(st.lists(text, min_size=1, max_size=4))
    keys = draw(st.sampled_from(["none", "all", "some"]))
    return tuple(
        ExcerptLine(
            n,
            patterns[n % len(patterns)],
            n % 7 if n % 3 else None,
            key=keys == "all" or (keys == "some" and n % 5 == 0),
        )
        for n in range(1, count + 1)
    )


@st.composite
def reports(draw: st.DrawFn) -> Report:
    history = None
    if draw(st.booleans()):
        history = History(
            draw(text), draw(st.integers(0, 10**12)), draw(st.integers(0, 10**12)),
            draw(text), draw(text), flaky=draw(st.booleans()),
        )  # fmt: skip
    cut = None
    if draw(st.booleans()):
        first = draw(st.integers(1, 10**9))
        cut = LogCut(first, first + draw(st.integers(0, 10**9)), draw(st.integers(0, 10**15)))
    errors = draw(
        st.lists(st.builds(StageError, st.sampled_from(["analyzer", "sink"]), text, text),
                 max_size=30)
    )  # fmt: skip
    return Report(
        build=draw(builds()),
        findings=draw(findings()),
        excerpt=draw(excerpts()),
        errors=tuple(errors),
        log_source=draw(maybe_text),
        log_lines=draw(st.integers(0, 10**12)),
        log_cut=cut,
        notes=tuple(draw(st.lists(text, max_size=3))),
        kind=draw(st.sampled_from(["failure", "failure", "recovery"])),
        history=history,
        fixed_failure=draw(maybe_text),
    )


def worst_case(piece: str) -> Report:
    """Every text field at its longest, made of `piece` (a character that grows most when
    escaped or encoded), every list at its longest."""
    huge = (piece * 20_000)[:20_000]  # beyond every limit of both sinks
    subs = dict.fromkeys(substitution_keys, huge)
    start = datetime(2026, 11, 20, tzinfo=UTC)
    build = BuildEvent(
        id=huge, project_id=huge, status="TIMEOUT", status_detail=huge, failure_type=huge,
        failure_detail=huge, log_url="https://console.cloud.google.com/" + huge,
        substitutions=subs, create_time=start, start_time=start,
        finish_time=start + timedelta(days=9999),
    )  # fmt: skip
    found = (
        Finding("failing_step", "failing_step", huge, data={"step_id": huge}),
        Finding("key_lines", "key_lines", huge, lines=(LineRange(1, 400),)),
        Finding("classification", "classification", huge,
                data={"category": huge, "hint": huge, "doc_url": "https://d.example/" + huge}),
        Finding("explanation", "explanation", huge,
                data={"summary": huge, "root_cause": huge, "fix_steps": [huge] * 30,
                      "provider": huge, "model": huge}),
    )  # fmt: skip
    return Report(
        build=build,
        findings=found,
        excerpt=tuple(ExcerptLine(n, huge, 1, key=True) for n in range(1, 161)),
        errors=tuple(StageError(huge, huge, huge) for _ in range(30)),
        log_source=huge,
        log_lines=10**12,
        log_cut=LogCut(1, 10**9, 10**15),
        notes=(huge,),
        history=History(huge, 10**12, 10**12, huge, huge, flaky=True),
        fixed_failure=huge,
    )


WORST = [worst_case(p) for p in ("&", "<", "😀", "`", '"', "@here ", "<@CHANNEL0", "\x01")]

# -- templates exercising every variable --------------------------------------------------

SLACK_TEMPLATE = """\
*{{ title }}* {{ status }} {{ status_detail }} {{ trigger }} {{ repo }} {{ branch }}
{% if repo_url %}{{ repo_url | link(repo) }}{% endif %}
{% if branch_url %}{{ branch_url | link(branch) }}{% endif %}
{% if commit_url %}{{ commit_url | link(short_sha) }}{% endif %}
{% if pr_url %}{{ pr_url | link(pr_number) }}{% endif %}
{% for row in facts %}*{{ row[0] }}*: {{ row[1] }}
{% endfor %}{{ failing_step }} {{ cause }} {{ hint }} {{ history }} {{ summary }} {{ root_cause }}
{% for step in fix_steps %}• {{ step }}
{% endfor %}{{ key_lines | code }}
{% for e in excerpt %}{{ e.number }} {{ e.text }}
{% endfor %}{% for e in errors %}{{ e }}
{% endfor %}{{ llm }} {{ fixed_failure }}
"""
CHAT_TEMPLATE = """\
<b>{{ title }}</b> {{ status }} {{ status_detail }} <i>{{ trigger }}</i><br>
{{ repo }} {{ branch }} {% if repo_url %}{{ repo_url | link(repo) }}{% endif %}
{% if branch_url %}{{ branch_url | link(branch) }}{% endif %}
{% if commit_url %}{{ commit_url | link(short_sha) }}{% endif %}
{% for row in facts %}<b>{{ row[0] }}</b>: {{ row[1] }}<br>{% endfor %}
{{ failing_step }} {{ cause }} {{ hint }} {{ history }} {{ summary }} {{ root_cause }}<br>
{% for step in fix_steps %}• {{ step }}<br>{% endfor %}{{ key_lines | code }}
{% for e in excerpt %}{{ e.number }} {{ e.text }}<br>{% endfor %}
{% for e in errors %}{{ e }}<br>{% endfor %}{{ llm }} {{ fixed_failure }}
"""


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("render-templates")
    (folder / "slack.j2").write_text(SLACK_TEMPLATE, encoding="utf-8")
    (folder / "chat.j2").write_text(CHAT_TEMPLATE, encoding="utf-8")
    yield folder


@pytest.fixture(scope="module")
def slack(template_dir: Path) -> tuple[SlackSink, SlackSink]:
    """The built-in layout and a template using every variable."""
    template = templates.load(str(template_dir / "slack.j2"), "slack", "SLACK_TEMPLATE")
    return SlackSink(SLACK_URL), SlackSink(SLACK_URL, template=template, key_lines=400)


@pytest.fixture(scope="module")
def chat(template_dir: Path) -> tuple[GoogleChatSink, GoogleChatSink]:
    """The built-in layout and a template using every variable."""
    template = templates.load(str(template_dir / "chat.j2"), "chat", "GOOGLE_CHAT_TEMPLATE")
    return GoogleChatSink(CHAT_URL), GoogleChatSink(CHAT_URL, template=template, key_lines=400)


def posted(payload: dict[str, Any]) -> dict[str, Any]:
    """The message as the webhook receives it: httpx's JSON encoding (UTF-8, not ASCII)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    message: dict[str, Any] = json.loads(body.encode("utf-8"))
    return message


# Reports are large by design: no deadline, and no health check on their size.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # only the sinks' autouse env-var fixture
    ],
)

# -- Slack ----------------------------------------------------------------------------------

_SLACK_LINK = re.compile(r"<https?://[^<>|]*\|[^<>]*>")
_SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def slack_escaping_problems(message: dict[str, Any]) -> list[str]:
    """`*_~` and backticks in user text stay formatting (mrkdwn cannot escape them); what
    must never come from user text is a mention, a link, or a tag-like `<...>`."""
    problems = []
    for text in mrkdwn_texts(message):
        # The sink's own links are the only markup; everything else must be literal text.
        rest = _SLACK_LINK.sub("", text)
        if "<" in rest or ">" in rest:
            problems.append(f"unescaped or cut < or > in {text[:80]!r}")
        if rest.count("&") != len(_SLACK_ENTITY.findall(rest)):
            problems.append(f"& that is not an entity (cut or unescaped) in {text[:80]!r}")
        if _BROADCAST.search(rest):
            problems.append(f"live broadcast mention in {text[:80]!r}")
        if text.startswith("*Key lines*\n```\n"):
            body = text.removeprefix("*Key lines*\n```\n")
            if not body.endswith("\n```") or "```" in body.removesuffix("\n```"):
                problems.append("the key lines' code block is closed early or not at all")
    return problems


def check_slack(sink: SlackSink, report: Report) -> None:
    message = posted(sink.payload(report))
    assert slack_problems(message) == []
    assert slack_escaping_problems(message) == []
    assert len(message["text"]) <= 4000  # the notification text the sink promises
    header = message["blocks"][0]
    assert header["type"] == "header" and header["text"]["text"].strip()


@PROPERTY
@given(report=reports())
def test_slack_message_within_limits_and_escaped(
    slack: tuple[SlackSink, SlackSink], report: Report
) -> None:
    for sink in slack:
        check_slack(sink, report)


@pytest.mark.parametrize("report", WORST, ids=lambda r: repr(r.build.id[0]))
def test_slack_worst_case_report(slack: tuple[SlackSink, SlackSink], report: Report) -> None:
    for sink in slack:
        check_slack(sink, report)


@given(st.text() | tokens)
def test_slack_code_text_cannot_close_its_block(value: str) -> None:
    code = slack_code(value)
    assert "```" not in code  # the old triple replacement left one in a run of five
    assert code.replace("\u200b", "") == slack_escape(value).replace("\u200b", "")


# -- Google Chat ------------------------------------------------------------------------------

# The only tags the built-in card layout writes; user text must not add any.
_CHAT_OWN_TAGS = re.compile(
    r'</?b>|<br>|<font color="#[0-9a-f]{6}">|</font>|<a href="[^"<>]*">|</a>'
)
_CHAT_TEMPLATE_TAGS = re.compile(r"</?i>")
_HTML_ENTITY = re.compile(r"&(amp|lt|gt|quot|#x27|#\d+|#x[0-9a-fA-F]+);")


def chat_escaping_problems(message: dict[str, Any], *, templated: bool) -> list[str]:
    problems = []
    card = message["cardsV2"][0]["card"]
    headers = [s["header"] for s in card["sections"] if "header" in s]
    for text in card_texts(message) + headers:
        rest = _CHAT_OWN_TAGS.sub("", text)
        if templated:
            rest = _CHAT_TEMPLATE_TAGS.sub("", rest)
        if "<" in rest or ">" in rest:
            problems.append(f"unescaped < or > in {text[:80]!r}")
        if rest.count("&") != len(_HTML_ENTITY.findall(rest)):
            problems.append(f"& that is not an entity (cut or unescaped) in {text[:80]!r}")
        if _BROADCAST.search(rest) or re.search(r"@all\b", rest):
            problems.append(f"live mention in {text[:80]!r}")
        if not templated:  # a template may be cut anywhere; the built-in layout never is
            for tag in ("b", "font", "a"):
                opened = len(re.findall(rf"<{tag}[ >]", text))
                if opened != text.count(f"</{tag}>"):
                    problems.append(f"unbalanced <{tag}> in {text[:80]!r}")
    return problems


def check_chat(sink: GoogleChatSink, report: Report, *, templated: bool) -> None:
    message = posted(sink.payload(report))
    assert chat_problems(message) == []
    assert chat_escaping_problems(message, templated=templated) == []
    assert len(message["fallbackText"]) <= 4096
    assert len(message["cardsV2"][0]["cardId"]) <= 64


def check_chat_both(chat: tuple[GoogleChatSink, GoogleChatSink], report: Report) -> None:
    plain, templated = chat
    check_chat(plain, report, templated=False)
    check_chat(templated, report, templated=True)


@PROPERTY
@given(report=reports())
def test_chat_card_within_limits_and_escaped(
    chat: tuple[GoogleChatSink, GoogleChatSink], report: Report
) -> None:
    check_chat_both(chat, report)


@pytest.mark.parametrize("report", WORST, ids=lambda r: repr(r.build.id[0]))
def test_chat_worst_case_report(
    chat: tuple[GoogleChatSink, GoogleChatSink], report: Report
) -> None:
    check_chat_both(chat, report)
