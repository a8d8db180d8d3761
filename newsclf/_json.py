"""Strict JSON: what newsclf reads from records, request bodies and artifacts.

``json.loads`` accepts more than JSON (``NaN``, ``Infinity``) and keeps the
last of two values given for one key, silently dropping the other; here
both are errors, and bytes must be UTF-8.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["DECODER", "LONE_SURROGATE", "first_repeat", "loads", "unique_keys"]

#: A lone surrogate: no Unicode character, so no UTF-8 JSON can hold it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def first_repeat(names: Sequence[str]) -> str | None:
    """The first of ``names`` given a second time (``None``: all distinct)."""
    if len(set(names)) == len(names):
        return None
    return next(k for i, k in enumerate(names) if k in names[:i])


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object from its ``(key, value)`` pairs (``object_pairs_hook``);
    ``ValueError`` for a key given twice, one of whose values would be lost."""
    obj = dict(pairs)
    if len(obj) != len(pairs):  # the cheap test, on every object read
        twice = first_repeat([k for k, _ in pairs])
        raise ValueError(f"the key {twice!r} appears twice in one object")
    return obj


def _constant(name: str) -> object:
    raise ValueError(f"invalid JSON: {name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"invalid JSON: number {text[:20]} out of range")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        raise ValueError(f"invalid JSON: integer of {len(text)} digits is too long") from None


#: Strict JSON for records, which are written back as JSON: no
#: ``NaN``/``Infinity``, no number out of a float's range or with more digits
#: than Python converts, no key twice (``ValueError``s that say so).
DECODER = json.JSONDecoder(
    parse_constant=_constant, parse_float=_float, parse_int=_int, object_pairs_hook=unique_keys
)

# Request bodies and artifacts: the same, but a number out of range is read
# as infinity, for the field that holds it to refuse by name.
_LOADS_DECODER = json.JSONDecoder(
    parse_constant=_constant, parse_int=_int, object_pairs_hook=unique_keys
)


def loads(data: bytes) -> object:
    """``data`` parsed as strict JSON; ``ValueError`` (``UnicodeDecodeError``
    for bytes that are not UTF-8) when it is not."""
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        raise ValueError("invalid JSON: it starts with a byte-order mark (U+FEFF), not allowed")
    try:
        return _LOADS_DECODER.decode(text)
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
