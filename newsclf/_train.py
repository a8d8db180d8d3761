"""Training: labeled records in, a validated artifact out.

``newsclf train --data my.jsonl --out models/mine`` (or ``newsclf-train``)
reads labeled records (see :mod:`newsclf._data`), splits them by article,
fits :func:`newsclf.build_pipeline`, scores the held-out part and writes an
artifact whose metadata carries the data hash, hyper-parameters and metrics.
Same data and seed give the same model and the same predictions.

The library never prints: progress goes to ``log`` (by default the
``newsclf`` logger, at INFO) and warnings to the ``newsclf`` logger.  The
command (:func:`run`) shows both on stderr and prints its summary on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import numbers
import os
import sys
import tempfile
import time
import warnings
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from newsclf._argtypes import Parser, fraction, integer, positive
from newsclf._data import (
    acceptable_labels,
    article_id,
    check_context,
    check_label,
    check_split,
    data_sha256,
    fold_label,
    iter_records,
    near_labels,
    record_bytes,
    record_list,
)
from newsclf._errors import (
    DataError,
    InputTypeError,
    InvalidArgumentError,
    NewsclfError,
    describe,
    value_kind,
)
from newsclf._json import LONE_SURROGATE
from newsclf._paragraphs import read_with
from newsclf._records import UsageError

if TYPE_CHECKING:
    from newsclf._model import Classifier

__all__ = ["main", "split_records", "train", "train_streaming"]

#: Records with these labels are left out of training by default: ``none``
#: marks out-of-scope paragraphs, kept to measure how the model treats them.
DEFAULT_EXCLUDE = ("none",)


_LOGGER = logging.getLogger("newsclf")


def _check_test_size(test_size: float) -> None:
    if (
        isinstance(test_size, bool)
        or not isinstance(test_size, int | float)
        or not 0.0 <= test_size < 1.0  # also refuses NaN
    ):
        raise InvalidArgumentError(
            f"test_size must be the share of articles held out, in [0, 1), got {test_size!r}"
        )


def _number(
    value: object,
    what: str,
    low: float,
    high: float,
    *,
    integral: bool = False,
    expected: str | None = None,
) -> None:
    """Refuse a ``value`` that is not a number (an int, with ``integral``;
    numpy's included) within [low, high] (``expected`` says it otherwise):
    :class:`InputTypeError` for the type, :class:`InvalidArgumentError` for
    the range (NaN included)."""
    kinds = numbers.Integral if integral else numbers.Real
    kind = "an int" if integral else "a number"
    expected = expected or f"{kind} in [{_bound(low)}, {_bound(high)}]"
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise InputTypeError(f"{what} must be {expected}, got {describe(value)}")
    # As a Python number: numpy's would cast the bound to its own type.
    number = int(value) if isinstance(value, numbers.Integral) else float(value)
    if not low <= number <= high:
        raise InvalidArgumentError(f"{what} must be {expected}, got {value!r:.40}")


def _bound(x: float) -> str:
    return str(int(x)) if math.isfinite(x) and x == int(x) else str(x)


def _positive(value: object, what: str) -> None:
    """Refuse a ``value`` that is not a positive finite number."""
    # Finite: at most the largest float (a larger int would not convert).
    _number(value, what, 0, sys.float_info.max, expected="a positive finite number")
    if value == 0:
        raise InvalidArgumentError(f"{what} must be a positive finite number, got {value!r}")


def _pipeline_parameters(
    *,
    seed: object,
    C: object,
    ngram_range: object,
    min_df: object,
    context_weight: object,
    class_weight: object,
) -> dict[str, Any]:
    """The arguments of :func:`~newsclf.build_pipeline` for :func:`train`,
    refused before any work if they would fail deep inside scikit-learn or
    write an artifact that cannot be loaded; as Python numbers (numpy's
    too: they go into the metadata's JSON)."""
    from newsclf._artifact import MAX_NGRAM, MAX_WEIGHT

    _number(seed, "seed", 0, 2**32 - 1, integral=True)
    _positive(C, "C")
    grams = f"(low, high) with 1 <= low <= high <= {MAX_NGRAM}"
    if (
        not isinstance(ngram_range, tuple | list)
        or len(ngram_range) != 2
        or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in ngram_range)
    ):
        raise InputTypeError(f"ngram_range must be {grams}, got {describe(ngram_range)}")
    if not 1 <= ngram_range[0] <= ngram_range[1] <= MAX_NGRAM:
        raise InvalidArgumentError(f"ngram_range must be {grams}, got {ngram_range!r}")
    _number(min_df, "min_df", 1, math.inf, integral=True)
    if context_weight is not None:
        _number(context_weight, "context_weight", 0, MAX_WEIGHT)
    if not (class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced")):
        raise InvalidArgumentError(
            f"class_weight must be 'balanced' or None, got {describe(class_weight)}"
        )
    return {
        "seed": int(seed),  # type: ignore[call-overload]
        "C": float(C),  # type: ignore[arg-type]
        "ngram_range": (int(ngram_range[0]), int(ngram_range[1])),
        "min_df": int(min_df),  # type: ignore[call-overload]
        "context_weight": None if context_weight is None else float(context_weight),  # type: ignore[arg-type]
        "class_weight": class_weight,
    }


def _check_run_options(exclude_labels: object, name: object, log: object) -> None:
    """The options both trainers take: the labels to leave out, the model's
    name and where the log goes."""
    if not callable(log):
        raise InputTypeError(f"log must be a function of one str, got {describe(log)}")
    if isinstance(exclude_labels, str) or not isinstance(exclude_labels, Iterable):
        raise InputTypeError(
            f"exclude_labels must be a collection of labels, got {describe(exclude_labels)}; "
            "wrap one label in a list: ['sport']"
        )
    if not isinstance(name, str) or not name:
        raise InputTypeError(f"name must be a non-empty str, got {describe(name)}")


def _warn_near_labels(labels: Sequence[str]) -> None:
    """Warn about labels that differ only in case or surrounding spaces
    (``military`` and ``Military ``): each is learned as a label of its own."""
    folded: dict[str, list[str]] = {}
    for label in labels:
        folded.setdefault(fold_label(label), []).append(label)
    near = [names for names in folded.values() if len(names) > 1]
    if near:
        _LOGGER.warning(
            "labels %s differ only in case or spaces: each is learned as a label of its own",
            near,
        )


def _warn_excluded_near_labels(excluded: set[str], labels: set[str]) -> None:
    """Warn about an excluded label no record has while one differs from it
    only in case or spaces (``--exclude-labels None`` on data labeled
    ``none``): that label is learned, not left out."""
    for name, near in near_labels(excluded, labels).items():
        _LOGGER.warning(
            "no record is labeled %r (left out of training), but some are labeled %r, "
            "which is learned as a label (case and spaces count)",
            name,
            near,
        )


def _warn_conflicting(records: Sequence[Mapping[str, Any]], context: bool) -> None:
    """Warn about the same text given different labels (with ``context``: in
    the same article): the model is asked to learn both, which is usually a
    labeling mistake.  Names the first such pair of records."""
    first: dict[tuple[str, str], int] = {}
    conflicts: list[tuple[int, int]] = []
    for i, r in enumerate(records):
        key = (r["text"], _context_or_text(r) if context else "")
        j = first.setdefault(key, i)
        if j != i and records[j]["label"] != r["label"]:
            conflicts.append((j, i))
    texts = len({j for j, _ in conflicts})
    if texts:
        j, i = conflicts[0]
        _LOGGER.warning(
            "%d text%s labeled differently in different records%s (first: record %d %r, "
            "record %d %r); the model learns both labels for it: check the labels",
            texts,
            " is" if texts == 1 else "s are",
            " of the same article" if context else "",
            j,
            records[j]["label"],
            i,
            records[i]["label"],
        )


def _warn_rare_labels(counts: Counter[str]) -> None:
    """Warn about labels with a single training record: one example teaches
    the model its words, not its topic."""
    rare = sorted(label for label, n in counts.items() if n == 1)
    if rare:
        _LOGGER.warning(
            "labels %s have a single training record each; the model can hardly learn them",
            rare,
        )


def _article(record: Mapping[str, Any], fallback: str) -> str:
    """The record's article id (:func:`~newsclf._data.article_id`: its
    ``group``, else ``doc_id``), else ``fallback``: the record is its own article."""
    return article_id(record) or fallback


def _empty_texts(n: int) -> DataError:
    return DataError(
        f"all {n} training texts are empty: expected paragraphs of text; check that the "
        "text field names the column that holds them (--text-field)"
    )


def _field_kind(record: Mapping[str, Any], key: str) -> str:
    return value_kind(record[key]) if key in record else "missing"


def _check_record(i: int, r: object) -> None:
    """A record ``train`` can use: string ``text`` and a non-empty string ``label``."""
    if not isinstance(r, Mapping):
        raise DataError(f"record {i}: expected a dict with 'text' and 'label', found {describe(r)}")
    text, label = r.get("text"), r.get("label")
    if not isinstance(text, str) or not isinstance(label, str):
        raise DataError(
            f"record {i}: expected string fields 'text' and 'label', found "
            f"{_field_kind(r, 'text')} and {_field_kind(r, 'label')}"
        )
    check_label(f"record {i}", label)
    check_split(f"record {i}", r.get("split"))
    check_context(f"record {i}", r.get("context"))
    for field, value in (("text", text), ("label", label)):
        if LONE_SURROGATE.search(value):
            raise DataError(f"record {i}: the {field} holds a lone surrogate, which is not Unicode")
    acceptable_labels(f"record {i}", r.get("acceptable"))


def _drop_repeated(
    seen: set[str], test_rows: Sequence[Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], int]:
    """``test_rows`` without those whose text is in ``seen`` (the training
    texts), and how many were left out: the same paragraph under two articles
    (groups) may land on both sides of the split, and scoring it would
    flatter the model."""
    kept = [r for r in test_rows if r["text"] not in seen]
    return kept, len(test_rows) - len(kept)


def _warn_repeated(n: int) -> None:
    if n:
        _LOGGER.warning(
            "%d held-out records repeat a training text exactly (the same text in different "
            "articles); they are left out of the held-out scores "
            "(metadata: training_data.duplicates_across_split)",
            n,
        )


def split_records(
    records: Sequence[Mapping[str, Any]], *, test_size: float, seed: int
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Split into (train, test).  Records with a ``split`` field keep it;
    the others are split by ``group`` (article) so no article lands on both
    sides; a record without a group is its own group."""
    fixed_train = [r for r in records if r.get("split") == "train"]
    fixed_test = [r for r in records if r.get("split") == "test"]
    free = [r for r in records if r.get("split") not in ("train", "test")]
    if not free:
        return fixed_train, fixed_test
    groups = [_article(r, f"#record-{i}") for i, r in enumerate(free)]
    unique = sorted(set(groups))
    rng = np.random.default_rng(seed)
    n_test = max(1, round(len(unique) * test_size)) if test_size > 0 else 0
    test_groups = set(rng.permutation(unique)[:n_test].tolist())
    train = fixed_train + [r for r, g in zip(free, groups, strict=True) if g not in test_groups]
    test = fixed_test + [r for r, g in zip(free, groups, strict=True) if g in test_groups]
    return train, test


def _timed(what: str, fn: Callable[[], Any], log: Callable[[str], None]) -> Any:
    log(f"{what} ...")
    start = time.perf_counter()
    out = fn()
    log(f"{what}: done in {time.perf_counter() - start:.1f} s")
    return out


def _inputs(rows: Sequence[Mapping[str, Any]], context: bool) -> Any:
    """What the Pipeline reads: texts, or ``[text, article]`` pairs (a record
    without a ``context`` is its own article)."""
    if not context:
        return [r["text"] for r in rows]
    return np.array([[r["text"], _context_or_text(r)] for r in rows], dtype=object)


def _context_or_text(record: Mapping[str, Any]) -> str:
    """The article a training record is read with: its ``context``, or itself
    when that is absent, blank or not a string (NaN: an empty cell through
    pandas), as every prediction reads it (:func:`~newsclf._paragraphs.read_with`)."""
    return read_with(str(record["text"]), record.get("context"))


def _choose_threshold(
    pipeline: Any,
    train_rows: Sequence[Mapping[str, Any]],
    out_scope_train: Sequence[Mapping[str, Any]],
    *,
    context: bool,
    seed: int,
    log: Callable[[str], None],
) -> float:
    """The uncertainty threshold, picked on training data only: out-of-fold
    probabilities of the in-scope training paragraphs (grouped 4-fold) and
    the fitted model's probabilities on out-of-scope training paragraphs."""
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from newsclf._evaluate import coverage_curve, pick_threshold
    from newsclf._model import DEFAULT_THRESHOLD

    groups = [_article(r, f"#record-{i}") for i, r in enumerate(train_rows)]
    if not out_scope_train or len(set(groups)) < 4:
        return DEFAULT_THRESHOLD
    texts = _inputs(train_rows, context)
    y = np.array([r["label"] for r in train_rows])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        oof = _timed(
            "choosing the uncertainty threshold (4-fold out-of-fold probabilities)",
            lambda: cross_val_predict(
                clone(pipeline),
                texts,
                y,
                groups=groups,
                cv=GroupKFold(n_splits=4),
                method="predict_proba",
            ),
            log,
        )
    # scikit-learn's warning that a fold lacked a label names no label: say which.
    lacking = "Number of classes in training fold"
    for w in caught:
        if not (issubclass(w.category, RuntimeWarning) and lacking in str(w.message)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if any(lacking in str(w.message) for w in caught):
        counts = Counter(y.tolist())
        _LOGGER.warning(
            "the threshold's 4-fold cross-validation had folds without any training paragraph "
            "of a label (the rarest: %s)",
            ", ".join(
                f"{label} {n}" for label, n in sorted(counts.items(), key=lambda c: c[1])[:3]
            ),
        )
    correct = pipeline.classes_[oof.argmax(axis=1)] == y
    oos = pipeline.predict_proba(_inputs(out_scope_train, context)).max(axis=1)
    return pick_threshold(coverage_curve(oof.max(axis=1), correct, oos))


def train(
    records: Iterable[Mapping[str, Any]] | str | os.PathLike[str],
    *,
    seed: int = 0,
    test_size: float = 0.15,
    C: float = 10.0,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int = 2,
    context_weight: float | None = None,
    class_weight: str | None = "balanced",
    exclude_labels: Iterable[str] = DEFAULT_EXCLUDE,
    threshold: float | None = None,
    name: str = "newsclf-model",
    description: str = "",
    log: Callable[[str], None] = _LOGGER.info,
) -> Classifier:
    """Fit a model on ``records`` and score it on a held-out split.

    ``records`` are dicts with ``text`` and ``label`` (and optionally
    ``group``, ``split``, ``source``, ``outlet``, ``acceptable`` and
    ``context``: the paragraph's whole article), a ``datasets.Dataset``, or
    the path of a file of them, read as ``newsclf train`` reads it (JSONL,
    CSV, TSV, or anything Hugging Face ``datasets`` reads).  With ``context_weight``,
    the model reads each paragraph with its article (see
    :func:`newsclf.build_pipeline`).  Records whose label is in
    ``exclude_labels`` are left out of training and measure out-of-scope
    behaviour instead.  A held-out record whose text is also a training
    text (the same paragraph in another article) is left out of the scores,
    with a warning; ``metadata["training_data"]["duplicates_across_split"]``
    counts them.  Progress goes to ``log`` (default: the ``newsclf`` logger).
    Returns the trained :class:`newsclf.Classifier`, its metadata holding
    the data hash, hyper-parameters and held-out metrics.

    Raises :class:`DataError` when the records cannot train a model (fewer
    than 2 labels, only empty texts, no n-gram in at least ``min_df`` texts)
    and :class:`InvalidArgumentError` for a ``test_size`` outside [0, 1).
    """
    from newsclf._evaluate import evaluate
    from newsclf._features import build_pipeline
    from newsclf._model import Classifier

    _check_test_size(test_size)
    fit = _pipeline_parameters(
        seed=seed,
        C=C,
        ngram_range=ngram_range,
        min_df=min_df,
        context_weight=context_weight,
        class_weight=class_weight,
    )
    _check_run_options(exclude_labels, name, log)
    if threshold is not None:
        _number(threshold, "threshold", 0, 1)
        threshold = float(threshold)
    seed, context = fit["seed"], fit["context_weight"] is not None
    records = record_list(records)
    for i, r in enumerate(records):
        _check_record(i, r)
    if context and not any(isinstance(r.get("context"), str) and r["context"] for r in records):
        _LOGGER.warning(
            "context_weight is set, but no record has a context (its article's text): each "
            "paragraph is read with itself as its article"
        )
    _warn_conflicting(records, context)
    excluded = set(exclude_labels)
    _warn_excluded_near_labels(excluded, {r["label"] for r in records})
    in_scope = [r for r in records if r["label"] not in excluded]
    out_scope = [r for r in records if r["label"] in excluded]
    labels_seen = sorted({r["label"] for r in in_scope})
    _warn_near_labels(labels_seen)
    if len(labels_seen) < 2:
        raise DataError(
            f"expected records of at least 2 labels after excluding {sorted(excluded)}, "
            f"found {labels_seen}"
        )
    train_rows, test_rows = split_records(in_scope, test_size=test_size, seed=seed)
    oos_train, oos_test = split_records(out_scope, test_size=test_size, seed=seed)
    missing = sorted(set(labels_seen) - {r["label"] for r in train_rows})
    if missing:
        raise DataError(f"labels {missing} have no training records after the split")
    _warn_rare_labels(Counter(r["label"] for r in train_rows))
    if not any(r["text"].strip() for r in train_rows):
        raise _empty_texts(len(train_rows))
    seen = {r["text"] for r in [*train_rows, *oos_train]}
    test_rows, repeated = _drop_repeated(seen, test_rows)
    oos_test, repeated_oos = _drop_repeated(seen, oos_test)
    repeated += repeated_oos
    del seen
    _warn_repeated(repeated)
    log(
        f"{len(records)} records: {len(train_rows)} train, {len(test_rows)} test, "
        f"{len(out_scope)} excluded as {sorted(excluded)}; labels {labels_seen}"
    )
    pipeline = build_pipeline(**fit)
    texts = _inputs(train_rows, context)
    y = [r["label"] for r in train_rows]
    try:
        _timed(f"fitting on {len(texts)} paragraphs", lambda: pipeline.fit(texts, y), log)
    except DataError:  # the featurizer found no n-gram to learn from
        raise DataError(
            f"cannot train on these {len(texts)} paragraphs: no word occurs in at least "
            f"min_df={fit['min_df']} of them, so there is nothing to learn from; give more (and "
            "longer) labeled paragraphs, or a lower min_df (--min-df)"
        ) from None
    if threshold is not None:
        cut = threshold
    else:
        cut = _choose_threshold(
            pipeline, train_rows, oos_train, context=context, seed=seed, log=log
        )
    metrics: dict[str, Any] = {}
    clf = Classifier.from_pipeline(pipeline, {"uncertainty_threshold": cut})
    if test_rows:
        metrics = _timed(
            f"scoring {len(test_rows)} held-out paragraphs (+{len(oos_test)} out of scope)",
            lambda: evaluate(clf, test_rows + oos_test, n_errors=0, excluded=excluded),
            log,
        )
        del metrics["errors"]
        log(
            f"held-out: macro-F1 {metrics['macro_f1']:.3f}, accuracy {metrics['accuracy']:.3f}, "
            f"ECE {metrics['ece']:.3f}; threshold {cut}"
        )
    metadata = {
        "name": name,
        "uncertainty_threshold": cut,
        "threshold_rule": "given"
        if threshold is not None
        else (
            "in-scope coverage >= 0.85, then most out-of-scope flagged minus in-scope flagged "
            "(training data, out of fold)"
            if oos_train
            else "default: no out-of-scope records were held out to tune it"
        ),
        "training_data": {
            "sha256": data_sha256(train_rows),
            "test_sha256": data_sha256(test_rows),
            "n_train": len(train_rows),
            "n_test": len(test_rows),
            "duplicates_across_split": repeated,
            "label_counts": dict(sorted(Counter(y).items())),
            "excluded_labels": sorted(excluded),
            "description": description,
        },
        "hyperparameters": {
            **fit,
            "ngram_range": list(fit["ngram_range"]),
            "class_weight": pipeline[-1].class_weight,
            "test_size": test_size,
        },
        "metrics": metrics,
    }
    return Classifier(clf.recipe, metadata)


def _in_test(record: Mapping[str, Any], test_size: float, seed: int) -> bool:
    """Streaming split: a fixed ``split`` field wins, else a hash of the
    seed and the article id (of the text when there is none) puts
    ``test_size`` of the articles on the test side -- not the articles
    :func:`split_records` picks, which needs them all in memory."""
    if record.get("split") in ("train", "test"):
        return bool(record["split"] == "test")
    key = f"{seed}\0{_article(record, record['text'])}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return int(digest[:8], 16) % 10_000 < test_size * 1e4


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    batch: list[Mapping[str, Any]] = []
    for r in rows:
        batch.append(r)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _text_key(text: str) -> int:
    """A 64-bit hash of ``text``: how the streaming trainer finds repeated texts."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def train_streaming(
    read: Callable[[], Iterable[Mapping[str, Any]]],
    *,
    seed: int = 0,
    test_size: float = 0.15,
    batch_size: int = 10_000,
    epochs: int = 5,
    n_features: int = 2**20,
    alpha: float = 1e-5,
    exclude_labels: Iterable[str] = DEFAULT_EXCLUDE,
    name: str = "newsclf-streaming",
    description: str = "",
    log: Callable[[str], None] = _LOGGER.info,
) -> Classifier:
    """Train on a stream larger than memory: ``read()`` yields the records
    afresh for each pass.  A first pass collects the labels; then ``epochs``
    passes of ``partial_fit`` in batches of ``batch_size`` (hashed features,
    logistic loss by SGD); the held-out articles are scored at the end,
    keeping only their labels and probabilities in memory (and a 64-bit hash
    of each held-out text: a held-out record whose text is also a training
    text is left out of the scores, with a warning, as in :func:`train`).

    Raises :class:`InvalidArgumentError` for ``epochs`` or ``batch_size``
    below 1 or a ``test_size`` outside [0, 1), :class:`DataError` when the
    training records have fewer than 2 labels or only empty texts.
    """
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    from newsclf._evaluate import score
    from newsclf._features import ArabicHashingFeaturizer
    from newsclf._model import DEFAULT_THRESHOLD, Classifier

    for what, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(f"{what} must be an integer >= 1, got {value!r}")
    _check_test_size(test_size)
    if not callable(read):
        raise InputTypeError(
            f"read must be a function giving the records afresh for each pass, got {describe(read)}"
        )
    _number(seed, "seed", 0, 2**32 - 1, integral=True)
    _number(n_features, "n_features", 1, 2**31 - 1, integral=True)
    _positive(alpha, "alpha")
    _check_run_options(exclude_labels, name, log)
    seed, n_features, alpha = int(seed), int(n_features), float(alpha)
    excluded = set(exclude_labels)

    def rows(test: bool) -> Iterator[Mapping[str, Any]]:
        return (
            r for r in read() if r["label"] not in excluded and _in_test(r, test_size, seed) == test
        )

    # Pass 1: labels, counts, the training data hash and the held-out texts' keys.
    counts: Counter[str] = Counter()
    n_test = n_texts = 0
    train_hash = hashlib.sha256()
    test_keys = array("Q")
    test_labels: set[str] = set()
    n_excluded = 0
    for i, r in enumerate(read()):
        _check_record(i, r)
        if r["label"] in excluded:
            n_excluded += 1
            continue
        if _in_test(r, test_size, seed):
            n_test += 1
            test_labels.add(r["label"])
            test_keys.append(_text_key(r["text"]))
        else:
            counts[r["label"]] += 1
            n_texts += bool(r["text"].strip())
            train_hash.update(record_bytes(r))
    labels = sorted(counts)
    _warn_near_labels(labels)
    if len(labels) < 2:
        raise DataError(f"expected training records of at least 2 labels, found {labels}")
    if missing := sorted(test_labels - set(labels)):
        raise DataError(f"labels {missing} have no training records after the split")
    if not n_texts:
        raise _empty_texts(sum(counts.values()))
    log(
        f"streaming: {sum(counts.values())} train and {n_test} test records, {n_excluded} "
        f"excluded as {sorted(excluded)}; labels {labels}"
    )
    held_out = np.unique(np.frombuffer(test_keys, dtype=np.uint64))
    del test_keys
    repeated_keys: set[int] = set()

    features = ArabicHashingFeaturizer(n_features=n_features)
    clf = SGDClassifier(loss="log_loss", alpha=alpha, random_state=seed)
    pipeline = Pipeline([("features", features), ("clf", clf)])
    for epoch in range(epochs):
        start, seen = time.perf_counter(), 0
        for batch in _batches(rows(test=False), batch_size):
            texts = [b["text"] for b in batch]
            if epoch == 0 and held_out.size:  # training texts that are also held out
                keys = np.fromiter(map(_text_key, texts), dtype=np.uint64, count=len(texts))
                repeated_keys.update(keys[np.isin(keys, held_out)].tolist())
            clf.partial_fit(features.transform(texts), [b["label"] for b in batch], classes=labels)
            seen += len(batch)
        log(f"epoch {epoch + 1}/{epochs}: {seen} paragraphs in {time.perf_counter() - start:.1f} s")
    del held_out

    # Last pass: score the held-out records, less those that repeat a training text.
    y_true: list[str] = []
    probas = []
    test_hash = hashlib.sha256()
    repeated = 0

    def kept() -> Iterator[Mapping[str, Any]]:
        nonlocal repeated
        for r in rows(test=True):
            if _text_key(r["text"]) in repeated_keys:
                repeated += 1
            else:
                yield r

    for batch in _batches(kept(), batch_size):
        probas.append(pipeline.predict_proba([b["text"] for b in batch]))
        y_true += [b["label"] for b in batch]
        for b in batch:
            test_hash.update(record_bytes(b))
    _warn_repeated(repeated)
    metrics: dict[str, Any] = {}
    if y_true:
        metrics = score(labels, y_true, np.vstack(probas))
        log(
            f"held-out: macro-F1 {metrics['macro_f1']:.3f}, accuracy {metrics['accuracy']:.3f}, "
            f"ECE {metrics['ece']:.3f}"
        )
    metadata = {
        "name": name,
        "uncertainty_threshold": DEFAULT_THRESHOLD,
        "training_data": {
            "sha256": train_hash.hexdigest(),
            "test_sha256": test_hash.hexdigest(),
            "n_train": sum(counts.values()),
            "n_test": len(y_true),
            "duplicates_across_split": repeated,
            "label_counts": dict(sorted(counts.items())),
            "excluded_labels": sorted(excluded),
            "description": description,
        },
        "hyperparameters": {
            "trainer": "streaming",
            "n_features": n_features,
            "alpha": alpha,
            "epochs": epochs,
            "batch_size": batch_size,
            "seed": seed,
            "test_size": test_size,
        },
        "metrics": metrics,
    }
    return Classifier.from_pipeline(pipeline, metadata)


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The ``newsclf train`` arguments (shared with ``newsclf-train``)."""
    p = parser or Parser(
        prog="newsclf-train", description="Train a newsclf model on labeled paragraphs."
    )
    p.add_argument(
        "--data",
        nargs="+",
        required=True,
        metavar="FILE",
        help="labeled data: JSONL, CSV, TSV, Parquet, Arrow or a saved datasets folder",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="artifact directory to write")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the bundled model if --out names it (refused without --force)",
    )
    p.add_argument("--name", default=None, help="model name (default: the --out folder name)")
    p.add_argument("--text-field", default="text")
    p.add_argument("--label-field", default="label")
    p.add_argument("--group-field", default=None, help="article id column (default: group/doc_id)")
    p.add_argument("--seed", type=integer(0, 2**32 - 1, what="a seed"), default=0)
    p.add_argument(
        "--test-size",
        type=fraction(upper_open=True, what="the share of articles held out, a number"),
        default=0.15,
        help="share of articles held out, in [0, 1) (default: 0.15; 0: none)",
    )
    p.add_argument(
        "--C",
        type=positive(what="the inverse regularization strength, a number"),
        default=None,
        help="inverse regularization strength (default: 10; not with --streaming)",
    )
    p.add_argument(
        "--min-df",
        type=integer(1),
        default=None,
        help="texts an n-gram must occur in to be learned (default: 2; not with --streaming)",
    )
    p.add_argument(
        "--context-weight",
        type=positive(what="the weight of the article's features, a number"),
        default=None,
        help="read each paragraph with its article (the records' 'context' field), the "
        "article's features weighted by this (the bundled model: 0.5; default: the paragraph "
        "alone; not with --streaming)",
    )
    p.add_argument(
        "--threshold",
        type=fraction(what="the uncertainty threshold, a number"),
        default=None,
        help="the model's uncertainty threshold, in [0, 1] (default: tuned on the training "
        "split; not with --streaming, which keeps 0.5)",
    )
    p.add_argument(
        "--exclude-labels",
        nargs="*",
        default=list(DEFAULT_EXCLUDE),
        metavar="LABEL",
        help="labels left out of training (default: 'none', the data's out-of-scope label; "
        "with no LABEL: learn every label)",
    )
    p.add_argument(
        "--streaming",
        action="store_true",
        help="train in constant memory: hashed features, SGD over batches read from disk",
    )
    p.add_argument(
        "--epochs",
        type=integer(1),
        default=None,
        help="passes over the data (--streaming; default: 5)",
    )
    p.add_argument(
        "--batch-size",
        type=integer(1),
        default=None,
        help="records per step (--streaming; default: 10000)",
    )
    p.epilog = "example: newsclf train --data labeled.jsonl --out models/mine"
    return p


def _check_out(out: Path, *, force: bool) -> None:
    """Refuse, before any work, an ``--out`` that would destroy something
    (:func:`~newsclf._model.check_save_target`) or cannot be written.
    Writing the artifact creates a temporary folder beside the target, so
    that is what is tried."""
    from newsclf._model import check_save_target

    try:
        check_save_target(out, force=force)
    except NewsclfError as e:
        raise UsageError(f"--out {e}") from None
    target = out.resolve()
    where = target.parent
    while not where.exists():  # the artifact writer creates the missing folders
        where = where.parent
    try:
        os.rmdir(tempfile.mkdtemp(dir=where, prefix=".newsclf-check-"))
    except OSError as e:
        raise UsageError(f"cannot write the model in {where}: {e.strerror or e}") from None


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        warning = "warning: " if record.levelno >= logging.WARNING else ""
        return f"[newsclf train] {warning}{record.getMessage()}"


@contextmanager
def _log_to_stderr() -> Iterator[None]:
    """Show the ``newsclf`` logger's progress and warnings on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format())
    level = _LOGGER.level
    _LOGGER.addHandler(handler)
    if _LOGGER.getEffectiveLevel() > logging.INFO:
        _LOGGER.setLevel(logging.INFO)
    try:
        yield
    finally:
        _LOGGER.removeHandler(handler)
        _LOGGER.setLevel(level)


def run(args: argparse.Namespace) -> int:
    """Train from parsed arguments; progress on stderr, a summary on stdout.

    The output folder is checked before the data is read (see
    :func:`_check_out`): a problem there is a :class:`UsageError`.
    """
    force = bool(getattr(args, "force", False))
    # Each trainer's own options, by keyword; those not given take its defaults.
    fit = {
        "C": args.C,
        "min_df": args.min_df,
        "context_weight": args.context_weight,
        "threshold": args.threshold,
    }
    stream = {"epochs": args.epochs, "batch_size": args.batch_size}
    own, other = (stream, fit) if args.streaming else (fit, stream)
    if wrong := [f"--{k.replace('_', '-')}" for k, v in other.items() if v is not None]:
        trainer = "the in-memory trainer (not --streaming)" if args.streaming else "--streaming"
        raise UsageError(f"{' and '.join(wrong)}: only with {trainer}")
    _check_out(Path(args.out), force=force)

    def read() -> Iterable[dict[str, Any]]:
        for path in args.data:
            yield from iter_records(
                path,
                text_field=args.text_field,
                label_field=args.label_field,
                group_field=args.group_field,
            )

    common: dict[str, Any] = {
        "seed": args.seed,
        "test_size": args.test_size,
        "exclude_labels": args.exclude_labels,
        "name": args.name or Path(args.out).resolve().name or "newsclf-model",
        "description": "files: " + ", ".join(Path(p).name for p in args.data),
    }
    with _log_to_stderr():
        common.update((k, v) for k, v in own.items() if v is not None)
        clf = train_streaming(read, **common) if args.streaming else train(list(read()), **common)
    out = clf.save(args.out, force=force)
    print(summary(out, clf.metadata))
    return 0


def summary(path: Path, metadata: Mapping[str, Any]) -> str:
    """A short human-readable report of a trained artifact: where it was
    written, its data and its held-out scores (as ``newsclf info`` shows them)."""
    import textwrap

    from newsclf._evaluate import format_metrics

    td = metadata["training_data"]
    lines = [f"wrote {path}", f"  trained on {td['n_train']} paragraphs, held out {td['n_test']}"]
    if m := metadata.get("metrics"):
        lines.append(textwrap.indent(format_metrics(m, detail="brief", title="held-out"), "  "))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``newsclf-train``: 0, or 2 with a one-line error (bad
    data, an output folder that cannot be written, an I/O error)."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (UsageError, NewsclfError) as e:
        message = str(e)
    except OSError as e:
        message = f"{e.filename}: {e.strerror}" if e.filename else f"I/O error: {e.strerror or e}"
    except KeyboardInterrupt:
        return 130
    print(f"newsclf-train: error: {message}", file=sys.stderr)
    return 2
