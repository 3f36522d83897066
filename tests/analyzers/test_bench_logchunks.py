"""Golden test of the LogChunks benchmark on a small subset (skipped without the data set).

The data set stays outside the repository: it is read from ../shared/datasets/logchunks
beside the clone. The golden file holds only line ranges and scores, never log text.
BUILDLENS_REGENERATE=1 rewrites it after an intended change of the extractor.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import logchunks

DATA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "logchunks"
GOLDEN = Path(__file__).resolve().parent / "golden_logchunks_subset.json"
REGENERATE = os.environ.get("BUILDLENS_REGENERATE") == "1"
SUBSET = 24

# In CI shared/ is always beside the clone: there a missing data set is a failure, not a skip.
pytestmark = pytest.mark.skipif(
    not (DATA / "derived" / "chunk_line_spans.jsonl").is_file() and not os.environ.get("CI"),
    reason=f"LogChunks not found at {DATA}; place shared/ beside the clone to run this test",
)


def _subset() -> list[logchunks.Example]:
    examples = logchunks.load_examples(DATA)
    return examples[:: max(1, len(examples) // SUBSET)][:SUBSET]


def test_benchmark_subset_matches_golden() -> None:
    rows = []
    scores = []
    for ex in _subset():
        out = logchunks.EXTRACTORS["buildlens"](ex.path)
        score = logchunks.score(ex, out)
        scores.append(score)
        rows.append(
            {
                "log": ex.path.relative_to(DATA / "logs").as_posix(),
                "key_lines": [list(r) for r in out.key_lines],
                "excerpt": [list(r) for r in out.excerpt],
                "category": out.category,
                "f1": round(score.f1, 4),
            }
        )
    summary = {
        "f1": round(sum(s.f1 for s in scores) / len(scores), 4),
        "whole_chunk_in_excerpt": round(sum(s.whole for s in scores) / len(scores), 4),
        "max_excerpt_lines": max(s.excerpt_size for s in scores),
    }
    got = {"summary": summary, "logs": rows}
    if REGENERATE:
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n")
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run with BUILDLENS_REGENERATE=1"
    assert summary["max_excerpt_lines"] <= 150
    assert got == json.loads(GOLDEN.read_text())


def test_baselines_score_what_they_promise() -> None:
    ex = _subset()[0]
    last100 = logchunks.EXTRACTORS["last 100 lines"](ex.path)
    assert sum(e - s + 1 for s, e in last100.excerpt) <= 100
    assert logchunks.score(ex, logchunks.Output([], [])).f1 == 0.0
