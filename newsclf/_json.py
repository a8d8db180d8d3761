"""Strict JSON: what newsclf reads from request bodies and artifacts.

``json.loads`` accepts more than JSON (``NaN``, ``Infinity``) and keeps the
last of two values given for one key, silently dropping the other; here
both are errors, and bytes must be UTF-8.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["LONE_SURROGATE", "first_repeat", "loads", "unique_keys"]

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
    raise ValueError(f"{name} is not a JSON value")


def loads(data: bytes) -> object:
    """``data`` parsed as strict JSON; ``ValueError`` (``UnicodeDecodeError``
    for bytes that are not UTF-8) or ``RecursionError`` when it is not."""
    return json.loads(data.decode("utf-8"), object_pairs_hook=unique_keys, parse_constant=_constant)
