"""`clean`: the message of a raw log line (every line of every log passes through it)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from buildlens_core.noise import clean

_UNWANTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=300))
def test_no_control_character_survives(text: str) -> None:
    # The control-character pass is skipped for printable lines; nothing unprintable gets by.
    assert not _UNWANTED.search(clean(text))


def test_prefixes_removed_once_from_the_start() -> None:
    # Lines as Cloud Build (GCS log), BuildKit and pack print them.
    assert clean('Step #2 - "build": #8 12.345 npm ERR! code 1') == "npm ERR! code 1"
    assert clean("[builder] ERROR: failed to build: exit status 1") == (
        "ERROR: failed to build: exit status 1"
    )
    assert clean("2024-05-01T10:00:00.123Z Error: boom") == "Error: boom"
    # Only at the start of a line: a stamp later in the message stays.
    assert clean("Error at 2024-05-01T10:00:00Z: boom") == "Error at 2024-05-01T10:00:00Z: boom"


def test_control_characters_and_escape_codes_go() -> None:
    assert clean("\x1b[31mError:\x1b[0m disk\x07 full\x00") == "Error: disk full"
    assert clean("\tindented\tby tabs") == "\tindented\tby tabs"
    assert clean("::group::Run tests") == ""
