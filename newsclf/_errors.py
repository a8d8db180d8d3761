"""The one exception hierarchy of newsclf.

Every error the library raises on purpose is a :class:`NewsclfError`.  Each
subclass also derives from the built-in exception it refines, so code that
already catches ``TypeError`` or ``ValueError`` keeps working, and each
message says what was expected and what was found.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

__all__ = [
    "ArtifactError",
    "DataError",
    "InputTypeError",
    "InvalidArgumentError",
    "NewsclfError",
    "VersionMismatchWarning",
]


class NewsclfError(Exception):
    """Base class of every error newsclf raises on purpose."""


class InputTypeError(NewsclfError, TypeError):
    """Text input of the wrong type: a bare ``str`` where a batch is expected,
    ``None``, numbers, ``bytes``, or a batch holding a non-``str`` item.

    ``index`` is the position of the offending item in the batch, or ``None``
    when the argument itself is wrong.
    """

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class InvalidArgumentError(NewsclfError, ValueError):
    """An argument of the right type but an unusable value: a threshold
    outside [0, 1], ``n_jobs=0``, a non-positive batch size."""


class ArtifactError(NewsclfError, ValueError):
    """A model artifact that cannot be trusted or read: a missing or
    malformed ``metadata.json``, a file whose SHA-256 differs from the one
    it records, arrays or settings that disagree with each other, or an
    unsupported format (format 1, a pickle, is refused: see ``newsclf
    convert``); also a target that saving a model would destroy.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message if path is None else f"{path}: {message}")
        self.path = path


class DataError(NewsclfError, ValueError):
    """Labeled data that cannot be used: a missing file, a record without
    ``text`` or ``label``, an unknown format, a corpus reference whose text
    hash does not match.
    """


class VersionMismatchWarning(UserWarning):
    """The artifact was written by other library versions than the running
    ones; predictions may differ.  Retrain or pin the versions in
    ``metadata.json`` to silence it.
    """


def field_names(record: Iterable[object]) -> str:
    """The field names of a record (a mapping: iterating gives its keys) for
    error messages: the first ten, quoted, or ``no fields``."""
    names = [repr(k) for k in record]
    shown = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
    return shown or "no fields"


def describe(value: object) -> str:
    """A short description of ``value`` for error messages: type and a
    truncated repr, on one line (a DataFrame's repr has many)."""
    text = " ".join(repr(value).split())
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def value_kind(value: object) -> str:
    """What a field's value is, in JSON's words for JSON's types (``null``,
    ``a number (3)``, ``an array``, ``an object``): how a record read from a
    file is described; other values by their type."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, numbers.Real):
        return f"a number ({str(value)[:20]})"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_missing(value: object) -> bool:
    """Whether ``value`` is a missing value: ``None``, a NaN of any float
    type (a blank cell through pandas), or pandas' ``NA``/``NaT`` -- the one
    rule for every optional field (article ids, contexts, dataset columns)."""
    if isinstance(value, str):  # the common case, at once
        return False
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, numbers.Real) and value != value


def check_positive_int(name: str, value: object, *, below: int = 2**31) -> int:
    """``value`` as an int in ``[1, below)``: :class:`InputTypeError` for a
    non-int (a bool included), :class:`InvalidArgumentError` out of range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputTypeError(f"{name} must be a positive int, got {describe(value)}")
    number = int(value)
    if not 1 <= number < below:
        raise InvalidArgumentError(f"{name} must be a positive int below {below:_}, got {number}")
    return number
