"""Scores of a model on labeled data: accuracy, macro-F1, per-label
precision/recall/F1, confusion matrix, calibration (expected calibration
error), out-of-scope coverage and the most confident errors.

:func:`evaluate` returns the metrics as a JSON-ready dict (what artifacts
store as their held-out metrics); :meth:`newsclf.Classifier.evaluate` wraps
it in a typed :class:`Report`.  :func:`format_metrics` is the one text
rendering of such a dict (``newsclf evaluate``, ``newsclf info`` and the
training summary), :func:`write_plots` draws it.
"""

from __future__ import annotations

import copy
import logging
import os
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NotRequired, Protocol, TypedDict

import numpy as np

from newsclf._data import acceptable_labels, check_context, near_labels, record_list
from newsclf._errors import (
    DataError,
    InputTypeError,
    InvalidArgumentError,
    describe,
    field_names,
    value_kind,
)

__all__ = [
    "Report",
    "ScoringModel",
    "coverage_curve",
    "evaluate",
    "expected_calibration_error",
    "format_metrics",
    "pick_threshold",
    "score",
    "write_plots",
]


class ScoringModel(Protocol):
    """What evaluation needs of a model (:class:`newsclf.Classifier` is one)."""

    @property
    def labels(self) -> Sequence[str]: ...

    @property
    def threshold(self) -> float: ...

    def classify_many(
        self, texts: Iterable[str], *, contexts: Iterable[str] | None = ..., threshold: float
    ) -> Iterable[Any]: ...

    def contributions(
        self, text: str, *, context: str | None = ...
    ) -> Sequence[tuple[str, np.ndarray]]: ...


class LabelScores(TypedDict):
    precision: float
    recall: float
    f1: float
    support: int


class Confusion(TypedDict):
    labels: list[str]
    matrix: list[list[int]]


class CalibrationBin(TypedDict):
    low: float
    high: float
    confidence: float
    accuracy: float
    count: int


class CoveragePoint(TypedDict):
    threshold: float
    coverage: float
    #: ``None`` when the threshold keeps no paragraph (no accuracy to measure).
    accuracy_covered: float | None
    out_of_scope_flagged: float


class OutOfScope(TypedDict):
    n: int
    labels: dict[str, int]
    uncertain_share: float


class GroupScores(TypedDict):
    """The scores of the paragraphs of one ``source`` or ``outlet``."""

    n: int
    accuracy: float
    macro_f1: float
    ece: float
    per_label: dict[str, LabelScores]
    confusion: Confusion
    topical: NotRequired[LabelScores]
    in_scope_macro_f1: NotRequired[float]


class Error(TypedDict):
    """One misclassified paragraph, with the n-grams that pushed hardest
    towards the wrong label (and the record's ``doc_id``, ``para``, ``id``
    and ``source`` when it has them)."""

    text: str
    label: str
    predicted: str
    score: float
    features: list[tuple[str, float]]
    doc_id: NotRequired[object]
    para: NotRequired[object]
    id: NotRequired[object]
    source: NotRequired[object]


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = 15
) -> float:
    """Top-label ECE: the support-weighted mean gap between confidence and
    accuracy over ``n_bins`` equal-width confidence bins."""
    bins = calibration_bins(confidence, correct, n_bins=n_bins)
    total = sum(b["count"] for b in bins)
    if not total:
        return 0.0
    return float(sum(b["count"] * abs(b["confidence"] - b["accuracy"]) for b in bins) / total)


def score(
    labels: Sequence[str],
    y_true: Sequence[str],
    proba: np.ndarray,
    *,
    acceptable: Sequence[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Metrics of predictions ``proba`` (columns in ``labels`` order) against
    ``y_true``; macro-F1 and the per-label scores cover the labels present
    in ``y_true`` (a label only predicted shows in the confusion matrix).
    With ``acceptable`` (other defensible labels per item),
    also ``acceptable_accuracy``: the prediction is the label or one of them."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = list(labels)
    y_true = list(y_true)
    y_pred = [labels[i] for i in np.asarray(proba).argmax(axis=1)] if len(y_true) else []
    correct = np.array([t == p for t, p in zip(y_true, y_pred, strict=True)], dtype=bool)
    present = [lab for lab in labels if lab in set(y_true)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=present, zero_division=0)
    per_label: dict[str, LabelScores] = {
        lab: {"precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
        for lab, pi, ri, fi, si in zip(present, p, r, f, s, strict=True)
    }
    confusion: Confusion = {
        "labels": labels,
        "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist() if len(y_true) else [],
    }
    out: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(correct.mean()) if len(y_true) else 0.0,
        "macro_f1": float(np.mean(f)) if len(present) else 0.0,
        "ece": expected_calibration_error(np.asarray(proba).max(axis=1), correct)
        if len(y_true)
        else 0.0,
        "per_label": per_label,
        "confusion": confusion,
    }
    if acceptable is not None:
        ok = [
            pred == true or pred in set(acc)
            for pred, true, acc in zip(y_pred, y_true, acceptable, strict=True)
        ]
        out["acceptable_accuracy"] = float(np.mean(ok)) if ok else 0.0
    return out


#: Thresholds on the top probability scanned for the coverage curve.
THRESHOLD_GRID = tuple(round(0.25 + 0.05 * i, 2) for i in range(15))


def calibration_bins(
    confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = 15
) -> list[CalibrationBin]:
    """Per non-empty confidence bin (``n_bins`` of equal width): mean
    confidence, accuracy and count (the reliability diagram; ECE is their
    count-weighted gap)."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    out: list[CalibrationBin] = []
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            out.append(
                {
                    "low": b / n_bins,
                    "high": (b + 1) / n_bins,
                    "confidence": float(confidence[mask].mean()),
                    "accuracy": float(correct[mask].mean()),
                    "count": int(mask.sum()),
                }
            )
    return out


def coverage_curve(
    in_scope_conf: np.ndarray, in_scope_correct: np.ndarray, out_scope_conf: np.ndarray
) -> list[CoveragePoint]:
    """For each threshold: share of in-scope paragraphs kept (not uncertain),
    accuracy on those (``None`` when none is kept), and share of
    out-of-scope paragraphs flagged uncertain."""
    rows: list[CoveragePoint] = []
    for t in THRESHOLD_GRID:
        kept = in_scope_conf >= t
        rows.append(
            {
                "threshold": t,
                "coverage": float(kept.mean()) if kept.size else 0.0,
                "accuracy_covered": float(in_scope_correct[kept].mean()) if kept.any() else None,
                "out_of_scope_flagged": float((out_scope_conf < t).mean())
                if out_scope_conf.size
                else 0.0,
            }
        )
    return rows


def pick_threshold(curve: Sequence[CoveragePoint], *, min_coverage: float = 0.85) -> float:
    """The shipped rule: among thresholds keeping at least ``min_coverage`` of
    in-scope paragraphs, the one that best separates in-scope from
    out-of-scope text (largest flagged-out-of-scope minus flagged-in-scope
    share)."""
    ok = [r for r in curve if r["coverage"] >= min_coverage] or [curve[0]]
    best = max(ok, key=lambda r: (r["out_of_scope_flagged"] - (1 - r["coverage"]), -r["threshold"]))
    return float(best["threshold"])


@dataclass(frozen=True, slots=True)
class _Row:
    """A checked labeled record (``label`` as the model names it)."""

    text: str
    label: str
    context: str | None
    acceptable: tuple[str, ...] | None  # None: the record has no "acceptable" field
    fields: Mapping[str, object]


def _row(
    i: int, record: Mapping[str, object], labels: Sequence[str], excluded: Collection[str]
) -> _Row:
    """Record ``i`` checked (string ``text`` and ``label``, else a
    :class:`DataError` naming the fields it has), labels as the model names them."""
    if not isinstance(record, Mapping):
        raise DataError(f"record {i}: expected a mapping, got {describe(record)}")
    for key in ("text", "label"):
        if key not in record:
            raise DataError(
                f"record {i}: missing field {key!r} (the record has {field_names(record)}); "
                "expected string fields 'text' and 'label'"
            )
        if not isinstance(record[key], str):
            raise DataError(
                f"record {i}: field {key!r} is {value_kind(record[key])}, expected a string"
            )
    acceptable = acceptable_labels(f"record {i}", record.get("acceptable"))
    if acceptable is not None:
        acceptable = tuple(_model_label(a, labels, excluded) for a in acceptable)
    context = check_context(f"record {i}", record.get("context"))
    return _Row(
        text=str(record["text"]),
        label=_model_label(str(record["label"]), labels, excluded),
        context=context if isinstance(context, str) and context else None,
        acceptable=acceptable,
        fields=record,
    )


def top_features(
    clf: ScoringModel, rows: Sequence[_Row], label_index: Sequence[int], k: int = 5
) -> list[list[tuple[str, float]]]:
    """For each row, the ``k`` n-grams that pushed hardest towards the given label."""
    out = []
    for r, li in zip(rows, label_index, strict=True):
        contribs = clf.contributions(r.text, context=r.context)
        ranked = sorted(((float(c[li]), name) for name, c in contribs if c[li] > 0), reverse=True)
        out.append([(name, v) for v, name in ranked[:k]])
    return out


#: Labels about our topics: "topical" scores count them against everything else.
TOPICAL = ("military", "diplomacy", "humanitarian")
#: What data files call the out-of-scope label, and what models answer.
DATA_OUT_OF_SCOPE, MODEL_OUT_OF_SCOPE = "none", "other"


def _model_label(label: str, labels: Sequence[str], excluded: Collection[str]) -> str:
    """A data label as the model names it: ``none`` is the model's ``other``,
    unless the model has a ``none`` of its own or was trained with ``none``
    left out (``excluded``): then ``none`` is out of scope."""
    if (
        label == DATA_OUT_OF_SCOPE
        and MODEL_OUT_OF_SCOPE in labels
        and DATA_OUT_OF_SCOPE not in labels
        and DATA_OUT_OF_SCOPE not in excluded
    ):
        return MODEL_OUT_OF_SCOPE
    return label


def topical_scores(y_true: Sequence[str], y_pred: Sequence[str]) -> LabelScores:
    """Precision, recall and F1 of "topical" (any of :data:`TOPICAL`) against
    everything else; a topical paragraph given the wrong topic counts as a
    false positive and a false negative."""
    tp = fp = fn = 0
    for t, p in zip(y_true, y_pred, strict=True):
        if p in TOPICAL:
            if p == t:
                tp += 1
            else:
                fp += 1
        if t in TOPICAL and p != t:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def evaluate(
    clf: ScoringModel,
    records: Iterable[Mapping[str, object]] | str | os.PathLike[str],
    *,
    threshold: float | None = None,
    n_errors: int = 20,
    excluded: Collection[str] = (),
) -> dict[str, Any]:
    """Score a model on labeled records; the JSON-ready metrics dict that
    :meth:`newsclf.Classifier.evaluate` wraps in a :class:`Report`.

    Records whose label the model knows are scored (overall, by ``source``
    and by ``outlet`` when present); the others (e.g. ``none``) measure
    out-of-scope behaviour: how many the model flags uncertain.  Data label
    ``none`` is scored as the model's ``other`` unless the model has
    ``none`` too or ``none`` is in ``excluded`` (the labels it was trained
    without).  Returns
    metrics, calibration bins, the coverage curve and the ``n_errors`` most
    confident errors with the n-grams behind them.  ``acceptable_accuracy``
    is there when some record has an ``acceptable`` field.
    """
    if isinstance(n_errors, bool) or not isinstance(n_errors, int):
        raise InputTypeError(f"n_errors must be an int, got {describe(n_errors)}")
    if n_errors < 0:
        raise InvalidArgumentError(f"n_errors must be >= 0, got {n_errors}")
    labels = list(clf.labels)
    cut = clf.threshold if threshold is None else threshold
    rows = [_row(i, r, labels, excluded) for i, r in enumerate(record_list(records, splits=False))]
    known = [r for r in rows if r.label in labels]
    unknown = [r for r in rows if r.label not in labels]
    if near := near_labels((r.label for r in unknown), labels):
        logging.getLogger("newsclf").warning(
            "records labeled %s are not scored as the model's %s (case and spaces count): "
            "they measure out-of-scope behaviour",
            list(near),
            sorted(set(near.values())),
        )
    if not known:
        found = dict(Counter(r.label for r in rows).most_common(5))
        raise DataError(
            f"expected records labeled with the model's labels {labels} (exactly: case and "
            f"spaces count), found {len(rows)} records, labels {found}: nothing to score"
        )
    proba, blind = _proba(clf, known)
    y = [r.label for r in known]
    acceptable = None
    if any(r.acceptable is not None for r in known):
        acceptable = [r.acceptable or () for r in known]
    report = score(labels, y, proba, acceptable=acceptable)
    conf = proba.max(axis=1)
    pred_idx = [int(i) for i in proba.argmax(axis=1)]
    predicted = [labels[i] for i in pred_idx]
    correct = np.array([p == t for p, t in zip(predicted, y, strict=True)], dtype=bool)
    report["threshold"] = cut
    report["calibration"] = calibration_bins(conf, correct)
    report["uncertain_share"] = float(((conf < cut) | blind).mean()) if known else 0.0
    groups = {key: _groups(known, key) for key in ("source", "outlet")}
    for key, members in groups.items():
        if members:
            report[f"by_{key}"] = {
                value: score(labels, [y[i] for i in idx], proba[idx])
                for value, idx in members.items()
            }
    oos_proba, oos_blind = _proba(clf, unknown)
    oos_conf = oos_proba.max(axis=1)
    out_of_scope: OutOfScope = {
        "n": len(unknown),
        "labels": dict(sorted(Counter(r.label for r in unknown).items())),
        "uncertain_share": float(((oos_conf < cut) | oos_blind).mean()) if unknown else 0.0,
    }
    report["out_of_scope"] = out_of_scope
    # A text with no known feature is flagged at every threshold.
    report["coverage_curve"] = coverage_curve(
        np.where(blind, -1.0, conf), correct, np.where(oos_blind, -1.0, oos_conf)
    )
    if MODEL_OUT_OF_SCOPE in labels:
        report.update(_out_of_scope_scores(labels, y, predicted))
        for key, members in groups.items():
            for value, idx in members.items():
                report[f"by_{key}"][value].update(
                    _out_of_scope_scores(labels, [y[i] for i in idx], [predicted[i] for i in idx])
                )
    wrong = np.flatnonzero(~correct)
    worst = [int(i) for i in wrong[np.argsort(-conf[wrong], kind="stable")][:n_errors]]
    feats = top_features(clf, [known[i] for i in worst], [pred_idx[i] for i in worst])
    errors: list[Error] = []
    for i, f in zip(worst, feats, strict=True):
        error: Error = {
            "text": known[i].text,
            "label": y[i],
            "predicted": predicted[i],
            "score": float(conf[i]),
            "features": [(name, round(value, 4)) for name, value in f],
        }
        for k in ("doc_id", "para", "id", "source"):
            if k in known[i].fields:
                error[k] = known[i].fields[k]
        errors.append(error)
    report["errors"] = errors
    return report


def _groups(rows: Sequence[_Row], key: str) -> dict[str, list[int]]:
    """Positions of the rows with each value of field ``key`` (as text), by value."""
    out: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if r.fields.get(key) is not None:  # null: no source (not one named "None")
            out.setdefault(str(r.fields[key]), []).append(i)
    return dict(sorted(out.items()))


def _out_of_scope_scores(
    labels: Sequence[str], y: Sequence[str], predicted: Sequence[str]
) -> dict[str, Any]:
    """For a model with an out-of-scope label: topical P/R/F1 (when the model
    has a topical label: for another label set it would only say 0), and
    the macro-F1 over the in-scope labels on in-scope paragraphs (comparable
    with a model that has no out-of-scope label; absent when there is none)."""
    from sklearn.metrics import f1_score

    out: dict[str, Any] = {}
    if set(TOPICAL) & set(labels):
        out["topical"] = topical_scores(y, predicted)
    inside = [i for i, t in enumerate(y) if t != MODEL_OUT_OF_SCOPE]
    if inside:
        in_scope = [lab for lab in labels if lab != MODEL_OUT_OF_SCOPE and lab in set(y)]
        f1 = f1_score(
            [y[i] for i in inside],
            [predicted[i] for i in inside],
            labels=in_scope,
            average="macro",
            zero_division=0,
        )
        out["in_scope_macro_f1"] = float(f1)
    return out


def _proba(clf: ScoringModel, rows: Sequence[_Row]) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of rows, each read with its ``context`` when it has one,
    and which rows have no feature the model knows (the classifier flags
    those uncertain whatever the threshold)."""
    if not rows:
        return np.zeros((0, len(clf.labels))), np.zeros(0, dtype=bool)
    texts = [r.text for r in rows]
    # At threshold 0 a prediction is uncertain only when it has no known feature.
    preds = list(
        clf.classify_many(texts, contexts=[r.context or r.text for r in rows], threshold=0.0)
    )
    proba = np.array([[p.scores[label] for label in clf.labels] for p in preds])
    return proba, np.array([p.uncertain for p in preds], dtype=bool)


# --- the typed report ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Report:
    """The scores of a model on labeled paragraphs, from
    :meth:`newsclf.Classifier.evaluate`.

    Paragraphs whose label the model knows are scored: ``n`` of them,
    ``accuracy``, ``macro_f1``, ``ece`` (expected calibration error),
    ``per_label`` precision/recall/F1/support and the ``confusion`` matrix
    (rows: true label, columns: predicted, both in ``labels`` order).
    ``acceptable_accuracy`` (the prediction is the label or one of the
    record's ``acceptable`` ones) is set when the data has that field;
    ``topical`` and ``in_scope_macro_f1`` when the model has the ``other``
    label; ``by_source`` / ``by_outlet`` hold the same scores per value of
    those fields.  Paragraphs with other labels measure ``out_of_scope``
    behaviour: how many are flagged uncertain at ``threshold``.
    ``coverage_curve`` trades coverage for accuracy over thresholds,
    ``calibration`` holds the reliability-diagram bins, ``errors`` the most
    confident errors with the n-grams behind them.

    ``to_dict()`` is the JSON-ready dict, ``plots(dir)`` draws it, and
    ``str(report)`` is the text ``newsclf evaluate`` prints.
    """

    n: int
    accuracy: float
    macro_f1: float
    ece: float
    per_label: Mapping[str, LabelScores]
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    threshold: float
    uncertain_share: float
    calibration: tuple[CalibrationBin, ...]
    out_of_scope: OutOfScope
    coverage_curve: tuple[CoveragePoint, ...]
    errors: tuple[Error, ...]
    acceptable_accuracy: float | None = None
    topical: LabelScores | None = None
    in_scope_macro_f1: float | None = None
    by_source: Mapping[str, GroupScores] = field(default_factory=dict)
    by_outlet: Mapping[str, GroupScores] = field(default_factory=dict)

    @classmethod
    def _from_metrics(cls, metrics: Mapping[str, Any]) -> Report:
        """The report of a dict as :func:`evaluate` returns it."""
        m = copy.deepcopy(dict(metrics))
        return cls(
            n=m["n"],
            accuracy=m["accuracy"],
            macro_f1=m["macro_f1"],
            ece=m["ece"],
            per_label=m["per_label"],
            labels=tuple(m["confusion"]["labels"]),
            confusion=tuple(tuple(row) for row in m["confusion"]["matrix"]),
            threshold=m["threshold"],
            uncertain_share=m["uncertain_share"],
            calibration=tuple(m["calibration"]),
            out_of_scope=m["out_of_scope"],
            coverage_curve=tuple(m["coverage_curve"]),
            errors=tuple(m["errors"]),
            acceptable_accuracy=m.get("acceptable_accuracy"),
            topical=m.get("topical"),
            in_scope_macro_f1=m.get("in_scope_macro_f1"),
            by_source=m.get("by_source", {}),
            by_outlet=m.get("by_outlet", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The metrics as a JSON-ready dict (a copy; what artifacts store as
        their held-out ``metrics``)."""
        out: dict[str, Any] = {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "ece": self.ece,
            "per_label": self.per_label,
            "confusion": {"labels": list(self.labels), "matrix": [list(r) for r in self.confusion]},
        }
        if self.acceptable_accuracy is not None:
            out["acceptable_accuracy"] = self.acceptable_accuracy
        out["threshold"] = self.threshold
        out["calibration"] = list(self.calibration)
        out["uncertain_share"] = self.uncertain_share
        for key in ("by_source", "by_outlet"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        out["out_of_scope"] = self.out_of_scope
        out["coverage_curve"] = list(self.coverage_curve)
        if self.topical is not None:
            out["topical"] = self.topical
        if self.in_scope_macro_f1 is not None:
            out["in_scope_macro_f1"] = self.in_scope_macro_f1
        out["errors"] = list(self.errors)
        return copy.deepcopy(out)

    def plots(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Write ``confusion.png``, ``reliability.png`` and ``coverage.png``
        into ``out_dir`` (made if missing); returns their paths.  Needs
        matplotlib; the caller's matplotlib backend is left as it is."""
        return write_plots(self.to_dict(), out_dir)

    def __str__(self) -> str:
        return format_metrics(self.to_dict())


# --- the text rendering -----------------------------------------------------------


def format_metrics(
    metrics: Mapping[str, Any], *, detail: Literal["brief", "full"] = "full", title: str = ""
) -> str:
    """The text report of a metrics dict (from :func:`evaluate`, or the
    held-out ``metrics`` an artifact stores; keys it lacks are left out).

    ``brief``: the headline scores, per label, topical, and per source and
    outlet (``newsclf info``, the training summary).  ``full`` adds the
    confusion matrix, the threshold's effect in and out of scope, the
    coverage table, the most confident errors and the plots written
    (``newsclf evaluate``).  ``title`` starts the headline (e.g. ``held-out``).
    """
    out = _headline(metrics, title)
    if metrics.get("n"):
        out += _per_label_lines(metrics)
        out += _group_lines(metrics)
    if detail == "full":
        out += _confusion_lines(metrics)
        out += _threshold_lines(metrics)
        out += _coverage_lines(metrics)
        out += _error_lines(metrics)
        out += [f"wrote {p}" for p in metrics.get("plots", [])]
    return "\n".join(out)


def _headline(m: Mapping[str, Any], title: str) -> list[str]:
    head = f"{title} " if title else ""
    if not m.get("n"):
        return [f"{head}no paragraph with one of the model's labels: nothing to score"]
    line = f"{head}macro-F1 {m['macro_f1']:.3f}  accuracy {m['accuracy']:.3f}  ECE {m['ece']:.3f}"
    if "in_scope_macro_f1" in m:
        line += f"  in-scope macro-F1 {m['in_scope_macro_f1']:.3f}"
    if "acceptable_accuracy" in m:
        line += f"  acceptable accuracy {m['acceptable_accuracy']:.3f}"
    return [f"{line}  (n={m['n']})"]


def _prf(s: Mapping[str, float]) -> str:
    return f"P {s['precision']:.3f}  R {s['recall']:.3f}  F1 {s['f1']:.3f}  n={s['support']}"


def _per_label_lines(m: Mapping[str, Any]) -> list[str]:
    rows: dict[str, Mapping[str, float]] = dict(m.get("per_label", {}))
    names = [*rows, *(["topical"] if "topical" in m else [])]
    width = max(map(len, names), default=0)
    out = [f"  {lab:{width}}  {_prf(s)}" for lab, s in rows.items()]
    if "topical" in m:
        out.append(
            f"  {'topical':{width}}  {_prf(m['topical'])}  ({'/'.join(TOPICAL)} against the rest)"
        )
    return out


def _group_lines(m: Mapping[str, Any]) -> list[str]:
    out = []
    for key in ("by_source", "by_outlet"):
        groups: Mapping[str, Mapping[str, Any]] = m.get(key, {})
        width = max(map(len, groups), default=0)
        if groups:
            out.append(f"  by {key[3:]}:")
        for name, s in groups.items():
            topical = f"  topical F1 {s['topical']['f1']:.3f}" if "topical" in s else ""
            out.append(
                f"    {name:{width}}  macro-F1 {s['macro_f1']:.3f}  accuracy {s['accuracy']:.3f}"
                f"{topical}  n={s['n']}"
            )
    return out


def _confusion_lines(m: Mapping[str, Any]) -> list[str]:
    confusion = m.get("confusion", {})
    labels, matrix = confusion.get("labels", []), confusion.get("matrix", [])
    if not matrix:
        return []
    first = max(len(lab) for lab in labels)
    widths = [max(len(lab), *(len(str(row[j])) for row in matrix)) for j, lab in enumerate(labels)]
    out = ["confusion (rows: true, columns: predicted):"]
    out.append(
        f"  {'':{first}}  "
        + "  ".join(f"{lab:>{w}}" for lab, w in zip(labels, widths, strict=True))
    )
    for lab, row in zip(labels, matrix, strict=True):
        cells = "  ".join(f"{v:>{w}}" for v, w in zip(row, widths, strict=True))
        out.append(f"  {lab:{first}}  {cells}")
    return out


def _threshold_lines(m: Mapping[str, Any]) -> list[str]:
    if "threshold" not in m:
        return []
    parts = []
    if m.get("n"):
        parts.append(f"{m['uncertain_share']:.1%} of in-scope paragraphs flagged uncertain")
    oos = m.get("out_of_scope", {})
    if oos.get("n"):
        labels = ", ".join(f"{lab}: {k}" for lab, k in oos["labels"].items())
        parts.append(
            f"{oos['uncertain_share']:.1%} of {oos['n']} out-of-scope paragraphs ({labels}) "
            "flagged uncertain"
        )
    else:
        parts.append("no out-of-scope paragraph (a label the model lacks) to measure")
    return [f"threshold {m['threshold']}: " + "; ".join(parts)]


def _coverage_lines(m: Mapping[str, Any]) -> list[str]:
    curve = m.get("coverage_curve", [])
    if not curve or not m.get("n"):
        return []
    with_oos = bool(m.get("out_of_scope", {}).get("n"))
    out = ["coverage of in-scope paragraphs by threshold, and accuracy on those kept:"]
    out.append("  threshold  coverage  accuracy-covered" + ("  out-of-scope-flagged" * with_oos))
    for c in curve:
        accuracy = c["accuracy_covered"]
        shown = "n/a" if accuracy is None or not c["coverage"] else f"{accuracy:.3f}"
        line = f"  {c['threshold']:9.2f}  {c['coverage']:8.3f}  {shown:>16}"
        if with_oos:
            line += f"  {c['out_of_scope_flagged']:20.3f}"
        out.append(line)
    return out


def _error_lines(m: Mapping[str, Any]) -> list[str]:
    errors = m.get("errors", [])
    if not errors:
        return []
    cut = m.get("threshold")
    out = ["most confident errors (true -> predicted, score, n-grams behind the prediction):"]
    marked = False
    for e in errors:
        flag = "?" if cut is not None and e["score"] < cut else ""
        marked |= bool(flag)
        feats = ", ".join(f"{n} {v:+.2f}" for n, v in e["features"])
        feats = f"[{feats}]" if feats else "(no known n-gram)"
        out.append(f"  {e['label']} -> {e['predicted']} {e['score']:.2f}{flag}  {feats}")
        text = e["text"]
        out.append(f"      {text[:149] + '…' if len(text) > 150 else text}")
    if marked:
        out.append(f"? below the threshold ({cut}): the model flags it uncertain")
    return out


# --- plots ------------------------------------------------------------------------


def write_plots(report: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Confusion matrix, reliability diagram and coverage curve as PNG files
    in ``out_dir``.  Draws on :class:`matplotlib.figure.Figure` objects, never
    pyplot: the caller's matplotlib backend and figures are left alone."""
    if not isinstance(out_dir, str | os.PathLike):
        raise InputTypeError(f"plots() expected a folder's path, got {describe(out_dir)}")
    from matplotlib.figure import Figure

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidArgumentError(f"expected a folder for the plots, found a file: {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InvalidArgumentError(f"cannot write the plots in {out}: {e.strerror or e}") from None
    paths = []

    def save(fig: Figure, name: str) -> None:
        fig.tight_layout()
        paths.append(out / name)
        try:
            fig.savefig(paths[-1], dpi=110)
        except OSError as e:  # a read-only or full file system
            why = e.strerror or e
            raise InvalidArgumentError(f"cannot write the plots in {out}: {why}") from None

    labels = report["confusion"]["labels"]
    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.subplots()
    if report["confusion"]["matrix"]:
        matrix = np.array(report["confusion"]["matrix"])
        ax.imshow(matrix, cmap="Blues")
        for (i, j), v in np.ndenumerate(matrix):
            colour = "white" if v > matrix.max() / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", color=colour)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion (n={report['n']}, macro-F1 {report['macro_f1']:.3f})")
    save(fig, "confusion.png")

    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    bins = report["calibration"]
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.bar(
        [b["low"] for b in bins],
        [b["accuracy"] for b in bins],
        width=[b["high"] - b["low"] for b in bins],
        align="edge",
        alpha=0.6,
        edgecolor="black",
        label="accuracy per confidence bin",
    )
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"reliability (ECE {report['ece']:.3f})")
    ax.legend(loc="upper left")
    save(fig, "reliability.png")

    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.subplots()
    curve = report["coverage_curve"]
    ts = [c["threshold"] for c in curve]
    accuracy = [np.nan if c["accuracy_covered"] is None else c["accuracy_covered"] for c in curve]
    ax.plot(ts, [c["coverage"] for c in curve], "o-", label="in-scope coverage")
    ax.plot(ts, accuracy, "s-", label="accuracy on covered")
    if report["out_of_scope"]["n"]:
        ax.plot(ts, [c["out_of_scope_flagged"] for c in curve], "^-", label="out-of-scope flagged")
    ax.axvline(report["threshold"], color="grey", linestyle=":", label="threshold")
    ax.set_xlabel("uncertainty threshold")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left")
    ax.set_title("coverage vs accuracy")
    save(fig, "coverage.png")
    return paths
