"""Training: labeled records in, a validated artifact out.

``newsclf train --data my.jsonl --out models/mine`` (or ``newsclf-train``)
reads labeled records (see :mod:`newsclf._data`), splits them by article,
fits :func:`newsclf.build_pipeline`, scores the held-out part and writes an
artifact whose metadata carries the data hash, hyper-parameters and metrics.
Same data and seed give the same model and the same predictions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from newsclf._data import data_sha256, iter_records
from newsclf._errors import DataError, NewsclfError

if TYPE_CHECKING:
    from newsclf._model import Classifier

__all__ = ["main", "split_records", "train", "train_streaming"]

#: Records with these labels are left out of training by default: ``none``
#: marks out-of-scope paragraphs, kept to measure how the model treats them.
DEFAULT_EXCLUDE = ("none",)


def _log(message: str) -> None:
    print(f"[newsclf train] {message}", file=sys.stderr, flush=True)


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
    groups = [str(r.get("group", f"#record-{i}")) for i, r in enumerate(free)]
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
    return np.array([[r["text"], r.get("context") or r["text"]] for r in rows], dtype=object)


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

    groups = [str(r.get("group", f"#record-{i}")) for i, r in enumerate(train_rows)]
    if not out_scope_train or len(set(groups)) < 4:
        return DEFAULT_THRESHOLD
    texts = _inputs(train_rows, context)
    y = np.array([r["label"] for r in train_rows])
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
    correct = pipeline.classes_[oof.argmax(axis=1)] == y
    oos = pipeline.predict_proba(_inputs(out_scope_train, context)).max(axis=1)
    return pick_threshold(coverage_curve(oof.max(axis=1), correct, oos))


def train(
    records: Iterable[Mapping[str, Any]],
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
    log: Callable[[str], None] = _log,
) -> Classifier:
    """Fit a model on ``records`` and score it on a held-out split.

    ``records`` are dicts with ``text`` and ``label`` (and optionally
    ``group``, ``split``, ``source``, ``outlet``, ``acceptable`` and
    ``context``: the paragraph's whole article).  With ``context_weight``,
    the model reads each paragraph with its article (see
    :func:`newsclf.build_pipeline`).  Records whose label is in
    ``exclude_labels`` are left out of training and measure out-of-scope
    behaviour instead.  Returns the trained :class:`newsclf.Classifier`, its
    metadata holding the data hash, hyper-parameters and held-out metrics.
    """
    from newsclf._evaluate import evaluate
    from newsclf._features import build_pipeline
    from newsclf._model import Classifier

    records = list(records)
    excluded = set(exclude_labels)
    in_scope = [r for r in records if r["label"] not in excluded]
    out_scope = [r for r in records if r["label"] in excluded]
    labels_seen = sorted({r["label"] for r in in_scope})
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
    log(
        f"{len(records)} records: {len(train_rows)} train, {len(test_rows)} test, "
        f"{len(out_scope)} excluded as {sorted(excluded)}; labels {labels_seen}"
    )
    pipeline = build_pipeline(
        C=C,
        ngram_range=ngram_range,
        min_df=min_df,
        context_weight=context_weight,
        class_weight=class_weight,
        seed=seed,
    )
    texts = _inputs(train_rows, context_weight is not None)
    y = [r["label"] for r in train_rows]
    _timed(f"fitting on {len(texts)} paragraphs", lambda: pipeline.fit(texts, y), log)
    if threshold is not None:
        cut = threshold
    else:
        cut = _choose_threshold(
            pipeline, train_rows, oos_train, context=context_weight is not None, seed=seed, log=log
        )
    metrics: dict[str, Any] = {}
    clf = Classifier.from_pipeline(pipeline, {"uncertainty_threshold": cut})
    if test_rows:
        metrics = _timed(
            f"scoring {len(test_rows)} held-out paragraphs (+{len(oos_test)} out of scope)",
            lambda: evaluate(clf, test_rows + oos_test, n_errors=0),
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
        "threshold_rule": "given" if threshold is not None else (
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
            "label_counts": dict(sorted(Counter(y).items())),
            "excluded_labels": sorted(excluded),
            "description": description,
        },
        "hyperparameters": {
            "C": C,
            "ngram_range": list(ngram_range),
            "min_df": min_df,
            "context_weight": context_weight,
            "class_weight": pipeline[-1].class_weight,
            "seed": seed,
            "test_size": test_size,
        },
        "metrics": metrics,
    }
    return Classifier(clf.recipe, metadata)



def _in_test(record: Mapping[str, Any], test_size: float) -> bool:
    """Streaming split: a fixed ``split`` field wins, else a hash of the
    article id (of the text when there is none) puts 1 in 1/test_size
    articles on the test side."""
    if record.get("split") in ("train", "test"):
        return bool(record["split"] == "test")
    key = str(record.get("group", record["text"]))
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 10_000 < test_size * 1e4


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
    log: Callable[[str], None] = _log,
) -> Classifier:
    """Train on a stream larger than memory: ``read()`` yields the records
    afresh for each pass.  A first pass collects the labels; then ``epochs``
    passes of ``partial_fit`` in batches of ``batch_size`` (hashed features,
    logistic loss by SGD); the held-out articles are scored at the end,
    keeping only their labels and probabilities in memory."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    from newsclf._evaluate import score
    from newsclf._features import ArabicHashingFeaturizer
    from newsclf._model import DEFAULT_THRESHOLD, Classifier

    excluded = set(exclude_labels)
    counts: Counter[str] = Counter()
    n_test = 0
    train_hash, test_hash = hashlib.sha256(), hashlib.sha256()
    for r in read():
        if r["label"] in excluded:
            continue
        in_test = _in_test(r, test_size)
        n_test += in_test
        if not in_test:
            counts[r["label"]] += 1
        (test_hash if in_test else train_hash).update(
            json.dumps([r["text"], r["label"]], ensure_ascii=False).encode("utf-8") + b"\n"
        )
    labels = sorted(counts)
    if len(labels) < 2:
        raise DataError(f"expected training records of at least 2 labels, found {labels}")
    log(f"streaming: {sum(counts.values())} train and {n_test} test records; labels {labels}")
    features = ArabicHashingFeaturizer(n_features=n_features)
    clf = SGDClassifier(loss="log_loss", alpha=alpha, random_state=seed)
    pipeline = Pipeline([("features", features), ("clf", clf)])
    for epoch in range(epochs):
        start, seen = time.perf_counter(), 0
        batch: list[Mapping[str, Any]] = []
        for r in read():
            if r["label"] in excluded or _in_test(r, test_size):
                continue
            batch.append(r)
            if len(batch) == batch_size:
                clf.partial_fit(
                    features.transform([b["text"] for b in batch]),
                    [b["label"] for b in batch],
                    classes=labels,
                )
                seen += len(batch)
                batch = []
        if batch:
            clf.partial_fit(
                features.transform([b["text"] for b in batch]),
                [b["label"] for b in batch],
                classes=labels,
            )
            seen += len(batch)
        log(f"epoch {epoch + 1}/{epochs}: {seen} paragraphs in {time.perf_counter() - start:.1f} s")
    y_true: list[str] = []
    probas = []
    batch = []
    for r in read():
        if r["label"] not in excluded and _in_test(r, test_size):
            batch.append(r)
            if len(batch) == batch_size:
                probas.append(pipeline.predict_proba([b["text"] for b in batch]))
                y_true += [b["label"] for b in batch]
                batch = []
    if batch:
        probas.append(pipeline.predict_proba([b["text"] for b in batch]))
        y_true += [b["label"] for b in batch]
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
            "n_test": n_test,
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
    p = parser or argparse.ArgumentParser(
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
    p.add_argument("--name", default=None, help="model name (default: the --out folder name)")
    p.add_argument("--text-field", default="text")
    p.add_argument("--label-field", default="label")
    p.add_argument("--group-field", default=None, help="article id column (default: group/doc_id)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test-size", type=float, default=0.15, help="share of articles held out")
    p.add_argument("--C", type=float, default=10.0, help="inverse regularization strength")
    p.add_argument(
        "--exclude-labels",
        nargs="*",
        default=list(DEFAULT_EXCLUDE),
        metavar="LABEL",
        help="labels left out of training (default: none)",
    )
    p.add_argument(
        "--streaming",
        action="store_true",
        help="train in constant memory: hashed features, SGD over batches read from disk",
    )
    p.add_argument("--epochs", type=int, default=5, help="passes over the data (--streaming)")
    p.add_argument("--batch-size", type=int, default=10_000, help="records per step (--streaming)")
    p.epilog = "example: newsclf train --data labeled.jsonl --out models/mine"
    return p


def run(args: argparse.Namespace) -> int:
    """Train from parsed arguments; print a summary."""
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
        "name": args.name or Path(args.out).name,
        "description": "files: " + ", ".join(Path(p).name for p in args.data),
    }
    if args.streaming:
        clf = train_streaming(read, batch_size=args.batch_size, epochs=args.epochs, **common)
    else:
        clf = train(list(read()), C=args.C, **common)
    out = clf.save(args.out)
    print(summary(out, clf.metadata))
    return 0


def summary(path: Path, metadata: Mapping[str, Any]) -> str:
    """A short human-readable report of a trained artifact."""
    m = metadata.get("metrics", {})
    lines = [f"wrote {path}"]
    td = metadata["training_data"]
    lines.append(f"  trained on {td['n_train']} paragraphs, held out {td['n_test']}")
    if m:
        lines.append(
            f"  held-out macro-F1 {m['macro_f1']:.3f}  accuracy {m['accuracy']:.3f}  "
            f"ECE {m['ece']:.3f}"
        )
        for lab, s in m["per_label"].items():
            lines.append(
                f"    {lab:14s} P {s['precision']:.3f}  R {s['recall']:.3f}  "
                f"F1 {s['f1']:.3f}  n={s['support']}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``newsclf-train``."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except NewsclfError as e:
        print(f"newsclf-train: error: {e}", file=sys.stderr)
        return 2
