"""Secret redaction for log text, applied before anything leaves the function.

`redact_text(text)` returns the text with every secret it recognises replaced by a typed
marker such as ``[REDACTED:github-token]``. It is used on what the LLM analyzers send and is
meant for the excerpt shown in reports too.

Every built-in pattern runs in time linear in the line's length: each starts with a literal
or a negative look-behind on its own character class (so a scan never restarts inside a run
it already rejected), and every repetition is either over a class that its successor cannot
match or bounded by a small constant. Extra patterns from settings are the operator's
responsibility.
"""

from __future__ import annotations

import base64
import math
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources

MARKER = "[REDACTED:{kind}]"
_MARKER_PREFIX = "[REDACTED:"


def marker(kind: str) -> str:
    return MARKER.format(kind=kind)


@dataclass(frozen=True, slots=True)
class Rule:
    """A pattern and the marker kind it produces.

    If the pattern has a group named ``secret`` only that group is replaced; otherwise the
    whole match is. `keep` may veto a match (return False to leave it alone).
    """

    kind: str
    pattern: re.Pattern[str]
    keep: Callable[[re.Match[str]], bool] | None = None
    literals: tuple[str, ...] = ()  # one of them is in every match (a cheap pre-filter)


def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


# Characters of base64 / URL-safe tokens. Patterns on tokens start with a look-behind on
# this class so that a failed attempt is never retried from inside the same token.
_TOK = r"A-Za-z0-9_\-"
_NOT_AFTER_TOK = rf"(?<![{_TOK}])"

_PEM_BEGIN = _rx(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = _rx(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")

_SENSITIVE_ANY = frozenset(
    {
        "secret",
        "secrets",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "credential",
        "credentials",
        "privatekey",
        "apikey",
        "sessionid",
    }
)
_SENSITIVE_LAST = frozenset({"token", "key", "auth", "authorization", "pass", "cookie"})
_PLACEHOLDERS = frozenset(
    {"true", "false", "null", "none", "nil", "yes", "no", "required", "optional", "bearer",
     "basic", "token", "digest", "redacted", "xxx", "changeme"}
)  # fmt: skip
_VERDICTS = frozenset({"PASS", "pass", "Pass", "PASSED", "FAIL", "SKIP"})
_WORD_SPLIT = re.compile(r"[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])")


def _name_is_sensitive(name: str) -> bool:
    words = [w.lower() for w in _WORD_SPLIT.split(name.strip("\"'")) if w]
    if not words:
        return False
    joined = "".join(words)
    if "privatekey" in joined or "apikey" in joined or "clientsecret" in joined:
        return True
    return any(w in _SENSITIVE_ANY for w in words) or words[-1] in _SENSITIVE_LAST


# Values that name something rather than hide it: version pins (`pkg==2.1`), paths and
# resource names (`projects/p/secrets/s/versions/1`, `gs://b/o`).
_NOT_SECRET_VALUE = re.compile(r"=|/|\./|~/|projects/|gs://|https?://")


# A short number is a count, a measure or a port (`key: 8.68 ms`), not a password.
_SHORT_NUMBER = re.compile(r"\d{1,7}(?:[.,]\d{1,6})?")


def _value_is_secret(value: str) -> bool:
    v = value.strip("\"'")
    # `&` starts the next query parameter: the setting itself is empty (`token=&branch=main`).
    if (
        not v
        or v.startswith(("$", "<", "%", "{", "[", "*", "(", "&"))
        or _NOT_SECRET_VALUE.match(v)
    ):
        return False
    if v.lower() in _PLACEHOLDERS or set(v) <= {"*", "x", "X", "."}:
        return False
    return not (len(v) < 8 and _SHORT_NUMBER.fullmatch(v))


def _keep_key_value(match: re.Match[str]) -> bool:
    if match.group("sep") == ":" and not match.group("after"):
        return False  # `a:b` is a path, a URL or a test id, not a setting
    name, value = match.group("name"), _kv_value(match)
    if name in _VERDICTS:
        return False  # a test runner's verdict (`--- PASS: TestName`), not a setting
    if _in_prose(match, value):
        return False  # an error chain (`docker credentials: context canceled`), not a setting
    if not (_name_is_sensitive(name) and _value_is_secret(value)):
        return False
    if name.lower().strip("\"'") in _SENSITIVE_LAST:
        # A bare `key:` or `token=` is often not a secret (`cache key: deps-v2`): ask the
        # value to look like one.
        return len(value) >= 12 or sum(c.isdigit() for c in value) >= 3
    return True


_PROSE_AFTER = re.compile(r" [a-z]")


def _in_prose(match: re.Match[str], value: str) -> bool:
    """`name: word more words`: a message going on after a plain lowercase word, as error
    chains do; a setting's value ends its line (or a comma, a quote, a comment)."""
    return (
        match.group("sep") == ":"
        and bool(match.group("bare"))
        and value.isalpha()
        and value.islower()
        and _PROSE_AFTER.match(match.string, match.end()) is not None
    )


_PORTS = re.compile(r"[\d.:]+(?:/(?:tcp|udp|sctp))?")
# `-p` is a password beside a user name (`docker login -u U -p P`, `twine upload -u __token__
# -p P`), in a login and in sshpass; elsewhere it is a flag of its own (`mkdir -p dir`, `cp -p`)
# or a port.
_PASSWORD_P_CONTEXT = re.compile(
    r"(?<![\w-])(?:-u|--user(?:name)?)(?=[ \t=]|$)|\b(?:login|sshpass)\b"
)


_COMMAND_REACH = 200  # characters either side of `-p` where its command's user flag may be


def _command_around(match: re.Match[str]) -> str:
    """The text near a match, within its line: bounded, so a huge line with many matches
    costs no more than a short one per match."""
    text = match.string
    start, end = max(0, match.start() - _COMMAND_REACH), match.end() + _COMMAND_REACH
    near = text[start:end]
    before, after = near[: match.start() - start], near[match.start() - start :]
    return before.rpartition("\n")[2] + after.partition("\n")[0]


def _keep_flag(match: re.Match[str]) -> bool:
    name, value = match.group("name"), match.group("secret")
    if name == "p":
        return (
            len(value) >= 6
            and not _PORTS.fullmatch(value)
            and _value_is_secret(value)
            and _PASSWORD_P_CONTEXT.search(_command_around(match)) is not None
        )
    words = [w.lower() for w in _WORD_SPLIT.split(name) if w]
    last = words[-1] if words else ""
    sensitive = last in _SENSITIVE_ANY or last in _SENSITIVE_LAST
    return sensitive and _value_is_secret(value)


def _keep_basic(match: re.Match[str]) -> bool:
    value = match.group("secret")
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except ValueError:
        return False
    return b":" in decoded


def _keep_bearer(match: re.Match[str]) -> bool:
    return _value_is_secret(match.group("secret"))


def _keep_aws_secret(match: re.Match[str]) -> bool:
    return "secret" in match.group("name").lower()


# -- high-entropy tokens ---------------------------------------------------------------------

ENTROPY_MIN_LENGTH = 32
ENTROPY_THRESHOLD = 4.2  # bits per character; random base64 of 32+ chars scores ~4.6-5.5
_HEX = re.compile(r"[0-9a-fA-F]+")
_CHUNK_SPLIT = re.compile(r"[/_\-]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Prefixes that announce a digest or checksum: the token after them is not a secret.
_DIGEST_PREFIX = re.compile(
    r"(?:sha1|sha224|sha256|sha384|sha512|md5|h1|blake2b|blake3)[:\-=]$", re.IGNORECASE
)


_SRI = re.compile(r"(?:sha256|sha384|sha512)-", re.IGNORECASE)  # subresource integrity


IDENTIFIER_WORD_SHARE = 0.7
_WORD = re.compile(r"[A-Z]?[a-z]{3,}")


def _word_share(text: str) -> float:
    """How much of the text is word-like runs (`Root`, `certificate`)."""
    return sum(len(w) for w in _WORD.findall(text)) / len(text) if text else 0.0


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _keep_entropy(match: re.Match[str]) -> bool:
    core = match.group("secret").rstrip("=")
    if len(core) < ENTROPY_MIN_LENGTH or _UUID.search(core):
        return False
    before = match.string[max(0, match.start() - 8) : match.start()]
    if _DIGEST_PREFIX.search(before) or _SRI.match(core):
        return False
    # Paths, dates and identifiers split into short chunks; a random token has a long one.
    chunk = max(_CHUNK_SPLIT.split(core), key=len)
    if len(chunk) < 20 or _HEX.fullmatch(chunk):
        # Hex is what digests, commit SHAs and image ids are made of; hex secrets are
        # caught by their context (`key=value`) instead.
        return False
    digits = sum(c.isdigit() for c in chunk)
    upper = sum(c.isupper() for c in chunk)
    lower = sum(c.islower() for c in chunk)
    if digits < 2 or upper < 2 or lower < 2:
        return False  # words, CamelCase identifiers, version strings
    if _word_share(core) >= IDENTIFIER_WORD_SHARE:
        # An identifier of words with a few digits (`testThatX509ValidationPassesWithUTF8`,
        # Cython's `__pyx_f_7sklearn_9neighbors_...`): in random base62 of 32 characters,
        # words cover this much about 4 times in 10,000.
        return False
    return shannon_entropy(core) >= ENTROPY_THRESHOLD and shannon_entropy(chunk) >= 3.8


# -- the rules -----------------------------------------------------------------------------


def load_formats(text: str | None = None) -> tuple[Rule, ...]:
    """Provider credential formats from `secret_formats.toml` (each with its source)."""
    if text is None:
        text = resources.files("buildlens_core").joinpath("secret_formats.toml").read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"secret_formats.toml is not valid TOML ({exc}); fix it") from exc
    rules: list[Rule] = []
    for i, item in enumerate(data.get("format", [])):
        for key in ("kind", "pattern", "source"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ValueError(f"secret format #{i}: set `{key}` to a non-empty string")
        literals = item.get("literals")
        if not literals or not all(isinstance(x, str) and x for x in literals):
            raise ValueError(f"secret format {item['kind']}: give `literals`, one in every match")
        try:
            rules.append(Rule(item["kind"], re.compile(item["pattern"]), None, tuple(literals)))
        except re.error as exc:
            raise ValueError(f"secret format {item['kind']}: bad pattern ({exc})") from exc
    return tuple(rules)


# Context rules: a value is a secret because of the name or the place around it.
_CONTEXT: tuple[Rule, ...] = (
    Rule(
        "url-password",
        _rx(
            r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,19}://[^\s/:@\"'<>]{0,256}:"
            r"(?P<secret>[^\s/@\"'<>]{1,256})@"
        ),
        keep=lambda m: _value_is_secret(m.group("secret")),
    ),
    Rule(
        "aws-secret-key",
        _rx(
            r"(?<![A-Za-z0-9_.\-])(?P<name>(?i:aws)[A-Za-z0-9_.\-]{0,40})[\"']?[ \t]{0,4}[:=]"
            r"[ \t]{0,4}[\"']?(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        keep=_keep_aws_secret,
    ),
    Rule(
        "auth-header",
        _rx(
            r"(?<![A-Za-z0-9_\-])(?i:authorization|proxy-authorization)[\"']?[ \t]{0,4}[:=]"
            r"[ \t]{0,4}[\"']?(?:[A-Za-z\-]{1,16}[ \t]{1,4})?(?P<secret>[^\s\"']{4,})"
        ),
        keep=_keep_bearer,
    ),
    Rule(
        "bearer-token",
        _rx(r"(?<![A-Za-z0-9_\-])(?i:bearer)[ \t]{1,8}(?P<secret>[A-Za-z0-9._~+/\-]{8,}=*)"),
        keep=_keep_bearer,
    ),
    Rule(
        "basic-auth",
        _rx(r"(?<![A-Za-z0-9_\-])(?i:basic)[ \t]{1,8}(?P<secret>[A-Za-z0-9+/]{6,}={0,2})"),
        keep=_keep_basic,
    ),
    Rule(
        "secret-value",
        _rx(
            r"(?<![A-Za-z0-9_.\-])(?P<name>[A-Za-z][A-Za-z0-9_.\-]{0,127})[\"']?[ \t]{0,8}"
            r"(?P<sep>:=|=>|[:=])(?P<after>[ \t\"']?)[ \t]{0,8}"
            r"(?:\"(?P<dq>[^\"]{1,256})\"|'(?P<sq>[^']{1,256})'|(?P<bare>[^\s\"',;]{1,1024}))"
        ),
        keep=_keep_key_value,
    ),
    Rule(
        "secret-value",
        _rx(
            r"(?<![A-Za-z0-9_\-])--?(?P<name>[A-Za-z][A-Za-z0-9_\-]{0,63})(?:[ \t]{1,4}|=)"
            r"(?P<secret>[^\s\"'\-][^\s\"']{0,1023})"
        ),
        keep=_keep_flag,
    ),
    Rule(
        "high-entropy",
        _rx(r"(?<![A-Za-z0-9+/_\-])(?P<secret>[A-Za-z0-9+/_\-]{32,}={0,2})(?![A-Za-z0-9+/_\-=])"),
        keep=_keep_entropy,
    ),
)
_FORMATS = load_formats()


@dataclass
class Redactor:
    """Applies the rules in order; remembers how many of each kind it replaced."""

    extra_patterns: Sequence[str] = ()
    counts: Counter[str] = field(default_factory=Counter)
    _context: tuple[Rule, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        extra = tuple(Rule("custom", re.compile(p)) for p in self.extra_patterns if p)
        self._context = (*_CONTEXT, *extra)

    def redact_lines(self, lines: Iterable[str]) -> list[str]:
        """Redact each line; a PEM private key block spanning lines is removed whole."""
        out: list[str] = []
        in_pem = False
        for line in lines:
            if in_pem:
                end = _PEM_END.search(line)
                if end is None:
                    out.append(marker("private-key"))
                    continue
                in_pem = False
                line = marker("private-key") + line[end.end() :]
            line, in_pem = self._pem(line)
            out.append(self._redact_line(line))
        return out

    def redact(self, text: str) -> str:
        if not text:
            return text
        parts = text.splitlines(keepends=True)
        bodies = [p.rstrip("\r\n") for p in parts]
        ends = [p[len(b) :] for p, b in zip(parts, bodies, strict=True)]
        redacted = self.redact_lines(bodies)
        return "".join(r + e for r, e in zip(redacted, ends, strict=True))

    def _pem(self, line: str) -> tuple[str, bool]:
        """Replace private key blocks that start on this line; True if one runs on."""
        out: list[str] = []
        pos = 0
        while True:
            begin = _PEM_BEGIN.search(line, pos)
            if begin is None:
                out.append(line[pos:])
                return "".join(out), False
            self.counts["private-key"] += 1
            out.append(line[pos : begin.start()])
            out.append(marker("private-key"))
            end = _PEM_END.search(line, begin.end())
            if end is None:
                return "".join(out), True
            pos = end.end()

    def _redact_line(self, line: str) -> str:
        for rule in _FORMATS:
            # A format's literal (`ghp_`, `AIza`) is looked for first: a C-speed substring test
            # spares the regex scan on the many lines that hold none.
            if any(lit in line for lit in rule.literals):
                line = self._apply(rule, line)
        for rule in self._context:
            line = self._apply(rule, line)
        return line

    def _apply(self, rule: Rule, line: str) -> str:
        """Replace every match of `rule`. A match that is not a secret is searched again from
        its value: in `env: TOKEN=x` or `--set-env-vars=A=1,TOKEN=x` the outer `name: value`
        is harmless but its value holds a setting of its own, so the context around a secret
        never hides it."""
        out: list[str] = []
        pos = done = 0
        while pos <= len(line):
            match = rule.pattern.search(line, pos)
            if match is None:
                break
            replaced = self._replace(rule, match)
            if replaced is not None:
                out.append(line[done : match.start()])
                out.append(replaced)
                done = pos = max(match.end(), match.start() + 1)
                continue
            span = _secret_span(match)
            inner = span[0] if span is not None and span[0] > match.start() else None
            pos = inner if inner is not None else max(match.end(), match.start() + 1)
        if not out:
            return line
        out.append(line[done:])
        return "".join(out)

    def _replace(self, rule: Rule, match: re.Match[str]) -> str | None:
        """The replacement of a match that is a secret, or None to leave it."""
        whole = match.group(0)
        span = _secret_span(match)
        secret = whole if span is None else match.string[span[0] : span[1]]
        if _MARKER_PREFIX in secret:
            return None  # already redacted by an earlier rule
        if rule.keep is not None and not rule.keep(match):
            return None
        self.counts[rule.kind] += 1
        if span is None:
            return marker(rule.kind)
        start, end = span[0] - match.start(), span[1] - match.start()
        return whole[:start] + marker(rule.kind) + whole[end:]


def _secret_span(match: re.Match[str]) -> tuple[int, int] | None:
    groups = match.re.groupindex
    for name in ("secret", "dq", "sq", "bare"):
        if name in groups and match.group(name) is not None:
            return match.span(name)
    return None


def _kv_value(match: re.Match[str]) -> str:
    span = _secret_span(match)
    return match.string[span[0] : span[1]] if span else ""


_default = Redactor()


def redact_text(text: str, extra_patterns: Sequence[str] = ()) -> str:
    """`text` with every recognised secret replaced by a typed marker (`[REDACTED:jwt]`)."""
    if extra_patterns:
        return Redactor(extra_patterns).redact(text)
    return _default.redact(text)


def redact_lines(lines: Iterable[str], extra_patterns: Sequence[str] = ()) -> list[str]:
    """Like `redact_text`, one entry per line (a PEM block spanning lines is handled)."""
    return Redactor(extra_patterns).redact_lines(lines)
