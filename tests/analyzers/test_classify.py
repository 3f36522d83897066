"""Classification rules per family, the rules file's shape, and adversarial input."""

from __future__ import annotations

import pytest

from analyzers.classify import (
    CATEGORIES,
    UNCLASSIFIED,
    RulesError,
    classify,
    default_rules,
    load_rules,
)
from tests.analyzers import snippets
from tests.analyzers.helpers import analyze_text, travis_log

CASES = [
    (snippets.PYTEST, "test_failure"),
    (snippets.GO_TEST, "test_failure"),
    (snippets.NODE_ASSERT, "test_failure"),
    (snippets.MAVEN_SUREFIRE, "test_failure"),
    (snippets.JAVAC, "compile_error"),
    (snippets.GCC, "compile_error"),
    (snippets.CARGO, "compile_error"),
    (snippets.PIP, "dependency_resolution"),
    (snippets.NPM_404, "dependency_resolution"),
    (snippets.GCLOUD_PERMISSION, "auth_or_permission"),
    # By cause, not by the step carrying it: a file missing for pip inside a docker build.
    (snippets.DOCKER_BUILD, "configuration"),
    # The boundaries of docs/labelling.md.
    ("note: module requires Go 1.17", "dependency_resolution"),
    (
        "libexpat.so.1: cannot open shared object file: No such file or directory",
        "dependency_resolution",
    ),
    ("error TS2307: Cannot find module '../environments/config'", "configuration"),
    (
        "error TS2307: Cannot find module 'left-pad' or its type declarations.",
        "dependency_resolution",
    ),
    ('name unknown: Repository "apps" not found', "configuration"),
    (
        'invalid argument "gcr.io/p//:abc" for "-t, --tag" flag: invalid reference format',
        "docker_build",
    ),
    (
        "E: Failed to fetch http://deb.debian.org/x.deb  404  Not Found [IP: 1.2.3.4 80]",
        "registry_or_network",
    ),
    ("E: Package 'netcat' has no installation candidate", "dependency_resolution"),
    # The project's go.mod against an older builder (https://go.dev/doc/toolchain): the setup.
    ("go: go.mod requires go >= 1.21 (running go 1.20; GOTOOLCHAIN=local)", "configuration"),
    # A resolution error caused by the network is a network failure: the more specific cause.
    (
        "[ERROR] Failed to execute goal on project app: Could not resolve dependencies for "
        "project com.example:app:jar:1.0: Could not transfer artifact org.example:lib:jar:1.0 "
        "from/to central (https://repo.maven.apache.org/maven2): Connection reset",
        "registry_or_network",
    ),
    (
        "npm ERR! fetch failed https://registry.example.com/pkg/-/pkg-1.0.0.tgz",
        "registry_or_network",
    ),
    ("Dockerfile parse error line 3: unknown instruction: RUNN", "docker_build"),
    (
        "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat "
        "/workspace/Dockerfile: no such file or directory",
        "configuration",
    ),
    (
        'Error from server (Forbidden): deployments.apps "web" is forbidden: User "sa" cannot '
        'get resource "deployments"',
        "auth_or_permission",
    ),
    (
        "Step 3/7 : COPY dist/ /app/\n"
        "COPY failed: file not found in build context or excluded by .dockerignore: "
        "stat dist/: file does not exist",
        "docker_build",
    ),
    (
        "src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n"
        "The command '/bin/sh -c npm run build' returned a non-zero code: 2",
        "lint_or_type_check",
    ),
    (snippets.TERRAFORM, "deploy"),
    (snippets.OOM, "out_of_memory"),
    (snippets.DISK, "disk_full"),
    (snippets.TIMEOUT, "timeout"),
    (
        "src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
        "lint_or_type_check",
    ),
    (
        "app/models.py:12: error: Incompatible return value type  [return-value]",
        "lint_or_type_check",
    ),
    (
        "fatal: unable to access 'https://github.com/x/y/': Could not resolve host: github.com",
        "registry_or_network",
    ),
    (
        "ERROR: failed to solve: rpc error: code = Unknown desc = RESOURCE_EXHAUSTED: "
        "Quota exceeded for quota metric",
        "quota",
    ),
    (
        "ERROR: (gcloud.run.deploy) Revision 'api-00002-abc' is not ready and cannot serve "
        "traffic.",
        "deploy",
    ),
    ("/bin/sh: 1: terraform: command not found", "configuration"),
    ("FAILED tests/test_net.py::test_fetch - flaky: passed on retry 2 of 3", "flaky"),
    (
        'ERROR: build step 0 "gcr.io/cloud-builders/docker" failed: pulling image: timeout',
        "infrastructure",
    ),
]


@pytest.mark.parametrize(("text", "category"), CASES)
def test_rule_families(text: str, category: str) -> None:
    lines = text.strip("\n").split("\n")
    assert classify(lines).category == category


@pytest.mark.parametrize(("snippet", "category"), CASES[:15])
def test_categories_through_the_whole_analysis(snippet: str, category: str) -> None:
    text, _ = travis_log(snippet)
    assert analyze_text(text).category == category


def test_build_status_beats_text() -> None:
    result = classify(["error: something"], build_status="TIMEOUT")
    assert (result.category, result.rule) == ("timeout", "cloudbuild-timeout")
    assert classify([], failure_type="PUSH_NOT_AUTHORIZED").category == "auth_or_permission"


def test_unknown_failure_is_unclassified() -> None:
    result = classify(["the frobnicator went sideways"], ["done"])
    assert result.category == UNCLASSIFIED
    assert result.rule == ""


def test_catalogue_size_and_completeness() -> None:
    rules = default_rules()
    assert len(rules) >= 40
    assert {r.category for r in rules} == set(CATEGORIES)
    for rule in rules:
        assert rule.hint and rule.doc_url.startswith("https://")
    assert len({r.id for r in rules}) == len(rules)


def test_bad_rules_say_what_to_fix() -> None:
    with pytest.raises(RulesError, match="category must be one of"):
        load_rules('[[rule]]\nid="x"\ncategory="nope"\nhint="h"\ndoc_url="u"\npatterns=["a"]\n')
    with pytest.raises(RulesError, match="bad pattern"):
        load_rules('[[rule]]\nid="x"\ncategory="flaky"\nhint="h"\ndoc_url="u"\npatterns=["("]\n')
    with pytest.raises(RulesError, match="set `hint`"):
        load_rules('[[rule]]\nid="x"\ncategory="flaky"\ndoc_url="u"\npatterns=["a"]\n')


@pytest.mark.timeout(60)
@pytest.mark.parametrize("filler", ["a", " ", "error ", "0", "/tmp/", "Error: " * 3, "\t", ":1:"])
def test_every_rule_on_adversarial_100kb_lines(filler: str) -> None:
    # Lines are cut before matching and patterns are linear: this stays fast (timeout above).
    line = (filler * (100_000 // len(filler) + 1))[:100_000]
    for rule in default_rules():
        classify([line + "!"], [line], rules=[rule])
