"""Lone UTF-16 surrogates out of decoded JSON.

`json.loads` accepts `"\\ud83d"` on its own and returns a `str` that cannot be encoded as
UTF-8, so every sink would fail on it later. Decoders scrub what they return instead.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value
