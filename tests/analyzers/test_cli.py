"""The command-line contract: `python -m analyzers excerpt --json FILE...`."""

from __future__ import annotations

import gzip
import json
import random
import string
import subprocess
import sys
from pathlib import Path

from tests.analyzers import snippets
from tests.analyzers.helpers import cloudbuild_log, travis_log

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analyzers", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_one_json_object_per_file(tmp_path: Path) -> None:
    plain = tmp_path / "travis.log"
    text, where = travis_log(snippets.CARGO)
    plain.write_text(text)
    zipped = tmp_path / "cloudbuild.log.gz"
    cb_text, cb_where = cloudbuild_log(snippets.PYTEST)
    zipped.write_bytes(gzip.compress(cb_text.encode()))
    run = _run("excerpt", "--json", str(plain), str(zipped))
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(plain), str(zipped)]
    for row, span in ((rows[0], where), (rows[1], cb_where)):
        assert set(row) == {
            "path", "key_lines", "excerpt", "category", "fingerprint", "failing_step",
            "known_lines",
        }  # fmt: skip
        for start, end in row["key_lines"] + row["excerpt"]:
            assert 1 <= start <= end
        assert row["key_lines"][0][0] >= span.start - 2
        assert row["key_lines"][-1][1] <= span.end + 2
        assert isinstance(row["fingerprint"], str) and len(row["fingerprint"]) == 16
    assert rows[0]["category"] == "compile_error"
    # The step Cloud Build named (`ERROR: build step 1 ...`); a Travis log names none.
    assert (rows[0]["failing_step"], rows[1]["failing_step"]) == (None, 1)
    assert rows[1]["category"] == "test_failure"


def test_lone_cr_counts_as_a_line_end(tmp_path: Path) -> None:
    path = tmp_path / "progress.log"
    path.write_bytes(b"$ make\r\n10%\r50%\r100%\r\nerror: boom\r\n")
    row = json.loads(_run("excerpt", "--json", str(path)).stdout)
    assert row["key_lines"] == [[5, 5]]


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    run = _run("excerpt", "--json", str(tmp_path / "nope.log"))
    assert run.returncode == 1
    assert "check the path" in run.stderr


def test_key_line_text_is_redacted_unless_asked(tmp_path: Path) -> None:
    token = "ghp_" + "".join(
        random.Random(3).choice(string.ascii_letters + "0123456789") for _ in range(36)
    )
    path = tmp_path / "cloudbuild.log"
    path.write_text(
        f"Step #0: error: the registry refused {token}\n"
        'ERROR: build step 0 "gcr.io/cloud-builders/docker" failed: step exited with non-zero '
        "status: 1\n"
    )
    shown = _run("excerpt", str(path)).stdout
    assert "the registry refused [REDACTED:github-token]" in shown and token not in shown
    assert token in _run("excerpt", "--no-redact", str(path)).stdout


def test_passing_log_marks_what_passing_builds_printed(tmp_path: Path) -> None:
    failing = tmp_path / "failing.log"
    failing.write_text(
        "$ npm test\n"
        "Error: connect ECONNREFUSED 127.0.0.1:6379 (redis cache disabled)\n"
        "  1 failing\n"
        "  1) parser rejects empty input:\n"
        "     AssertionError: expected [Function] to throw an error\n"
        'The command "npm test" exited with 1.\n'
    )
    passing = tmp_path / "passing.log"
    passing.write_text(
        "$ npm test\nError: connect ECONNREFUSED 127.0.0.1:6379 (redis cache disabled)\n"
    )
    plain = json.loads(_run("excerpt", "--json", str(failing)).stdout)
    learned = json.loads(
        _run("excerpt", "--json", "--passing-log", str(passing), str(failing)).stdout
    )
    assert plain["known_lines"] == 0 and learned["known_lines"] == 1
    assert plain["key_lines"][0][0] == 2 and learned["key_lines"][0][0] == 3
    missing = _run("excerpt", "--passing-log", str(tmp_path / "nope.log"), str(failing))
    assert missing.returncode == 2 and "nope.log" in missing.stderr
