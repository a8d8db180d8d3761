"""Hugging Face ``datasets`` integration: label a Dataset without leaving Arrow."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["DatasetAnnotator", "annotate_dataset"]


class DatasetAnnotator:
    """A picklable batch function for ``Dataset.map(..., batched=True)``:
    adds ``label``, ``score`` and ``uncertain`` columns (prefix with
    ``prefix``) computed from ``text_column``."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        text_column: str = "text",
        threshold: float | None = None,
        prefix: str = "",
    ) -> None:
        from newsclf._model import bundled_model_path

        self.path = str(bundled_model_path() if path is None else path)
        self.text_column = text_column
        self.threshold = threshold
        self.prefix = prefix

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        # Dataset.map(num_proc=N) pickles this object into each worker, which
        # then loads the model once (load_cached).
        from newsclf._errors import DataError
        from newsclf._model import load_cached, result_columns

        if self.text_column not in batch:
            raise DataError(
                f"expected a text column {self.text_column!r}, found columns {sorted(batch)}"
            )
        clf = load_cached(self.path)
        preds = clf.classify_many(batch[self.text_column], threshold=self.threshold)
        return result_columns(preds, self.prefix)


def annotate_dataset(
    ds: Any,
    *,
    text_column: str = "text",
    model: str | os.PathLike[str] | None = None,
    threshold: float | None = None,
    prefix: str = "",
    batch_size: int = 1000,
    num_proc: int | None = None,
) -> Any:
    """Return ``ds`` (a ``datasets.Dataset``) with ``label``, ``score`` and
    ``uncertain`` columns added, via ``ds.map(batched=True)``; ``num_proc``
    runs that many processes, each loading the model once."""
    return ds.map(
        DatasetAnnotator(model, text_column=text_column, threshold=threshold, prefix=prefix),
        batched=True,
        batch_size=batch_size,
        num_proc=num_proc,
        desc="newsclf",
    )
