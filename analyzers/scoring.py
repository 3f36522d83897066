"""The score of one cleaned log line: how strongly it reads as the statement of a failure."""

from __future__ import annotations

from analyzers.vocabulary import (
    CHILD_FAILED,
    COMMAND,
    INTRO,
    MAX_SCORE_CHARS,
    NAME,
    NEGATIVE,
    STRONG,
    STRONG_INTRO,
    SUMMARY,
    VOCAB,
    WARNING,
)
from analyzers.wrappers import STRUCTURE, WRAPPER


def line_score(text: str) -> float:
    """Base score of one cleaned line: 0 for ordinary output, higher for stronger evidence."""
    head = text[:MAX_SCORE_CHARS]
    low = head.lower()
    tagged = head.startswith("E: ")  # apt's error tag: `E: Package 'x' has no installation ...`
    if not tagged and (not VOCAB.search(low) or not VOCAB.search(NAME.sub(" ", head).lower())):
        return 0.0  # no error words, or only inside names (`invalid_data.json`, `quick-error`)
    if STRUCTURE.search(head):
        return 0.0  # a runner's marker (`ERROR`, `Finished Step #0`): printed for every step
    best = 0.0
    for pattern, weight in STRONG:
        if weight > best and pattern.search(head):
            best = weight
    if best == 0.0:
        best = 1.0
    if (
        SUMMARY.search(head) and not INTRO.match(head) and not STRONG_INTRO.match(head)
    ) or WRAPPER.search(head):
        best = min(best, 2.0)
    elif CHILD_FAILED.search(head):
        best = min(best, 2.5)
    if NEGATIVE.search(head) and not is_exception(head):
        best *= 0.3
    elif "error" not in low and WARNING.search(head):
        best *= 0.5
    if COMMAND.match(head):
        best *= 0.2
    return best


def is_exception(text: str) -> bool:
    return bool(STRONG[1][0].match(text))
