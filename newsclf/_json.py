"""Strict JSON: what newsclf reads from request bodies and artifacts.

``json.loads`` accepts more than JSON (``NaN``, ``Infinity``) and keeps the
last of two values given for one key, silently dropping the other; here
both are errors, and bytes must be UTF-8.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads", "unique_keys"]


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object from its ``(key, value)`` pairs (``object_pairs_hook``);
    ``ValueError`` for a key given twice, one of whose values would be lost."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        twice = next(k for i, k in enumerate(keys) if k in keys[:i])
        raise ValueError(f"the key {twice!r} appears twice in one object")
    return obj


def _constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def loads(data: bytes) -> object:
    """``data`` parsed as strict JSON; ``ValueError`` (``UnicodeDecodeError``
    for bytes that are not UTF-8) or ``RecursionError`` when it is not."""
    return json.loads(data.decode("utf-8"), object_pairs_hook=unique_keys, parse_constant=_constant)
