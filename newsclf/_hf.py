"""Hugging Face ``datasets`` integration: label a Dataset without leaving Arrow.

The results go to ``label``, ``score`` and ``uncertain`` columns (after
``prefix``).  A name the dataset already uses (a gold ``label`` column, say)
is never overwritten: that result goes to ``newsclf_NAME`` instead, as
``newsclf classify`` does with record fields, and a warning is logged.  A
value of the text column that is not a string is a :class:`DataError`
naming its row.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, cast

from newsclf._errors import DataError, InputTypeError, check_positive_int, describe, is_missing

if TYPE_CHECKING:
    from newsclf._model import Classifier

__all__ = ["DatasetAnnotator", "annotate_dataset"]

_LOGGER = logging.getLogger("newsclf")
RESULT_NAMES = ("label", "score", "uncertain")


def result_names(
    columns: Iterable[str], prefix: str = "", *, what: str = "dataset"
) -> dict[str, str]:
    """The column each result goes to: ``PREFIXlabel`` and so on, or
    ``newsclf_PREFIXlabel`` when ``columns`` already hold that name (with a
    warning).  Raises :class:`DataError` when both names are taken."""
    taken = set(columns)
    names, moved = {}, []
    for key in RESULT_NAMES:
        name = f"{prefix}{key}"
        if name in taken:
            if f"newsclf_{name}" in taken:
                raise DataError(
                    f"the {what} already has columns {name!r} and 'newsclf_{name}': pass "
                    "prefix= to name newsclf's result columns"
                )
            moved.append(name)
            name = f"newsclf_{name}"
        names[key] = name
    if moved:
        _LOGGER.warning(
            "the %s already has columns %s: newsclf's results go to %s instead "
            "(pass prefix= to choose the names)",
            what,
            moved,
            [f"newsclf_{m}" for m in moved],
        )
    return names


def check_column_options(
    text_column: object, prefix: object, context_column: object = None
) -> None:
    """Refuse, with :class:`InputTypeError`, a ``prefix`` that is not a str
    (``None`` would name a column ``Nonelabel``) or a ``text_column`` (or
    given ``context_column``) that is neither a str nor an int (a column name)."""
    for name, column in (("text_column", text_column), ("context_column", context_column)):
        if column is None and name == "context_column":
            continue
        if isinstance(column, bool) or not isinstance(column, str | int):
            raise InputTypeError(f"{name} must be a column name, got {describe(column)}")
    if not isinstance(prefix, str):
        raise InputTypeError(f"prefix must be a str ('' for none), got {describe(prefix)}")


def result_values(
    clf: Classifier,
    texts: list[str],
    threshold: float | None,
    names: dict[str, str],
    contexts: list[str] | None = None,
) -> dict[str, list[Any]]:
    """The results of ``texts`` (each read with its context, if given) as the
    columns ``names`` gives (see :func:`result_names`)."""
    labels, scores, uncertain = clf._columns(texts, threshold, contexts)
    return {names["label"]: labels, names["score"]: scores, names["uncertain"]: uncertain}


def article_texts(
    texts: list[str], values: list[Any], column: str, where: Callable[[int], str]
) -> list[str]:
    """The article each text is read with: its ``column`` value, as
    ``classify_many(contexts=...)`` reads it, or, where that is missing
    (None/NaN), the text alone; a :class:`DataError` naming the row
    (``where(i)``) for any other value."""
    out = []
    for i, (text, value) in enumerate(zip(texts, values, strict=True)):
        if isinstance(value, str):
            out.append(value)
        elif is_missing(value):
            out.append(text)
        else:
            raise DataError(
                f"{where(i)}, context column {column!r}: {describe(value)}, expected a string "
                "(the row's article) or a missing value (the row read alone)"
            )
    return out


def first_non_string(values: Sequence[object]) -> int | None:
    """The position of the first value that is not a ``str``, else ``None``."""
    return next((i for i, v in enumerate(values) if not isinstance(v, str)), None)


def not_a_string(value: object) -> str:
    """What a bad text value is, and what to do about it."""
    if is_missing(value):
        return "a missing value (None/NaN): fill or filter the missing texts first"
    hint = "; decode bytes first" if isinstance(value, bytes | bytearray) else ""
    return f"{describe(value)}, expected a string{hint}"


class _Dataset(Protocol):
    """What :func:`annotate_dataset` needs of a ``datasets`` (Iterable)Dataset."""

    @property
    def column_names(self) -> list[str] | None: ...

    def map(self, function: Callable[..., dict[str, list[Any]]], **kwargs: Any) -> Self: ...


_DatasetT = TypeVar("_DatasetT", bound=_Dataset)


class DatasetAnnotator:
    """A picklable batch function for ``Dataset.map(..., batched=True,
    with_indices=True)``: adds ``label``, ``score`` and ``uncertain`` columns
    (prefix with ``prefix``; see the module docstring for names already
    taken) computed from ``text_column``.  Without ``with_indices``, an
    error names the position in the batch instead of the row."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        text_column: str = "text",
        threshold: float | None = None,
        prefix: str = "",
        context_column: str | None = None,
    ) -> None:
        from newsclf._model import artifact_ref

        # The artifact as it is now: a worker scores with this very model
        # (or fails, if it is replaced meanwhile), and the digest is part of
        # this transform's fingerprint, so datasets' cache knows the model.
        self.path, self.digest = artifact_ref(path)
        self.text_column = text_column
        self.context_column = context_column
        self.threshold = threshold
        self.prefix = prefix
        self._names: dict[str, str] | None = None

    def names(self, columns: Iterable[str]) -> dict[str, str]:
        """The result columns for a dataset with ``columns``; decided (and
        warned about) once, then kept, also in the copies sent to workers."""
        if self._names is None:
            self._names = result_names(columns, self.prefix)
        return self._names

    def check_columns(self, columns: Iterable[str]) -> None:
        check_columns_present(list(columns), self.text_column, self.context_column)

    def __call__(self, batch: Any, indices: Sequence[int] | None = None) -> dict[str, list[Any]]:
        # Dataset.map(num_proc=N) pickles this object into each worker, which
        # then loads the model once (load_cached).
        from newsclf._model import load_cached

        columns = _column_names(batch)
        self.check_columns(columns)
        names = self.names(columns)
        texts = _column(batch, self.text_column)
        bad = first_non_string(texts)
        if bad is not None:
            where = f"row {indices[bad]}" if indices is not None else f"batch position {bad}"
            raise DataError(
                f"{where}, text column {self.text_column!r}: {not_a_string(texts[bad])}"
            )
        clf = load_cached(self.path, self.digest)
        contexts = None
        if self.context_column is not None:
            contexts = article_texts(
                texts,
                _column(batch, self.context_column),
                self.context_column,
                lambda i: f"row {indices[i]}" if indices is not None else f"batch position {i}",
            )
        return result_values(clf, texts, self.threshold, names, contexts)


def _column_names(batch: Any) -> list[str]:
    """The columns of a batch in any of ``datasets``' formats: a dict (python,
    numpy), a pandas DataFrame or a pyarrow Table (``with_format("arrow")``)."""
    names = getattr(batch, "column_names", None)  # pyarrow
    if names is None:
        names = batch.columns if hasattr(batch, "columns") else batch  # pandas, dict
    return [str(name) for name in names]


def _column(batch: Any, name: str) -> list[Any]:
    """One column of such a batch, as a list of Python values."""
    values = batch.column(name) if hasattr(batch, "column_names") else batch[name]
    if isinstance(values, list):
        return values
    if hasattr(values, "to_pylist"):  # pyarrow
        column: list[Any] = values.to_pylist()
    elif hasattr(values, "tolist"):  # numpy, pandas
        column = values.tolist()
    else:
        column = list(values)
    return column


def check_columns_present(columns: list[str], text_column: str, context_column: str | None) -> None:
    """Refuse, with :class:`DataError`, a text (or context) column that
    ``columns`` lack, naming those it has."""
    for what, column in (("text", text_column), ("context", context_column)):
        if column is not None and column not in columns:
            raise DataError(
                f"expected a {what} column {column!r}, found columns "
                f"{sorted(map(str, columns))}; name it with {what}_column="
            )
        if column is not None and (n := columns.count(column)) > 1:
            raise DataError(
                f"expected one {what} column {column!r}, found {n} columns of that name; "
                "rename or drop the others"
            )


def annotate_dataset(
    ds: _DatasetT,
    *,
    text_column: str = "text",
    context_column: str | None = None,
    model: str | os.PathLike[str] | None = None,
    threshold: float | None = None,
    prefix: str = "",
    batch_size: int = 1000,
    num_proc: int | None = None,
) -> _DatasetT:
    """Return ``ds`` (a ``datasets.Dataset`` or ``IterableDataset``) with
    ``label``, ``score`` and ``uncertain`` columns added, via
    ``ds.map(batched=True)``; with ``context_column``, each text is read
    with that column's value, its article (a missing value: the text alone),
    as ``classify_many(texts, contexts=...)`` reads it; ``num_proc`` runs that many processes, each
    loading the model once.  Columns ``ds`` already has are kept: a result
    whose name is taken goes to ``newsclf_NAME`` (with a warning).  Raises
    :class:`DataError` for a missing text (or context) column, a text that
    is not a string or an article that is neither a string nor missing,
    naming the row."""
    if not (hasattr(ds, "map") and hasattr(ds, "column_names")):
        raise InputTypeError(
            f"expected a datasets.Dataset or IterableDataset, got {describe(ds)}; "
            "for a list of texts, use Classifier.classify_many"
        )
    if isinstance(ds.column_names, dict):  # a DatasetDict: one dataset per split
        raise InputTypeError(
            f"expected one dataset, got a {type(ds).__name__} of splits {sorted(ds.column_names)}; "
            "annotate each: {split: annotate_dataset(d) for split, d in dd.items()}"
        )
    check_column_options(text_column, prefix, context_column)
    check_positive_int("batch_size", batch_size)
    if num_proc is not None:
        check_positive_int("num_proc", num_proc)
    annotator = DatasetAnnotator(
        model,
        text_column=text_column,
        threshold=threshold,
        prefix=prefix,
        context_column=context_column,
    )
    columns = ds.column_names
    if columns is not None:  # known up front: check and warn once, here
        annotator.check_columns(columns)
        annotator.names(columns)
    import datasets  # already imported by whoever made ``ds``

    kwargs: dict[str, Any] = {"num_proc": num_proc, "desc": "newsclf"}
    restore = None
    if isinstance(ds, datasets.IterableDataset):  # its map is lazy and takes neither
        if num_proc is not None:
            warnings.warn(
                f"num_proc={num_proc} is ignored for an IterableDataset: its map runs lazily, "
                "in the process that iterates it",
                RuntimeWarning,
                stacklevel=2,
            )
        # Formatted ("arrow", "pandas"), its map wants batches returned in that
        # format: annotate plain rows, then format the result as the input was.
        restore = getattr(getattr(ds, "_formatting", None), "format_type", None)
        if restore not in (None, "python"):
            ds = cast(_DatasetT, cast(Any, ds).with_format(None))
        kwargs = {}
    elif isinstance(ds, datasets.Dataset) and len(ds) == 0:
        # map() returns an empty dataset as it is: add the columns, as for any other.
        empty: Any = ds
        names = annotator.names(empty.column_names)
        for key, dtype in (("label", "string"), ("score", "float64"), ("uncertain", "bool")):
            empty = empty.add_column(names[key], [], feature=datasets.Value(dtype))
        return cast(_DatasetT, empty)
    out: Any = ds.map(annotator, batched=True, batch_size=batch_size, with_indices=True, **kwargs)
    return cast(_DatasetT, out if restore in (None, "python") else out.with_format(restore))
