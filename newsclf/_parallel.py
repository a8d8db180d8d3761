"""Scoring batches in worker processes (joblib's loky executor).

Each worker loads the model once, from its artifact directory, when it
starts -- the model is never pickled per batch -- and the artifact is
validated there as everywhere (hash checked before unpickling).  At most
``2 × n_jobs`` batches are in flight, so memory stays bounded on any stream,
and results come back in input order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from typing import Any

import numpy as np

__all__ = ["parallel_scores"]

_WORKER: dict[str, Any] = {}


def _init_worker(path: str) -> None:
    import warnings

    from newsclf._model import load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the parent process has already warned
        _WORKER["clf"] = load(path)


def _score(batch: list[str]) -> tuple[np.ndarray, np.ndarray]:
    clf = _WORKER["clf"]
    return clf._proba_and_support(batch)  # type: ignore[no-any-return]


def parallel_scores(
    path: str, batches: Iterable[list[str]], n_jobs: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(probabilities, known-feature counts)`` of each batch, in order."""
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(
        max_workers=n_jobs, initializer=_init_worker, initargs=(path,), reuse=True
    )
    pending: deque[Future[tuple[np.ndarray, np.ndarray]]] = deque()
    for batch in batches:
        pending.append(executor.submit(_score, batch))
        if len(pending) >= 2 * n_jobs:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
