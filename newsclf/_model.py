"""The classifier: a data-only recipe run by the numpy engine, behind a small typed API.

Loading and predicting import numpy and the normalizer only -- never
scikit-learn, scipy or pandas.  :attr:`Classifier.pipeline` rebuilds an
equivalent scikit-learn Pipeline on demand, for users who want one.
"""

from __future__ import annotations

import functools
import numbers
import os
import sys
import threading
import types
import warnings
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from itertools import chain, islice
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from newsclf._artifact import (
    Recipe,
    artifact_digest,
    check_target,
    read_artifact,
    write_artifact,
)
from newsclf._engine import block_features, linear_scores, support
from newsclf._errors import (
    ArtifactError,
    InputTypeError,
    InvalidArgumentError,
    check_positive_int,
    describe,
)
from newsclf._paragraphs import article_context, read_with, split_paragraphs
from newsclf._parallel import ForkSafeLock
from newsclf._tokens import check_batch, check_texts

if TYPE_CHECKING:
    from newsclf._evaluate import Report
    from newsclf._parallel import WorkerPool

__all__ = [
    "BUNDLED_MODEL",
    "DEFAULT_THRESHOLD",
    "Classifier",
    "Prediction",
    "bundled_model_path",
    "load",
]

#: Name of the model that ships with the package.
BUNDLED_MODEL = "newsclf-ar"
#: Uncertainty threshold used when an artifact does not record one: a
#: prediction whose top probability is below it is flagged ``uncertain``.
DEFAULT_THRESHOLD = 0.5
#: Texts go through the model this many at a time, so memory stays bounded
#: whatever the length of the input.  One process runs as fast with 1,024,
#: 2,048 or 4,096 (within this machine's noise); with ``n_jobs``, tasks of
#: 2,048 let a worker and this process finish closer together (measured:
#: 1.80x against 1.74x with 4,096, on 40,000 paragraphs, pool warm).
BATCH_SIZE = 2048
#: Below this many batches (up to 10,240 texts at the default size), ``n_jobs > 1``
#: scores in this process: starting a worker would cost more than it saves.
MIN_PARALLEL_BATCHES = 6


@dataclass(frozen=True, slots=True)
class Prediction:
    """The classification of one text.

    ``label`` is the most probable label and ``score`` its probability;
    ``scores`` maps every label to its probability (they sum to 1).
    ``uncertain`` is true when ``score`` is below the threshold, or when the
    text has no feature the model knows (empty text, or nothing but unseen
    words).  For paragraphs of an article, ``index`` is the paragraph's
    position and ``text`` its text.
    """

    label: str
    score: float
    scores: Mapping[str, float] = field(repr=False)
    uncertain: bool
    index: int | None = None
    text: str | None = field(default=None, repr=False)

    def __hash__(self) -> int:
        # As equality: ``scores`` by content (the generated hash failed on its mapping).
        fields = (self.label, self.score, frozenset(self.scores.items()), self.uncertain)
        return hash((*fields, self.index, self.text))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``index`` and ``text`` only when set)."""
        out: dict[str, Any] = {
            "label": self.label,
            "score": self.score,
            "scores": dict(self.scores),
            "uncertain": self.uncertain,
        }
        if self.index is not None:
            out["index"] = self.index
        if self.text is not None:
            out["text"] = self.text
        return out

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # ``scores`` is a read-only view, which pickle cannot copy as such.
        fields = (self.label, self.score, dict(self.scores), self.uncertain, self.index, self.text)
        return (_prediction, fields)


def _prediction(
    label: str,
    score: float,
    scores: dict[str, float],
    uncertain: bool,
    index: int | None,
    text: str | None,
) -> Prediction:
    """A :class:`Prediction` from its pickled fields."""
    return Prediction(label, score, MappingProxyType(scores), uncertain, index, text)


Batch = tuple[list[str], list[str] | None]


class Classifier:
    """A trained newsclf model.  Get one with :func:`newsclf.load` or
    :func:`newsclf.train`.

    ``predict`` and ``predict_proba`` take a batch (any iterable of ``str``);
    ``classify`` takes one text; ``classify_article`` takes a whole article.
    A bare ``str`` where a batch is expected, ``None``, ``bytes`` or any
    non-``str`` item raises :class:`newsclf.InputTypeError`.

    A model with article context reads each paragraph together with its
    article: pass ``contexts`` (one article text per paragraph) to the batch
    methods, or use :meth:`classify_article`; without them, a paragraph is
    its own article.
    """

    def __init__(
        self,
        recipe: Recipe,
        metadata: Mapping[str, Any],
        *,
        path: str | os.PathLike[str] | None = None,
        digest: str | None = None,
    ) -> None:
        self._recipe = recipe
        self._metadata = MappingProxyType(dict(metadata))
        self._labels = recipe.labels
        # Absolute: workers (and this process, after a chdir) find it again.
        self._path = None if path is None else os.path.abspath(path)
        self._digest = digest
        #: A private copy of this model, saved for workers when needed.
        self._copy: tuple[str, str] | None = None
        self._workers: WorkerPool | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        #: Threads sharing this classifier start, replace and stop one pool,
        #: and save one private copy, at a time.
        self._lock = ForkSafeLock(reentrant=True)
        # Each block's slice of the coefficients, transposed for the engine.
        self._coef_t: list[np.ndarray] = []
        offset = 0
        for b in recipe.blocks:
            n = b.block.n_columns
            self._coef_t.append(np.ascontiguousarray(recipe.coef[:, offset : offset + n].T))
            offset += n

    @classmethod
    def from_pipeline(cls, pipeline: Any, metadata: Mapping[str, Any] | None = None) -> Classifier:
        """A classifier from a fitted scikit-learn Pipeline (as
        :func:`newsclf.build_pipeline` makes; a grid search's
        ``best_estimator_``), exported to a recipe.  ``metadata`` adds to or
        replaces what is recorded by default: the name ``newsclf-custom``,
        the default threshold, no training data or metrics, and the
        pipeline's own training settings, so that :attr:`pipeline` (and a
        saved copy) keeps them."""
        from newsclf._features import pipeline_settings, recipe_from_pipeline

        if metadata is None:
            metadata = {}
        if not isinstance(metadata, Mapping):
            raise InputTypeError(f"metadata must be a mapping, got {describe(metadata)}")
        recipe = recipe_from_pipeline(pipeline)
        defaults = {
            "name": "newsclf-custom",
            "uncertainty_threshold": DEFAULT_THRESHOLD,
            "training_data": {},
            "hyperparameters": pipeline_settings(pipeline),
            "metrics": {},
        }
        return cls(recipe, {**defaults, **metadata})

    def __repr__(self) -> str:
        return f"<newsclf.Classifier {self._metadata.get('name', '?')!r} labels={self._labels}>"

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels, in the column order of :meth:`predict_proba`."""
        return self._labels

    @property
    def metadata(self) -> Mapping[str, Any]:
        """The artifact's metadata (read-only)."""
        return self._metadata

    @property
    def threshold(self) -> float:
        """The artifact's uncertainty threshold."""
        return float(self._metadata.get("uncertainty_threshold", DEFAULT_THRESHOLD))

    @property
    def uses_context(self) -> bool:
        """Whether the model reads each paragraph's article beside it."""
        return any(b.input == "article" for b in self._recipe.blocks)

    @property
    def recipe(self) -> Recipe:
        """The data the engine runs (arrays and settings)."""
        return self._recipe

    @property
    def pipeline(self) -> Any:
        """An equivalent fitted scikit-learn Pipeline, rebuilt from the recipe
        (imports scikit-learn), with the settings the model was trained with
        (C, class weights, min_df, seed; alpha for the streaming trainer), so
        that grid search and cross-validation retrain this model's recipe.  A
        model with article context reads an ``n × 2`` array of ``[paragraph, article]``."""
        from newsclf._features import pipeline_from_recipe

        hyperparameters = self._metadata.get("hyperparameters")
        return pipeline_from_recipe(
            self._recipe, hyperparameters if isinstance(hyperparameters, dict) else None
        )

    # --- scoring ----------------------------------------------------------

    def _decision(
        self, texts: list[str], contexts: list[str] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Linear scores and, per text, its number of known paragraph features."""
        rows = self._recipe.coef.shape[0]
        scores = np.zeros((len(texts), rows))
        known = np.zeros(len(texts), np.int64)
        if contexts is not None and contexts == texts:
            contexts = None  # each paragraph is its own article: share its tokens
        own: dict[bool, Any] = {}  # token hashes of the paragraphs, shared by blocks
        for b, coef_t in zip(self._recipe.blocks, self._coef_t, strict=True):
            if b.input == "paragraph" or contexts is None:
                feats = block_features(texts, b.block, own)
                scores += b.weight * linear_scores(feats, coef_t)
                if b.input == "paragraph":
                    known += support(feats)
            else:  # each distinct article once
                index: dict[str, int] = {}
                rows_of = [index.setdefault(a, len(index)) for a in contexts]
                feats = block_features(list(index), b.block)
                scores += b.weight * linear_scores(feats, coef_t)[rows_of]
        return scores + self._recipe.intercept, known

    def _proba_and_support(
        self, texts: list[str], contexts: list[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and, per text, the number of known features."""
        if not texts:
            return np.zeros((0, len(self._labels))), np.zeros(0, dtype=np.int64)
        d, known = self._decision(texts, contexts)
        if d.shape[1] == 1:  # binary: one score for the second label
            p = 1.0 / (1.0 + np.exp(-d[:, 0]))
            return np.column_stack([1.0 - p, p]), known
        if self._recipe.kind == "ovr":
            p = 1.0 / (1.0 + np.exp(-d))
            return p / p.sum(axis=1, keepdims=True), known
        e = np.exp(d - d.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True), known

    @staticmethod
    def _batches(texts: object, contexts: object, batch_size: int) -> Iterator[Batch]:
        """Checked batches of at most ``batch_size`` texts (and their
        contexts); ``texts`` and ``contexts`` are checked now, each batch
        as it is read."""
        items = iter(check_batch(texts, what="texts"))
        ctx = None if contexts is None else iter(check_batch(contexts, what="contexts"))
        return Classifier._batched(items, ctx, batch_size)

    @staticmethod
    def _batched(
        items: Iterator[object], ctx: Iterator[object] | None, batch_size: int
    ) -> Iterator[Batch]:
        offset = 0
        while batch := list(islice(items, batch_size)):
            checked = check_texts(batch, what="texts", offset=offset)
            cbatch = None
            if ctx is not None:
                cbatch = check_texts(list(islice(ctx, len(batch))), what="contexts", offset=offset)
                if len(cbatch) != len(checked):
                    raise InvalidArgumentError(
                        f"expected one context per text, found {offset + len(cbatch)} contexts "
                        f"for at least {offset + len(checked)} texts"
                    )
                cbatch = [read_with(t, c) for t, c in zip(checked, cbatch, strict=True)]
            yield checked, cbatch
            offset += len(batch)
        if ctx is not None and next(ctx, _END) is not _END:
            raise InvalidArgumentError(f"expected one context per text, found more than {offset}")

    def _scores(
        self, texts: object, contexts: object, batch_size: int, n_jobs: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(probabilities, known-feature counts)`` per batch, in order.  The
        arguments are checked now, not when the first batch is asked for: a
        lazy ``classify_many`` refuses ``None`` or ``n_jobs=0`` at the call."""
        from newsclf._parallel import can_start_workers, check_n_jobs

        batch_size = check_positive_int("batch_size", batch_size)
        workers = check_n_jobs(n_jobs)
        if workers > 1 and not can_start_workers():
            warnings.warn(
                f"n_jobs={n_jobs}: this process (a Dask or multiprocessing.Pool worker) may not "
                "start processes; scoring in this process instead",
                RuntimeWarning,
                stacklevel=_caller_level(),
            )
            workers = 1
        return self._scored(self._batches(texts, contexts, batch_size), workers)

    def _scored(
        self, batches: Iterator[Batch], workers: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        head = list(islice(batches, MIN_PARALLEL_BATCHES if workers > 1 else 0))
        if workers == 1 or len(head) < MIN_PARALLEL_BATCHES:
            for t, c in chain(head, batches):
                yield self._proba_and_support(t, c)
            return
        path, digest = self._artifact_ref()
        tasks = ((path, digest, t, c) for t, c in chain(head, batches))
        yield from self._pool(workers, (path, digest)).map_ordered(
            _score_in_worker, tasks, local=lambda _p, _d, t, c: self._proba_and_support(t, c)
        )

    def _pool(self, n_jobs: int, ref: tuple[str, str]) -> WorkerPool:
        """This classifier's own workers for scoring with ``n_jobs`` (≥ 2)
        processes: this one (whenever the oldest task is not back yet) and
        ``n_jobs - 1`` workers.  A worker more would only compete with this
        process for the same CPUs, and start slower.  ``ref`` is
        :meth:`_artifact_ref` now: workers forked from this process take this
        classifier as its model instead of loading it (through a weak
        reference, so the pool never keeps the classifier alive)."""
        from newsclf._parallel import WorkerPool

        workers = n_jobs - 1
        with self._lock:
            if self._workers is None or self._workers.n_jobs != workers:
                self.close()  # a thread streaming from it goes on in its own process
                adopt = functools.partial(_adopt, ref, weakref.ref(self))
                self._workers = WorkerPool(workers, adopt=adopt)
                self._finalizer = weakref.finalize(self, _close_collected, self._workers)
            return self._workers

    def close(self) -> None:
        """Stop this classifier's worker processes, if any (they also stop
        when it is garbage-collected or the interpreter exits).  A call
        still streaming from them, in another thread, goes on in its own."""
        with self._lock:
            if self._workers is not None:
                if self._finalizer is not None:
                    self._finalizer.detach()
                self._workers.close()
                self._workers = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The model's data and where it was loaded from; never its workers.
        return (_classifier, (self._recipe, dict(self._metadata), self._path, self._digest))

    def _artifact_ref(self) -> tuple[str, str]:
        """``(path, digest)`` of an artifact workers can load this model
        from: where it was loaded from, while that still holds this model
        (checked at each call: its metadata file's hash), else a private
        copy saved once."""
        if self._path is not None and self._digest is not None:
            try:
                if artifact_digest(self._path) == self._digest:
                    return self._path, self._digest
            except ArtifactError:
                pass  # gone or replaced since it was loaded: workers get the copy
        with self._lock:
            return self._saved_copy()

    def _saved_copy(self) -> tuple[str, str]:
        if self._copy is None:
            import atexit
            import shutil
            import tempfile

            tmp = tempfile.mkdtemp(prefix="newsclf-model-")
            atexit.register(shutil.rmtree, tmp, ignore_errors=True)
            saved = self.save(Path(tmp) / "model")
            self._copy = (str(saved), read_artifact(saved)[2])
        return self._copy

    # --- public API --------------------------------------------------------

    def predict_proba(
        self,
        texts: Iterable[str],
        *,
        contexts: Iterable[str] | None = None,
        batch_size: int = BATCH_SIZE,
        n_jobs: int = 1,
    ) -> np.ndarray:
        """Probabilities, ``len(texts) × len(labels)``, columns in :attr:`labels` order.

        Texts go through the model ``batch_size`` at a time; with ``n_jobs > 1``
        (``-1``: every CPU) the batches are scored by that many processes:
        this one and ``n_jobs - 1`` workers, each loading the model once.
        """
        parts = [p for p, _ in self._scores(texts, contexts, batch_size, n_jobs)]
        return np.vstack(parts) if parts else np.zeros((0, len(self._labels)))

    def predict(
        self,
        texts: Iterable[str],
        *,
        contexts: Iterable[str] | None = None,
        batch_size: int = BATCH_SIZE,
        n_jobs: int = 1,
    ) -> list[str]:
        """The most probable label of each text (see :meth:`predict_proba`)."""
        proba = self.predict_proba(texts, contexts=contexts, batch_size=batch_size, n_jobs=n_jobs)
        return [self._labels[i] for i in proba.argmax(axis=1)]

    def classify_many(
        self,
        texts: Iterable[str],
        *,
        contexts: Iterable[str] | None = None,
        threshold: float | None = None,
        batch_size: int = BATCH_SIZE,
        n_jobs: int = 1,
    ) -> Iterator[Prediction]:
        """Classify a stream of texts lazily, in batches, in constant memory;
        one :class:`Prediction` per text, in order.  The arguments are
        checked at the call; each text as its batch is read."""
        cut = self._check_threshold(threshold)
        scores = self._scores(texts, contexts, batch_size, n_jobs)
        return (p for proba, known in scores for p in self._predictions(proba, known, cut))

    def _columns(
        self, texts: list[str], threshold: float | None, contexts: list[str] | None = None
    ) -> tuple[list[str], list[float], list[bool]]:
        """``label``, ``score`` and ``uncertain`` of each text (read with its
        context, if any), as three columns computed batch by batch (what
        :meth:`classify_many` gives, without a :class:`Prediction` per text)."""
        cut = self._check_threshold(threshold)
        labels, scores, uncertain = [], [], []
        names = np.array(self._labels, dtype=object)
        for proba, known in self._scores(texts, contexts, BATCH_SIZE, 1):
            best, score, unsure = _best(proba, known, cut)
            labels += names[best].tolist()
            scores += score.tolist()
            uncertain += unsure.tolist()
        return labels, scores, uncertain

    def classify(
        self, text: str, *, context: str | None = None, threshold: float | None = None
    ) -> Prediction:
        """Classify one text (``context``: its article, if known).  Empty or
        blank text is answered, not refused: it is always ``uncertain``."""
        _check_str(text, "text")
        _check_str(context, "context", optional=True)
        contexts = None if context is None else [context]
        return next(self.classify_many([text], contexts=contexts, threshold=threshold))

    def classify_article(
        self, text: str, *, title: str | None = None, threshold: float | None = None
    ) -> list[Prediction]:
        """Split an article with :func:`newsclf.split_paragraphs` and classify
        each paragraph, reading it with its whole article (and ``title``);
        each result carries the paragraph's ``index`` and ``text``."""
        _check_str(text, "text")
        _check_str(title, "title", optional=True)
        paragraphs = split_paragraphs(text)
        context = article_context(paragraphs, title)
        preds = self.classify_many(
            paragraphs, contexts=[context] * len(paragraphs), threshold=threshold
        )
        return [
            replace(p, index=i, text=para)
            for i, (p, para) in enumerate(zip(preds, paragraphs, strict=True))
        ]

    def contributions(
        self, text: str, *, context: str | None = None
    ) -> list[tuple[str, np.ndarray]]:
        """Each known n-gram of ``text`` (and of its article, prefixed
        ``article:``) with its contribution to every label's score."""
        _check_str(text, "text")
        _check_str(context, "context", optional=True)
        out = []
        rows = self._recipe.coef.shape[0]
        for b, coef_t in zip(self._recipe.blocks, self._coef_t, strict=True):
            source = text if b.input == "paragraph" else read_with(text, context)
            feats = block_features([source], b.block)
            names = b.ngrams()
            prefix = "" if b.input == "paragraph" else "article: "
            for col, value in zip(feats.col.tolist(), feats.value.tolist(), strict=True):
                contrib = b.weight * value * coef_t[col]
                if rows == 1:
                    contrib = np.array([-contrib[0], contrib[0]])
                out.append((prefix + names[col], contrib))
        return out

    def explain(
        self,
        text: str,
        *,
        context: str | None = None,
        top: int = 10,
        threshold: float | None = None,
    ) -> dict[str, Any]:
        """Why ``text`` (read with ``context``, its article, if given) got its
        label: the prediction at ``threshold`` (as :meth:`Prediction.to_dict`)
        plus, under ``"features"``, for every label, the ``top`` n-grams that
        pushed hardest towards it, as ``[n-gram, contribution]`` pairs,
        strongest first (only positive contributions)."""
        if isinstance(top, bool) or not isinstance(top, numbers.Integral):
            raise InputTypeError(f"top must be a non-negative int, got {describe(top)}")
        if top < 0:
            raise InvalidArgumentError(f"top must be a non-negative int, got {top}")
        pred = self.classify(text, context=context, threshold=threshold)
        contribs = self.contributions(text, context=context)
        features = {}
        for i, label in enumerate(self._labels):
            ranked = sorted(((c[i], name) for name, c in contribs if c[i] > 0), reverse=True)
            features[label] = [[name, float(v)] for v, name in ranked[: int(top)]]
        return {**pred.to_dict(), "features": features}

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        overwrite: bool = True,
        force: bool = False,
    ) -> Path:
        """Write this model as an artifact directory (see :mod:`newsclf._artifact`),
        atomically.  Raises :class:`ArtifactError`, before writing anything,
        for a target whose replacement would destroy something
        (:func:`check_save_target`), or an existing one without ``overwrite``."""
        check_save_target(path, force=force)
        meta = dict(self._metadata)
        if name is not None:
            meta["name"] = name
        for key in ("format_version", "labels", "recipe", "files", "versions"):
            meta.pop(key, None)
        return write_artifact(self._recipe, path, metadata=meta, overwrite=overwrite)

    def _check_threshold(self, threshold: float | None) -> float:
        if threshold is None:
            return self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise InputTypeError(f"threshold must be a number in [0, 1], got {describe(threshold)}")
        if not 0.0 <= threshold <= 1.0:
            raise InvalidArgumentError(f"threshold must be within [0, 1], got {threshold}")
        return float(threshold)

    def _predictions(
        self, proba: np.ndarray, known: np.ndarray, cut: float
    ) -> Iterator[Prediction]:
        """One :class:`Prediction` per row of a batch (the batch converted to
        Python numbers at once: this runs for every text of a stream)."""
        labels = self._labels
        best, score, uncertain = _best(proba, known, cut)
        for b, row, s, u in zip(
            best.tolist(), proba.tolist(), score.tolist(), uncertain.tolist(), strict=True
        ):
            yield Prediction(
                label=labels[b],
                score=s,
                scores=MappingProxyType(dict(zip(labels, row, strict=True))),
                uncertain=u,
            )

    def evaluate(
        self,
        records: Iterable[Mapping[str, object]] | str | os.PathLike[str],
        *,
        threshold: float | None = None,
        n_errors: int = 20,
    ) -> Report:
        """Score this model on labeled paragraphs; a :class:`newsclf.Report`.

        ``records`` are mappings with string ``text`` and ``label``, and
        optionally ``context`` (the paragraph's article, read with it),
        ``acceptable`` (other defensible labels: gives
        ``acceptable_accuracy``), ``source`` and ``outlet`` (each value also
        scored apart) -- or the path of a file of them, read as ``newsclf
        evaluate`` reads it.  Records whose label the model lacks (data label
        ``none`` is the model's ``other``, unless the model has a ``none``
        label or was trained with ``none`` left out) measure out-of-scope behaviour:
        how many are flagged uncertain at ``threshold`` (default: the
        model's own).  The report lists the ``n_errors`` most confident
        errors with the n-grams behind them; ``report.to_dict()`` is
        JSON-ready and ``report.plots(folder)`` draws it (needs matplotlib).
        Imports scikit-learn.

        Raises :class:`newsclf.DataError` for a record without string
        ``text`` and ``label``, :class:`newsclf.InvalidArgumentError` for a
        threshold outside [0, 1] or a negative ``n_errors``.
        """
        from newsclf._evaluate import Report, evaluate

        cut = self._check_threshold(threshold)
        data = self._metadata.get("training_data")
        excluded = data.get("excluded_labels") if isinstance(data, dict) else None
        excluded = [x for x in excluded if isinstance(x, str)] if isinstance(excluded, list) else []
        return Report._from_metrics(
            evaluate(self, records, threshold=cut, n_errors=n_errors, excluded=excluded)
        )


def _classifier(
    recipe: Recipe, metadata: dict[str, Any], path: str | None, digest: str | None
) -> Classifier:
    """A :class:`Classifier` from its pickled fields (a copy gets its own workers)."""
    return Classifier(recipe, metadata, path=path, digest=digest)


def _check_str(value: object, what: str, *, optional: bool = False) -> None:
    """Refuse, with :class:`InputTypeError`, a ``what`` that is not a str
    (``None`` allowed when ``optional``)."""
    if not isinstance(value, str) and not (optional and value is None):
        hint = "; decode bytes first" if isinstance(value, bytes | bytearray) else ""
        raise InputTypeError(f"{what} must be a str, got {describe(value)}{hint}")


def _best(
    proba: np.ndarray, known: np.ndarray, cut: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of a batch: the best label's index, its probability, and
    whether the prediction is uncertain (below ``cut``, or no known feature)."""
    best = proba.argmax(axis=1)
    score = proba[np.arange(len(best)), best]
    return best, score, (score < cut) | (known == 0)


#: What an exhausted iterator gives (``None`` may be an item).
_END = object()

#: Models this process has loaded, by (resolved path, artifact digest): what
#: worker processes (newsclf's own pool, ``datasets`` map, Dask tasks) use, so
#: each loads a model once and no task is ever scored by another model.
_LOADED: dict[tuple[str, str | None], Classifier] = {}


def model_path(path: object) -> str | os.PathLike[str]:
    """A model's artifact directory: ``path``, or the bundled model's for
    ``None``; :class:`InputTypeError` for anything else (bytes included)."""
    if path is None:
        return bundled_model_path()
    if str(path) == "":  # os.path would read the current folder
        raise InvalidArgumentError("expected a model's path, got '' (None: the bundled model)")
    if not isinstance(path, str | os.PathLike):
        raise InputTypeError(
            f"expected a model's path (str or os.PathLike; None: the bundled model), "
            f"got {describe(path)}"
        )
    return path


def _close_collected(pool: WorkerPool) -> None:
    """Stop the workers of a classifier that was garbage-collected.  A
    collection runs finalizers in whatever thread it interrupts -- loky's
    own queue thread included, where a shutdown that waits for that very
    thread deadlocks (seen in CI) -- so only the main thread waits."""
    pool.close(wait=threading.current_thread() is threading.main_thread())


def _caller_level() -> int:
    """The ``stacklevel`` that makes a warning issued by the caller of this
    function point at the first frame outside newsclf: the user's line,
    through any number of newsclf's own calls."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame: types.FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == package:
        frame, level = frame.f_back, level + 1
    return level


def artifact_ref(path: str | os.PathLike[str] | None) -> tuple[str, str]:
    """``(absolute path, digest)`` of the artifact at ``path`` (``None``:
    the bundled model) as it is now: what a task carries, so that a worker
    scores it with this very model, or fails if it was replaced since."""
    where = os.path.abspath(model_path(path))
    return where, artifact_digest(where)


def _cache_key(path: str | os.PathLike[str] | None, digest: str | None) -> tuple[str, str | None]:
    """Where :func:`load_cached` keeps the model of ``(path, digest)``."""
    return (str(bundled_model_path() if path is None else Path(path).resolve()), digest)


def _adopt(ref: tuple[str, str], clf: weakref.ref[Classifier]) -> None:
    """In a worker forked from the process holding ``clf``: take it as the
    model of ``ref`` (what it was checked to hold when the pool started),
    so that tasks naming ``ref`` do not load it again."""
    if (model := clf()) is not None:
        _LOADED[_cache_key(*ref)] = model


def load_cached(
    path: str | os.PathLike[str] | None = None, digest: str | None = None
) -> Classifier:
    """:func:`load`, once per process, path and digest.  With ``digest``,
    the artifact found at ``path`` must be that one, else :class:`ArtifactError`."""
    key = _cache_key(path, digest)
    if key not in _LOADED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the parent process has already warned
            clf = load(key[0])
        if digest is not None and clf._digest != digest:
            raise ArtifactError(
                f"expected the artifact with digest {digest[:16]}…, found "
                f"{(clf._digest or '')[:16]}…; it was replaced while workers were using it",
                path=key[0],
            )
        _LOADED[key] = clf
    return _LOADED[key]


def _score_in_worker(
    path: str, digest: str, texts: list[str], contexts: list[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """A worker task: score a batch with the model ``(path, digest)``."""
    return load_cached(path, digest)._proba_and_support(texts, contexts)


def check_save_target(path: str | os.PathLike[str], *, force: bool = False) -> None:
    """Refuse, with :class:`ArtifactError`, a target that saving a model
    there would destroy: the bundled model (unless ``force``), a folder
    holding it, and what :func:`~newsclf._artifact.check_target` refuses (a
    file, a folder that is neither empty nor a model)."""
    if not isinstance(path, str | os.PathLike):
        raise InputTypeError(
            f"expected a directory path to save the model in, got {describe(path)}"
        )
    if str(path) == "":
        raise ArtifactError("expected a directory path to save the model in, found ''")
    target = Path(path).resolve()
    try:
        bundled: Path | None = bundled_model_path().resolve()
    except ArtifactError:
        bundled = None
    if bundled is not None and target == bundled and not force:
        raise ArtifactError(
            "this is the bundled model: saving would replace it; save elsewhere, or pass "
            "force=True (--force) to replace it",
            path=str(path),
        )
    if bundled is not None and target != bundled and bundled.is_relative_to(target):
        raise ArtifactError(
            "this folder holds the bundled model: saving would replace the whole folder; "
            "choose a new folder",
            path=str(path),
        )
    check_target(path)


def bundled_model_path() -> Path:
    """Where the bundled model lives: inside the installed wheel, or in the
    ``models/`` folder of a source checkout."""
    packaged = resources.files("newsclf") / "_bundled" / BUNDLED_MODEL
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "models" / BUNDLED_MODEL
    if (checkout / "metadata.json").is_file():
        return checkout
    raise ArtifactError(
        f"expected the bundled model {BUNDLED_MODEL!r} in the package or in models/, found "
        "neither; reinstall newsclf or pass the path of a trained model"
    )


def load(path: str | os.PathLike[str] | None = None) -> Classifier:
    """Load a trained model; with no ``path``, the bundled one.

    Raises :class:`newsclf.ArtifactError` when the artifact is missing,
    malformed or tampered with.  Loading runs nothing from the artifact: it
    is data (JSON, text and ``.npy`` arrays), checked file by file.
    """
    where = model_path(path)
    recipe, metadata, digest = read_artifact(where)
    return Classifier(recipe, metadata, path=where, digest=digest)
