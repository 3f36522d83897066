"""wrappers.toml: every entry's examples match it, and the loader rejects bad entries."""

from __future__ import annotations

import pytest

from analyzers.scoring import line_score
from analyzers.wrappers import (
    INSTRUCTION,
    REPEAT,
    STRUCTURE,
    WRAPPER,
    WrappersError,
    load_shapes,
    says_only_that_it_failed,
)

SHAPES = load_shapes()
UNION = {"wrapper": WRAPPER, "structure": STRUCTURE, "repeat": REPEAT, "instruction": INSTRUCTION}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.id)
def test_examples_match_their_entry_and_its_kind(shape) -> None:  # type: ignore[no-untyped-def]
    for example in shape.examples:
        assert shape.pattern.search(example), f"{shape.id} does not match {example!r}"
        assert UNION[shape.kind].search(example)


def test_causes_are_not_wrappers() -> None:
    causes = [
        "ERROR: (gcloud.run.deploy) PERMISSION_DENIED: Permission 'run.services.get' denied",
        "src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
        "E: Package 'netcat' has no installation candidate",
        "COPY failed: file not found in build context or excluded by .dockerignore",
        "npm ERR! 404 Not Found - GET https://registry.npmjs.org/left-padd - Not found",
        "[INFO] BUILD FAILURE",
    ]
    for text in causes:
        assert not says_only_that_it_failed(text), text
        assert not INSTRUCTION.search(text), text


def test_wrappers_score_below_causes_and_markers_score_nothing() -> None:
    cause = line_score("E: Package 'netcat' has no installation candidate")
    for shape in SHAPES:
        for example in shape.examples:
            if shape.kind == "wrapper":
                assert line_score(example) < cause, example
            elif shape.kind == "structure":
                assert line_score(example) == 0, example


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[wrapper]]\nid = 'x'\nsource = 's'\nexamples = ['a']\n", "set `pattern`"),
        ("[[wrapper]]\nid = 'x'\npattern = '('\nsource = 's'\nexamples = ['a']\n", "bad pattern"),
        ("[[wrapper]]\nid = 'x'\npattern = 'a'\nsource = 's'\n", "give `examples`"),
        ("[[wrappers]]\nid = 'x'\n", "unknown tables"),
        ("[[wrapper]\n", "not valid TOML"),
    ],
)
def test_bad_entries_say_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(WrappersError, match=message):
        load_shapes(text)
