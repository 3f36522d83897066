"""The real Cloud Build corpus (bench/data/cloudbuild): valid labels, sources, split, fixtures.

Scores are not asserted here (they are measured by `python -m bench.cloudbuild`); this checks
that the data the benchmark stands on is sound and that the analysis runs on every case.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from analyzers.extraction import analyze_chunks
from bench import cloudbuild
from tests.analyzers.helpers import analyze_text
from tests.procs import ROOT

CASES = cloudbuild.load_cases()
HELD_OUT = ROOT.parent / "shared" / "heldout-sources.md"
# Credentials a pasted log can leak; collectors replace them with `<REDACTED:kind>`.
CREDENTIAL = re.compile(
    r"AIza[0-9A-Za-z_-]{35}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{40,}|xox[baprs]-[\w-]{10,}"
    r"|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|sk-[A-Za-z0-9]{32,}|glpat-[\w-]{20}"
    r"|npm_[A-Za-z0-9]{36}|ya29\.[\w-]{20,}"
)


def test_every_case_has_valid_labels_and_a_source() -> None:
    assert len(CASES) >= 50
    composed = {p.name for p in cloudbuild.DATA.joinpath("composed").glob("*") if p.is_dir()}
    for case in CASES:
        assert case.url.startswith("https://"), case.id
        # A composed case is exactly one made by bench/compose.py from its real tool output.
        assert case.composed == (case.id in composed), case.id
    assert cloudbuild.crowded(CASES) == []


def test_index_lists_every_case_as_generated() -> None:
    index = (cloudbuild.DATA / "INDEX.md").read_text(encoding="utf-8")
    assert index == cloudbuild.write_index(CASES), "run python -m bench.cloudbuild --index"


def test_no_held_out_source_and_no_credential() -> None:
    names: set[str] = set()
    if HELD_OUT.is_file():
        text = HELD_OUT.read_text(encoding="utf-8")
        names = set(re.findall(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:#\d+)?", text))
        names -= {n for n in names if n.startswith("datasets/")}
    for case in CASES:
        where = f"{case.repository} {case.url} {case.path}"
        for name in names:
            repo, _, number = name.partition("#")
            hit = repo.lower() in where.lower() and (not number or f"/{number}" in case.url)
            assert not hit, f"{case.id} comes from held-out {name}"
        assert not CREDENTIAL.search(case.log.decode("utf-8", "replace")), case.id


def test_split_is_by_repository_and_stable() -> None:
    parts = {c.repository.lower(): c.part for c in CASES}
    for case in CASES:
        assert case.part == parts[case.repository.lower()]
    assert {c.part for c in CASES} == {"tune", "check"}
    assert cloudbuild.split_of("google/oss-fuzz") == cloudbuild.split_of("Google/OSS-Fuzz")


def test_analysis_runs_on_every_case_and_names_the_step() -> None:
    for case in CASES:
        report = analyze_chunks([case.log])
        assert report.key_lines or report.total_lines == 0, case.id
        stated = re.search(rb'^ERROR: build step (\d+) "', case.log, re.M)
        if stated:  # Cloud Build said which step failed: the log alone gives the same answer
            assert report.failing_step == int(stated[1]), case.id


def test_an_indented_copy_names_the_same_step() -> None:
    """Logs pasted into notes and threads are often indented as a block."""
    for case in CASES:
        if re.search(rb'^ERROR: build step (\d+) "', case.log, re.M):
            indented = b"".join(b"    " + line for line in case.log.splitlines(keepends=True))
            assert (
                analyze_chunks([indented]).failing_step == analyze_chunks([case.log]).failing_step
            )


STEPS_THEN = """starting build "0c1d"
Starting Step #0 - "build"
Step #0 - "build": Successfully built 3f9a2b1c4d5e
Finished Step #0 - "build"
Starting Step #1 - "deploy"
Finished Step #1 - "deploy"
{after}
ERROR: (gcloud.run.deploy) PERMISSION_DENIED: Permission 'run.services.get' denied on resource
"""


@pytest.mark.parametrize(("after", "step"), [("ERROR", 1), ("PUSH", None)])
def test_a_cause_printed_after_the_steps_belongs_to_the_last_started_one(
    after: str, step: int | None
) -> None:
    """Cloud Build stops at the first failed step, so an error printed outside any step
    belongs to the last one that started, unless the steps had all passed (PUSH)."""
    report = analyze_text(STEPS_THEN.format(after=after))
    assert report.key_lines and report.failing_step == step


def test_a_rewritten_log_keeps_its_fingerprint() -> None:
    case = next(c for c in CASES if c.id == "dk-apt-unable-locate-gcloud-packages")
    one = analyze_chunks([case.log]).fingerprint
    log = cloudbuild.rewrite(case.log.decode(), case.key_lines[0][0])
    two = analyze_chunks([log.encode()]).fingerprint
    assert one and one == two


def test_real_fixtures_and_composed_cases_match_their_sources() -> None:
    for command in (["fixtures/real.py", "--check"], ["-m", "bench.compose", "--check"]):
        run = subprocess.run(
            [sys.executable, *command],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr


def test_baselines_measure_what_they_say() -> None:
    case = CASES[0]
    total = len(cloudbuild._texts(case))
    last = cloudbuild.EXTRACTORS["last 100 lines"](case)
    assert last.key_lines == [(max(1, total - 99), total)]
    none = cloudbuild.score(case, cloudbuild.Output([], []))
    assert (none.f1, none.cause_in_excerpt) == (0.0, False)


def test_bench_prints_both_parts() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.cloudbuild"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "## tune part, real logs" in run.stdout and "## check part, real logs" in run.stdout
    assert "fingerprint collisions" in run.stdout
