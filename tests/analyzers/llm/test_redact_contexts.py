"""Redaction does not depend on where a secret stands: every kind, in every shape of line.

Secrets are generated at run time with the formats their providers document (never real
ones); ordinary values (commit SHAs, digests, UUIDs, test ids, paths, versions) in the same
shapes of line must come through unchanged.
"""

from __future__ import annotations

import base64
import random
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildlens_core.redact import _COMMAND_REACH, _command_around, load_formats, redact_text
from tests.procs import ROOT

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"


def _mixed(rng: random.Random, alphabet: str, n: int) -> str:
    """A random string with at least two digits, upper and lower case letters where the
    alphabet has them (as generated tokens do)."""
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        has = (any(c.isupper() for c in alphabet), any(c.islower() for c in alphabet))
        digits = any(c.isdigit() for c in alphabet)
        if (
            (not digits or sum(c.isdigit() for c in s) >= 2)
            and (not has[0] or sum(c.isupper() for c in s) >= 2)
            and (not has[1] or sum(c.islower() for c in s) >= 2)
        ):
            return s


# Provider tokens: they name themselves, so they go in any context.
PROVIDER: dict[str, object] = {
    "github": lambda r: "ghp_" + _mixed(r, ALNUM, 36),
    "github-fine-grained": lambda r: "github_pat_" + _mixed(r, ALNUM + "_", 82),
    "gitlab": lambda r: "glpat-" + _mixed(r, URLSAFE, 20),
    "slack": lambda r: (
        "xoxb-"
        + "-".join(_mixed(r, "0123456789", 12) for _ in range(2))
        + "-"
        + _mixed(r, ALNUM, 24)
    ),
    "google-api-key": lambda r: "AIza" + _mixed(r, URLSAFE, 35),
    "aws-access-key-id": lambda r: "AKIA" + _mixed(r, string.ascii_uppercase + "234567", 16),
    "stripe": lambda r: "sk_live_" + _mixed(r, ALNUM, 24),
    "npm": lambda r: "npm_" + _mixed(r, ALNUM, 36),
    "pypi": lambda r: "pypi-AgEIcHlwaS5vcmc" + _mixed(r, URLSAFE, 60),
    "openai": lambda r: "sk-proj-" + _mixed(r, URLSAFE, 20) + "T3BlbkFJ" + _mixed(r, URLSAFE, 20),
    "anthropic": lambda r: "sk-ant-api03-" + _mixed(r, URLSAFE, 93) + "AA",
    "huggingface": lambda r: "hf_" + _mixed(r, string.ascii_letters, 34),
    "sendgrid": lambda r: "SG." + _mixed(r, URLSAFE, 22) + "." + _mixed(r, URLSAFE, 43),
    "twilio": lambda r: "SK" + _mixed(r, HEX, 32),
    "mailgun": lambda r: "key-" + _mixed(r, HEX, 32),
    "shopify": lambda r: "shpat_" + _mixed(r, HEX, 32),
    "discord-webhook": lambda r: (
        "https://discord.com/api/webhooks/"
        + _mixed(r, "0123456789", 18)
        + "/"
        + _mixed(r, URLSAFE, 68)
    ),
}
# Values with nothing in themselves that says "secret": the name or place around them does.
PLAIN: dict[str, object] = {
    "password": lambda r: _mixed(r, ALNUM, 16),
    "hex-token": lambda r: _mixed(r, HEX, 48),
    "short-password": lambda r: _mixed(r, ALNUM, 10),
}
NAMES = ("DB_PASSWORD", "API_TOKEN", "SECRET_KEY", "GITHUB_TOKEN", "STRIPE_API_KEY", "PASSWD")
# Shapes of line in which the value position holds a secret because of its name or place.
NAMED = (
    "{name}={s}",
    "{name}: {s}",
    "env: {name}={s}",
    "  env: {name}={s} make test",
    "export {name}={s}",
    "export {name}='{s}'",
    "--set-env-vars=NODE_ENV=production,{name}={s},REGION=eu",
    "--update-secrets-literal {name}={s}",
    '{{"env": {{"{name}": "{s}"}}}}',
    '  "{name}": "{s}",',
    "  {name}: {s}",
    "- {name}={s}",
    "Step #1: {name}={s}",
    "{name}: {s} (from the vault)",
)
PLACED = (
    "postgres://app:{s}@db.internal:5432/app",
    "https://deploy:{s}@git.example.com/acme/app.git",
    "> Authorization: Bearer {s}",
    "-H 'Authorization: Basic {b}'",
    "curl -H 'X-Api-Key: {s}' https://api.example.com",
    "mysql -u root --password {s} -h db",
    "docker login -u _json_key -p {s} gcr.io",
    "podman login --username ci -p {s} quay.io",
    "sshpass -p {s} ssh deploy@build-host",
    "--password={s}",
    "--api-key={s}",
)
ANYWHERE = ("{s}", "echo {s}", "token is {s} here", "url=https://x.example.com/?k={s}&a=1")


def _case(data: st.DataObject) -> tuple[str, str]:
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    if data.draw(st.booleans()):
        kind = data.draw(st.sampled_from(sorted(PROVIDER)))
        secret = PROVIDER[kind](rng)  # type: ignore[operator]
        # A webhook URL is not a password inside another URL or header.
        places = () if kind.endswith("webhook") else PLACED
        shape = data.draw(st.sampled_from(NAMED + places + ANYWHERE))
    else:
        secret = PLAIN[data.draw(st.sampled_from(sorted(PLAIN)))](rng)  # type: ignore[operator]
        shape = data.draw(st.sampled_from(NAMED + PLACED))
    name = data.draw(st.sampled_from(NAMES))
    basic = base64.b64encode(f"deploy:{secret}".encode()).decode()
    return shape.format(name=name, s=secret, b=basic), secret if "{b}" not in shape else basic


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_a_secret_is_gone_whatever_surrounds_it(data: st.DataObject) -> None:
    line, secret = _case(data)
    out = redact_text(line)
    assert secret not in out, (line, out)
    # Not even a long piece of it stays (a kept segment of `SG.<a>.<b>` is a leak).
    pieces = [secret[i : i + 16] for i in range(0, max(1, len(secret) - 15), 8)]
    assert not any(p in out for p in pieces if len(p) == 16), (line, out)


ORDINARY = {
    "COMMIT_SHA": lambda r: _mixed(r, HEX, 40),
    "IMAGE": lambda r: "gcr.io/acme/app@sha256:" + _mixed(r, HEX, 64),
    "BUILD_ID": lambda r: "-".join(_mixed(r, HEX, n) for n in (8, 4, 4, 4, 12)),
    "TEST": lambda r: "tests/test_cart.py::test_total_" + _mixed(r, "abcdefgh", 6),
    "SOURCE": lambda r: "/workspace/src/" + _mixed(r, "abcdefgh", 8) + "/main.py",
    "VERSION": lambda r: f"{r.randrange(10)}.{r.randrange(40)}.{r.randrange(100)}",
    "NODE_ENV": lambda r: "production",
}
ORDINARY_SHAPES = (
    "{name}={v}",
    "{name}: {v}",
    "env: {name}={v}",
    "export {name}={v}",
    "--set-env-vars={name}={v},REGION=eu",
    '{{"{name}": "{v}"}}',
    "  {name}: {v}",
    "--{flag}={v}",
    'Step #0 - "build": {name}={v}',
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_ordinary_values_come_through(data: st.DataObject) -> None:
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    name = data.draw(st.sampled_from(sorted(ORDINARY)))
    value = ORDINARY[name](rng)  # type: ignore[operator]
    shape = data.draw(st.sampled_from(ORDINARY_SHAPES))
    line = shape.format(name=name, v=value, flag=name.lower().replace("_", "-"))
    assert redact_text(line) == line


# Real lines that hold no secret, from the Cloud Build corpus (bench/data/cloudbuild/cases/
# <case>/log.txt, each case's source.json names where it was found): an error chain whose
# message follows a sensitive word, and `mkdir -p`, whose `-p` is no password.
REAL_ORDINARY = (
    ("dk-cloudbuild-local-mount-permission-denied", 24, "credentials: context canceled"),
    ("dk-cloudbuild-local-mount-permission-denied", 25, "credentials: context canceled"),
    ("dk-run-deploy-secret-not-found", 2035, "RUN mkdir -p storage/logs"),
    ("xa-run-deploy-secret-accessor-denied", 2, "mkdir -p test-server"),
)


@pytest.mark.parametrize(("case", "number", "part"), REAL_ORDINARY)
def test_real_lines_without_secrets_come_through(case: str, number: int, part: str) -> None:
    log = ROOT / "bench" / "data" / "cloudbuild" / "cases" / case / "log.txt"
    line = log.read_text(encoding="utf-8").splitlines()[number - 1]
    assert part in line
    assert redact_text(line) == line


@pytest.mark.parametrize(
    "line",
    [
        # A test runner's timing after a test whose name ends in "key" or "pwd" (the shape of
        # neovim's test output in the LogChunks dev set).
        "[ RUN      ] ShaDa error handling fails on jump item with BIN key: 8.68 ms OK",
        "[ RUN      ] :chdir getcwd(-1, -1) works with window-local pwd: 1.43 ms OK",
        # An empty query parameter: the rest of the URL is not its value.
        "https://codecov.io/upload/v4?package=bash-8a28df4&token=&branch=master&build=1",
    ],
)
def test_measures_and_empty_settings_are_no_secret(line: str) -> None:
    assert redact_text(line) == line


@pytest.mark.parametrize(
    "line",
    ["DB_PASSWORD=12345678", "password: 1234.5678", "API_TOKEN=abc123def456&next=1"],
)
def test_long_numbers_and_set_values_still_go(line: str) -> None:
    assert "[REDACTED:secret-value]" in redact_text(line)


@pytest.mark.parametrize(
    "line",
    [
        # Names made of words with a few digits, which failures name (shapes of XCTest and
        # Cython output in the LogChunks dev set).
        "    ✗ testThatAnchoredRootCertificatePassesBasicX509ValidationWithRootInTrust",
        "sklearn/tree/_utils.c: In function "
        "'__pyx_f_7sklearn_4tree_6_utils_24WeightedMedianCalculator_pop':",
    ],
)
def test_identifiers_of_words_come_through(line: str) -> None:
    assert redact_text(line) == line


def test_random_tokens_without_a_name_still_go() -> None:
    rng = random.Random(7)
    tokens = [_mixed(rng, ALNUM, 40) for _ in range(3000)]
    kept = [t for t in tokens if t in redact_text(f"token is {t} here")]
    assert len(kept) <= 3, kept  # words cover 70% of about 1 in 10,000 such tokens


def test_a_flags_command_is_read_near_it_only() -> None:
    # Each `-p` reads a bounded stretch of its line for a user flag or a login, so a huge line
    # of flags costs the same per flag (reading the whole line per flag took 140 s for 8,000
    # flags on a 512 kB line).
    line = ("x" * 50 + " -p abcdefgh1 ") * 8000
    flags = list(re.finditer(r" -p ", line))
    assert all(len(_command_around(m)) <= 2 * _COMMAND_REACH + 4 for m in flags)
    assert redact_text(line) == line  # no login, no user flag: `-p` is no password here
    login = "x" * 5000 + " docker login -u ci -p Sup3rS3cret9 gcr.io " + "x" * 5000
    assert "Sup3rS3cret9" not in redact_text(login)


def test_every_format_has_a_source_and_bad_ones_say_what_to_fix() -> None:
    formats = load_formats()
    assert {f.kind for f in formats} >= {
        "github-token", "gitlab-token", "slack-token", "google-api-key", "aws-access-key-id",
        "stripe-key", "npm-token", "pypi-token", "openai-key", "anthropic-key",
        "huggingface-token", "sendgrid-key", "twilio-key", "mailgun-key", "shopify-token",
        "azure-storage-key", "discord-webhook", "slack-webhook", "jwt",
    }  # fmt: skip
    with pytest.raises(ValueError, match="give `literals`"):
        load_formats("[[format]]\nkind = 'x'\npattern = 'x'\nsource = 's'\n")
    with pytest.raises(ValueError, match="set `source`"):
        load_formats("[[format]]\nkind = 'x'\npattern = 'x'\nliterals = ['x']\n")
    with pytest.raises(ValueError, match="bad pattern"):
        load_formats("[[format]]\nkind = 'x'\npattern = '('\nsource = 's'\nliterals = ['x']\n")
