"""Classify Dask collections of texts: ``pip install 'newsclf[dask]'``.

>>> import dask.dataframe as dd, newsclf.dask
>>> ddf = dd.read_parquet("archive/*.parquet")
>>> labeled = newsclf.dask.classify_dataframe(ddf, text_column="text")
>>> labeled.to_parquet("labeled/")

Each Dask worker process loads the model once, from the artifact directory,
the first time one of its tasks needs it, and keeps it (a per-process cache
keyed by path): the model is never shipped with each partition.  The
artifact directory must be readable at the same path on every worker -- on a
real cluster, a shared filesystem or the model installed with newsclf on
each worker (the bundled model always is).  The same code runs on a
``LocalCluster`` and on a remote scheduler address.
"""

from __future__ import annotations

import os
from typing import Any

from newsclf._model import load_cached, result_columns

__all__ = ["classify_bag", "classify_dataframe"]


def _resolve(model: str | os.PathLike[str] | None) -> str:
    from newsclf._model import bundled_model_path

    return str(bundled_model_path() if model is None else os.path.abspath(model))


def _classify_partition(
    df: Any, path: str, text_column: str, threshold: float | None, prefix: str
) -> Any:
    preds = load_cached(path).classify_many(df[text_column].tolist(), threshold=threshold)
    return df.assign(**result_columns(preds, prefix))


def classify_dataframe(
    ddf: Any,
    *,
    text_column: str = "text",
    model: str | os.PathLike[str] | None = None,
    threshold: float | None = None,
    prefix: str = "",
) -> Any:
    """Add ``label`` (string), ``score`` (float64) and ``uncertain`` (bool)
    columns to a Dask DataFrame, partition by partition."""
    import pandas as pd

    path = _resolve(model)
    meta = ddf._meta.copy()
    # Whatever dtype this pandas gives a column of strings ("str" in pandas 3).
    meta[f"{prefix}label"] = pd.Series(["label"]).iloc[:0]
    meta[f"{prefix}score"] = pd.Series(dtype="float64")
    meta[f"{prefix}uncertain"] = pd.Series(dtype="bool")
    return ddf.map_partitions(_classify_partition, path, text_column, threshold, prefix, meta=meta)


def _classify_texts(texts: list[str], path: str, threshold: float | None) -> list[dict[str, Any]]:
    return [p.to_dict() for p in load_cached(path).classify_many(list(texts), threshold=threshold)]


def classify_bag(
    bag: Any, *, model: str | os.PathLike[str] | None = None, threshold: float | None = None
) -> Any:
    """Map a Dask Bag of texts to a Bag of result dicts (``label``, ``score``,
    ``scores``, ``uncertain``), in order."""
    return bag.map_partitions(_classify_texts, _resolve(model), threshold)
