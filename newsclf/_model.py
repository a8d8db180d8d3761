"""The classifier: a scikit-learn Pipeline behind a small, typed API."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from itertools import islice
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from newsclf._artifact import artifact_digest, read_artifact, write_artifact
from newsclf._errors import ArtifactError, InputTypeError, InvalidArgumentError, describe
from newsclf._features import ArabicFeaturizer, check_batch, check_texts
from newsclf._paragraphs import split_paragraphs

if TYPE_CHECKING:
    from newsclf._parallel import WorkerPool

__all__ = [
    "BUNDLED_MODEL",
    "DEFAULT_THRESHOLD",
    "Classifier",
    "Prediction",
    "build_pipeline",
    "bundled_model_path",
    "load",
]

#: Name of the model that ships with the package.
BUNDLED_MODEL = "newsclf-ar"
#: Uncertainty threshold used when an artifact does not record one: a
#: prediction whose top probability is below it is flagged ``uncertain``.
DEFAULT_THRESHOLD = 0.5
#: Texts go through the model this many at a time, so memory stays bounded
#: whatever the length of the input.
BATCH_SIZE = 4096


def build_pipeline(
    *,
    C: float = 10.0,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int = 2,
    class_weight: str | None = "balanced",
    seed: int = 0,
) -> Pipeline:
    """The untrained newsclf model: :class:`ArabicFeaturizer` then a
    multinomial logistic regression (classes weighted by inverse frequency,
    so a rare label is not drowned by a common one)."""
    return Pipeline(
        [
            ("features", ArabicFeaturizer(ngram_range=ngram_range, min_df=min_df)),
            (
                "clf",
                LogisticRegression(
                    C=C, class_weight=class_weight, max_iter=2000, random_state=seed
                ),
            ),
        ]
    )


@dataclass(frozen=True, slots=True)
class Prediction:
    """The classification of one text.

    ``label`` is the most probable label and ``score`` its probability;
    ``scores`` maps every label to its probability (they sum to 1).
    ``uncertain`` is true when ``score`` is below the threshold, or when the
    text has no feature the model knows (empty text, or nothing but unseen
    words): then ``scores`` are only the model's prior.  For paragraphs of an
    article, ``index`` is the paragraph's position and ``text`` its text.
    """

    label: str
    score: float
    scores: Mapping[str, float] = field(repr=False)
    uncertain: bool
    index: int | None = None
    text: str | None = field(default=None, repr=False)

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


class Classifier:
    """A trained newsclf model.  Get one with :func:`newsclf.load`.

    ``predict`` and ``predict_proba`` take a batch (any iterable of ``str``);
    ``classify`` takes one text; ``classify_article`` takes a whole article.
    A bare ``str`` where a batch is expected, ``None``, ``bytes`` or any
    non-``str`` item raises :class:`newsclf.InputTypeError`.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        metadata: Mapping[str, Any],
        *,
        path: str | os.PathLike[str] | None = None,
        digest: str | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._metadata = MappingProxyType(dict(metadata))
        self._labels = tuple(str(c) for c in pipeline.classes_)
        self._path = None if path is None else str(path)
        self._digest = digest
        self._workers: WorkerPool | None = None
        self._finalizer: weakref.finalize[Any, Any]

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
    def pipeline(self) -> Pipeline:
        """The underlying scikit-learn pipeline (featurizer, then classifier)."""
        return self._pipeline

    def _proba_and_support(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and, per text, the number of known features."""
        if not texts:
            return np.zeros((0, len(self._labels))), np.zeros(0, dtype=np.int64)
        X = self._pipeline[:-1].transform(texts)
        proba = self._pipeline[-1].predict_proba(X)
        return proba, np.diff(X.indptr)

    @staticmethod
    def _batches(texts: object, batch_size: int) -> Iterator[list[str]]:
        """Checked batches of at most ``batch_size`` texts, from any iterable."""
        items = iter(check_batch(texts, what="texts"))
        offset = 0
        while batch := list(islice(items, batch_size)):
            yield check_texts(batch, what="texts", offset=offset)
            offset += len(batch)

    def _scores(
        self, texts: object, batch_size: int, n_jobs: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(probabilities, known-feature counts)`` per batch, in order."""
        from newsclf._parallel import check_n_jobs

        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise InputTypeError(f"batch_size must be a positive int, got {describe(batch_size)}")
        if batch_size < 1:
            raise InvalidArgumentError(f"batch_size must be a positive int, got {batch_size}")
        workers = check_n_jobs(n_jobs)
        batches = self._batches(texts, batch_size)
        if workers == 1:
            yield from map(self._proba_and_support, batches)
            return
        path, digest = self._artifact_ref()
        yield from self._pool(workers).map_ordered(
            _score_in_worker, ((path, digest, b) for b in batches)
        )

    def _pool(self, n_jobs: int) -> WorkerPool:
        """This classifier's own worker pool of ``n_jobs`` processes."""
        from newsclf._parallel import WorkerPool

        if self._workers is None or self._workers.n_jobs != n_jobs:
            self.close()
            self._workers = WorkerPool(n_jobs)
            self._finalizer = weakref.finalize(self, self._workers.close)
        return self._workers

    def close(self) -> None:
        """Stop this classifier's worker processes, if any (they also stop
        when it is garbage-collected or the interpreter exits)."""
        if self._workers is not None:
            self._finalizer.detach()
            self._workers.close()
            self._workers = None

    def __enter__(self) -> Classifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _artifact_ref(self) -> tuple[str, str]:
        """``(path, digest)`` of an artifact workers can load this model
        from: where it was loaded from, or a private copy saved once."""
        if self._path is None:
            import atexit
            import shutil
            import tempfile

            tmp = tempfile.mkdtemp(prefix="newsclf-model-")
            atexit.register(shutil.rmtree, tmp, ignore_errors=True)
            self._path = str(self.save(Path(tmp) / "model"))
            self._digest = artifact_digest(self._path)
        assert self._digest is not None
        return self._path, self._digest

    def predict_proba(
        self, texts: Iterable[str], *, batch_size: int = BATCH_SIZE, n_jobs: int = 1
    ) -> np.ndarray:
        """Probabilities, ``len(texts) × len(labels)``, columns in :attr:`labels` order.

        Texts go through the model ``batch_size`` at a time; with ``n_jobs > 1``
        the batches are scored by that many worker processes, each loading
        the model once.
        """
        parts = [p for p, _ in self._scores(texts, batch_size, n_jobs)]
        return np.vstack(parts) if parts else np.zeros((0, len(self._labels)))

    def predict(
        self, texts: Iterable[str], *, batch_size: int = BATCH_SIZE, n_jobs: int = 1
    ) -> list[str]:
        """The most probable label of each text (see :meth:`predict_proba`)."""
        proba = self.predict_proba(texts, batch_size=batch_size, n_jobs=n_jobs)
        return [self._labels[i] for i in proba.argmax(axis=1)]

    def classify_many(
        self,
        texts: Iterable[str],
        *,
        threshold: float | None = None,
        batch_size: int = BATCH_SIZE,
        n_jobs: int = 1,
    ) -> Iterator[Prediction]:
        """Classify a stream of texts lazily, in batches, in constant memory;
        one :class:`Prediction` per text, in order.  ``n_jobs > 1`` scores the
        batches in that many worker processes."""
        cut = self._check_threshold(threshold)
        for proba, support in self._scores(texts, batch_size, n_jobs):
            yield from (self._prediction(p, n, cut) for p, n in zip(proba, support, strict=True))

    def classify(self, text: str, *, threshold: float | None = None) -> Prediction:
        """Classify one text.  Empty or blank text is answered, not refused:
        its scores are the model's prior and it is always ``uncertain``."""
        if not isinstance(text, str):
            raise InputTypeError(f"classify() expected a str, got {describe(text)}")
        return next(self.classify_many([text], threshold=threshold))

    def classify_article(self, text: str, *, threshold: float | None = None) -> list[Prediction]:
        """Split an article with :func:`newsclf.split_paragraphs` and classify
        each paragraph; each result carries the paragraph's ``index`` and ``text``."""
        if not isinstance(text, str):
            raise InputTypeError(f"classify_article() expected a str, got {describe(text)}")
        paragraphs = split_paragraphs(text)
        preds = self.classify_many(paragraphs, threshold=threshold)
        return [
            _replace(p, index=i, text=para)
            for i, (p, para) in enumerate(zip(preds, paragraphs, strict=True))
        ]

    def explain(self, text: str, *, top: int = 10) -> dict[str, Any]:
        """Why ``text`` got its label: the prediction (as :meth:`Prediction.to_dict`)
        plus, under ``"features"``, for every label, the ``top`` n-grams of the
        text that pushed hardest towards it, as ``[n-gram, contribution]``
        pairs, strongest first (only positive contributions)."""
        from newsclf._evaluate import top_features

        pred = self.classify(text)
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise InputTypeError(f"top must be a non-negative int, got {describe(top)}")
        by_label = {
            label: [[name, value] for name, value in feats]
            for label, (feats,) in (
                (lab, top_features(self, [text], [i], k=top)) for i, lab in enumerate(self._labels)
            )
        }
        return {**pred.to_dict(), "features": by_label}

    def save(self, path: str | os.PathLike[str], *, name: str | None = None) -> Path:
        """Write this model as an artifact directory (see :mod:`newsclf._artifact`)."""
        meta = dict(self._metadata)
        if name is not None:
            meta["name"] = name
        meta.pop("created", None)
        return write_artifact(self._pipeline, path, metadata=meta)

    def _check_threshold(self, threshold: float | None) -> float:
        if threshold is None:
            return self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InputTypeError(f"threshold must be a number in [0, 1], got {describe(threshold)}")
        if not 0.0 <= threshold <= 1.0:
            raise InvalidArgumentError(f"threshold must be within [0, 1], got {threshold}")
        return float(threshold)

    def _prediction(self, proba: np.ndarray, support: int, cut: float) -> Prediction:
        best = int(np.argmax(proba))
        score = float(proba[best])
        return Prediction(
            label=self._labels[best],
            score=score,
            scores=MappingProxyType(
                {lab: float(p) for lab, p in zip(self._labels, proba, strict=True)}
            ),
            uncertain=bool(score < cut or support == 0),
        )


def _replace(p: Prediction, **changes: Any) -> Prediction:
    from dataclasses import replace

    return replace(p, **changes)


#: Models this process has loaded, by (resolved path, artifact digest): what
#: worker processes (newsclf's own pool, ``datasets`` map, Dask tasks) use, so
#: each loads a model once and no task is ever scored by another model.
_LOADED: dict[tuple[str, str | None], Classifier] = {}


def load_cached(path: str | os.PathLike[str] | None = None, digest: str | None = None) -> Classifier:
    """:func:`load`, once per process, path and digest.  With ``digest``,
    the artifact found at ``path`` must be that one (:func:`artifact_digest`),
    else :class:`ArtifactError`."""
    key = (str(bundled_model_path() if path is None else Path(path).resolve()), digest)
    if key not in _LOADED:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the parent process has already warned
            clf = load(key[0])
        if digest is not None and clf._digest != digest:
            raise ArtifactError(
                f"expected the artifact with digest {digest[:16]}…, found {clf._digest[:16]}…; "
                "it was replaced while workers were using it",
                path=key[0],
            )
        _LOADED[key] = clf
    return _LOADED[key]


def _score_in_worker(path: str, digest: str, batch: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A worker task: score ``batch`` with the model ``(path, digest)``."""
    return load_cached(path, digest)._proba_and_support(batch)


def result_columns(preds: Iterable[Prediction], prefix: str = "") -> dict[str, list[Any]]:
    """Predictions as ``label`` / ``score`` / ``uncertain`` columns."""
    preds = list(preds)
    return {
        f"{prefix}label": [p.label for p in preds],
        f"{prefix}score": [p.score for p in preds],
        f"{prefix}uncertain": [p.uncertain for p in preds],
    }


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
    malformed or tampered with.  Only load artifacts you trust: they are
    pickles (see :mod:`newsclf._artifact`).
    """
    if path is not None and not isinstance(path, str | os.PathLike):
        raise InputTypeError(f"load() expected a path, got {describe(path)}")
    where = bundled_model_path() if path is None else path
    pipeline, metadata = read_artifact(where)
    return Classifier(pipeline, metadata, path=where, digest=artifact_digest(where))
