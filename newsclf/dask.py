"""Classify Dask collections of texts (needs the ``dask`` extra's packages).

>>> import dask.dataframe as dd, newsclf.dask
>>> ddf = dd.read_parquet("archive/*.parquet")
>>> labeled = newsclf.dask.classify_dataframe(ddf, text_column="text")
>>> labeled.to_parquet("labeled/")

Each Dask worker process loads the model once, from the artifact directory,
the first time one of its tasks needs it, and keeps it (a per-process cache
keyed by path and digest): the model is never shipped with each partition.
Tasks name the artifact as it was when the graph was built (its digest): a
model replaced on disk before a task runs fails that task with
:class:`newsclf.ArtifactError`, never scores it with another model.  The
artifact directory must be readable at the same path on every worker -- on a
real cluster, a shared filesystem or the model installed with newsclf on
each worker (the bundled model always is).  The same code runs on a
``LocalCluster`` and on a remote scheduler address.

Columns the dataframe already has are kept: a result whose name is taken
(a gold ``label`` column, say) goes to ``newsclf_NAME`` instead, with a
warning, as ``newsclf classify`` does.  A text that is not a string is a
:class:`newsclf.DataError` naming its row: the index label, the partition
and the position in it.

Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which
makes glibc map and unmap every large temporary array: it halves the speed
of newsclf's numpy engine there (measured: 14k against 30k paragraphs/s).
So the first newsclf task in a worker process raises glibc's mmap and trim
thresholds for that process (:func:`newsclf._parallel.tune_allocator`) --
the worker then holds at most that much freed memory back from the
system.  Nothing happens outside Dask tasks or on other C libraries.
"""

from __future__ import annotations

import os
from typing import Any

from newsclf._errors import DataError, InputTypeError, describe
from newsclf._hf import (
    article_texts,
    check_column_options,
    check_columns_present,
    first_non_string,
    not_a_string,
    result_names,
    result_values,
)
from newsclf._model import artifact_ref, load_cached
from newsclf._parallel import tune_allocator

__all__ = ["classify_bag", "classify_dataframe"]


def _where(partition_info: dict[str, Any] | None, position: int) -> str:
    number = None if partition_info is None else partition_info.get("number")
    return f"partition {number if number is not None else '?'}, position {position}"


def _classify_partition(
    df: Any,
    model: tuple[str, str],
    text_column: str,
    threshold: float | None,
    names: dict[str, str],
    context_column: str | None,
    partition_info: dict[str, Any] | None = None,
) -> Any:
    import numpy as np

    tune_allocator()
    texts = df[text_column].tolist()

    def where(i: int) -> str:
        label = df.index[i]
        if isinstance(label, np.generic):  # np.int64(3): named as the user wrote it, 3
            label = label.item()
        return f"row {label!r} ({_where(partition_info, i)})"

    bad = first_non_string(texts)
    if bad is not None:
        raise DataError(f"{where(bad)}, text column {text_column!r}: {not_a_string(texts[bad])}")
    contexts = None
    if context_column is not None:
        contexts = article_texts(texts, df[context_column].tolist(), context_column, where)
    return df.assign(**result_values(load_cached(*model), texts, threshold, names, contexts))


def classify_dataframe(
    ddf: Any,
    *,
    text_column: str = "text",
    context_column: str | None = None,
    model: str | os.PathLike[str] | None = None,
    threshold: float | None = None,
    prefix: str = "",
) -> Any:
    """Add ``label`` (string), ``score`` (float64) and ``uncertain`` (bool)
    columns to a Dask DataFrame, partition by partition (after ``prefix``;
    ``newsclf_NAME`` for a name the dataframe already has, with a warning).
    With ``context_column``, each text is read with that column's value, its
    article (a missing value: the text alone).  Raises
    :class:`newsclf.DataError` for a missing text or context column at once,
    and for a text that is not a string when computed, naming its row."""
    if not hasattr(ddf, "map_partitions"):  # not Dask's: refused without importing it
        raise InputTypeError(f"expected a Dask DataFrame, got {describe(ddf)}")
    import dask.dataframe as dd
    import pandas as pd

    frame: Any = dd.DataFrame  # ddf stays untyped, as Dask's own API mostly is
    if not isinstance(ddf, frame):
        # A Series passed the old duck-type check and failed at compute (KeyError).
        hint = "; pass its DataFrame, or series.to_frame()" if isinstance(ddf, dd.Series) else ""
        raise InputTypeError(f"expected a Dask DataFrame, got {describe(ddf)}{hint}")
    check_column_options(text_column, prefix, context_column)
    check_columns_present(list(ddf.columns), text_column, context_column)
    names = result_names([str(c) for c in ddf.columns], prefix, what="dataframe")
    ref = artifact_ref(model)  # the model as it is now: a task never gets another
    meta = ddf._meta.copy()
    # Whatever dtype this pandas gives a column of strings ("str" in pandas 3).
    meta[names["label"]] = pd.Series(["label"]).iloc[:0]
    meta[names["score"]] = pd.Series(dtype="float64")
    meta[names["uncertain"]] = pd.Series(dtype="bool")
    return ddf.map_partitions(
        _classify_partition, ref, text_column, threshold, names, context_column, meta=meta
    )


def _classify_texts(
    texts: list[Any], number: int, model: tuple[str, str], threshold: float | None
) -> list[dict[str, Any]]:
    tune_allocator()
    texts = list(texts)
    bad = first_non_string(texts)
    if bad is not None:
        where = _where({"number": number}, bad)
        raise DataError(f"item at {where} of the bag: {not_a_string(texts[bad])}")
    return [p.to_dict() for p in load_cached(*model).classify_many(texts, threshold=threshold)]


def classify_bag(
    bag: Any, *, model: str | os.PathLike[str] | None = None, threshold: float | None = None
) -> Any:
    """Map a Dask Bag of texts to a Bag of result dicts (``label``, ``score``,
    ``scores``, ``uncertain``), in order.  A text that is not a string is a
    :class:`newsclf.DataError` naming its partition and position."""
    if not hasattr(bag, "to_delayed"):  # not Dask's: refused without importing it
        raise InputTypeError(f"expected a Dask Bag of texts, got {describe(bag)}")
    dask = _dask()
    if not isinstance(bag, dask.bag.Bag):
        # A DataFrame passed the old duck-type check: its column names were classified.
        hint = "; for a DataFrame use classify_dataframe" if hasattr(bag, "columns") else ""
        raise InputTypeError(f"expected a Dask Bag of texts, got {describe(bag)}{hint}")
    ref = artifact_ref(model)  # the model as it is now: a task never gets another
    # One task per partition, told its partition's number for error messages.
    parts = bag.to_delayed(optimize_graph=False)
    return dask.bag.from_delayed(
        [dask.delayed(_classify_texts)(part, i, ref, threshold) for i, part in enumerate(parts)]
    )


def _dask() -> Any:
    """The ``dask`` module with ``dask.bag``, as ``Any``: dask is an optional
    dependency, typed where it is installed and unknown where it is not."""
    import dask
    import dask.bag

    return dask
