"""Scores of a model on labeled data: accuracy, macro-F1, per-label
precision/recall/F1, confusion matrix and calibration (expected
calibration error)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "coverage_curve",
    "evaluate",
    "expected_calibration_error",
    "pick_threshold",
    "score",
    "write_plots",
]


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = 15
) -> float:
    """Top-label ECE: the support-weighted mean gap between confidence and
    accuracy over ``n_bins`` equal-width confidence bins."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidence.size == 0:
        return 0.0
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.sum() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(total / confidence.size)


def score(
    labels: Sequence[str],
    y_true: Sequence[str],
    proba: np.ndarray,
    *,
    acceptable: Sequence[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Metrics of predictions ``proba`` (columns in ``labels`` order) against
    ``y_true``.  With ``acceptable`` (other defensible labels per item),
    also ``acceptable_accuracy``: the prediction is the label or one of them."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = list(labels)
    y_true = list(y_true)
    y_pred = [labels[i] for i in np.asarray(proba).argmax(axis=1)] if len(y_true) else []
    correct = np.array([t == p for t, p in zip(y_true, y_pred, strict=True)], dtype=bool)
    present = [lab for lab in labels if lab in set(y_true)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=present, zero_division=0)
    out: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(correct.mean()) if len(y_true) else 0.0,
        "macro_f1": float(np.mean(f)) if len(present) else 0.0,
        "ece": expected_calibration_error(np.asarray(proba).max(axis=1), correct)
        if len(y_true)
        else 0.0,
        "per_label": {
            lab: {"precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
            for lab, pi, ri, fi, si in zip(present, p, r, f, s, strict=True)
        },
        "confusion": {
            "labels": labels,
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()
            if len(y_true)
            else [],
        },
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
) -> list[dict[str, float]]:
    """Per confidence bin: mean confidence, accuracy and count (reliability diagram)."""
    bins = np.minimum((np.asarray(confidence) * n_bins).astype(int), n_bins - 1)
    out = []
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
) -> list[dict[str, float]]:
    """For each threshold: share of in-scope paragraphs kept (not uncertain),
    accuracy on those, and share of out-of-scope paragraphs flagged uncertain."""
    rows = []
    for t in THRESHOLD_GRID:
        kept = in_scope_conf >= t
        rows.append(
            {
                "threshold": t,
                "coverage": float(kept.mean()) if kept.size else 0.0,
                "accuracy_covered": float(in_scope_correct[kept].mean()) if kept.any() else 0.0,
                "out_of_scope_flagged": float((out_scope_conf < t).mean())
                if out_scope_conf.size
                else 0.0,
            }
        )
    return rows


def pick_threshold(curve: Sequence[dict[str, float]], *, min_coverage: float = 0.85) -> float:
    """The shipped rule: among thresholds keeping at least ``min_coverage`` of
    in-scope paragraphs, the one that best separates in-scope from
    out-of-scope text (largest flagged-out-of-scope minus flagged-in-scope
    share)."""
    ok = [r for r in curve if r["coverage"] >= min_coverage] or [curve[0]]
    best = max(ok, key=lambda r: (r["out_of_scope_flagged"] - (1 - r["coverage"]), -r["threshold"]))
    return float(best["threshold"])


def top_features(
    clf: Any, records: Sequence[Mapping[str, Any]], label_index: Sequence[int], k: int = 5
) -> list[list[tuple[str, float]]]:
    """For each record, the ``k`` n-grams that pushed hardest towards the given label."""
    out = []
    for r, li in zip(records, label_index, strict=True):
        contribs = clf.contributions(r["text"], context=r.get("context"))
        ranked = sorted(((float(c[li]), name) for name, c in contribs if c[li] > 0), reverse=True)
        out.append([(name, v) for v, name in ranked[:k]])
    return out


#: Labels about our topics: "topical" scores count them against everything else.
TOPICAL = ("military", "diplomacy", "humanitarian")
#: What data files call the out-of-scope label, and what models answer.
DATA_OUT_OF_SCOPE, MODEL_OUT_OF_SCOPE = "none", "other"


def _model_label(label: str, labels: Sequence[str]) -> str:
    """A data label as the model names it (``none`` is the model's ``other``)."""
    if label == DATA_OUT_OF_SCOPE and MODEL_OUT_OF_SCOPE in labels:
        return MODEL_OUT_OF_SCOPE
    return label


def topical_scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
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
    clf: Any,
    records: Sequence[Mapping[str, Any]],
    *,
    threshold: float | None = None,
    n_errors: int = 20,
) -> dict[str, Any]:
    """Score a :class:`newsclf.Classifier` on labeled records.

    Records whose label the model knows are scored (overall, by ``source``
    and by ``outlet`` when present); the others (e.g. ``none``) measure
    out-of-scope behaviour: how many the model flags uncertain.  Returns
    metrics, calibration bins, the coverage curve and the worst errors with
    the n-grams behind them.
    """
    labels = list(clf.labels)
    cut = clf.threshold if threshold is None else threshold
    records = [
        {**r, "label": _model_label(r["label"], labels),
         "acceptable": [_model_label(a, labels) for a in r.get("acceptable") or []]}
        for r in records
    ]  # fmt: skip
    known = [r for r in records if r["label"] in labels]
    unknown = [r for r in records if r["label"] not in labels]
    proba = _proba(clf, known)
    y = [r["label"] for r in known]
    report = score(labels, y, proba, acceptable=[r.get("acceptable") or [] for r in known])
    conf = proba.max(axis=1) if len(known) else np.zeros(0)
    pred_idx = proba.argmax(axis=1) if len(known) else np.zeros(0, dtype=int)
    correct = np.array([labels[p] == t for p, t in zip(pred_idx, y, strict=True)], dtype=bool)
    report["threshold"] = cut
    report["calibration"] = calibration_bins(conf, correct)
    report["uncertain_share"] = float((conf < cut).mean()) if len(known) else 0.0
    for key in ("source", "outlet"):
        values = sorted({str(r[key]) for r in known if key in r})
        if values:
            report[f"by_{key}"] = {
                v: score(
                    labels,
                    [y[i] for i, r in enumerate(known) if str(r.get(key)) == v],
                    proba[[i for i, r in enumerate(known) if str(r.get(key)) == v]],
                )
                for v in values
            }
    oos_conf = _proba(clf, unknown).max(axis=1) if unknown else np.zeros(0)
    report["out_of_scope"] = {
        "n": len(unknown),
        "labels": dict(sorted(Counter(r["label"] for r in unknown).items())),
        "uncertain_share": float((oos_conf < cut).mean()) if len(unknown) else 0.0,
    }
    report["coverage_curve"] = coverage_curve(conf, correct, oos_conf)
    wrong = np.flatnonzero(~correct)
    worst = wrong[np.argsort(-conf[wrong])][:n_errors]
    feats = top_features(clf, [known[i] for i in worst], [int(pred_idx[i]) for i in worst])
    if MODEL_OUT_OF_SCOPE in labels:
        predicted = [labels[int(i)] for i in pred_idx]
        report.update(_out_of_scope_scores(labels, y, predicted))
        for key in ("source", "outlet"):
            for v, sub in report.get(f"by_{key}", {}).items():
                idx = [i for i, r in enumerate(known) if str(r.get(key)) == v]
                sub.update(
                    _out_of_scope_scores(labels, [y[i] for i in idx], [predicted[i] for i in idx])
                )
    report["errors"] = [
        {
            "text": known[i]["text"],
            "label": y[i],
            "predicted": labels[int(pred_idx[i])],
            "score": float(conf[i]),
            "features": [(name, round(value, 4)) for name, value in f],
            **{k: known[i][k] for k in ("doc_id", "para", "id", "source") if k in known[i]},
        }
        for i, f in zip(worst, feats, strict=True)
    ]
    return report


def _out_of_scope_scores(
    labels: Sequence[str], y: Sequence[str], predicted: Sequence[str]
) -> dict[str, Any]:
    """For a model with an out-of-scope label: topical P/R/F1, and the macro-F1
    over the in-scope labels on in-scope paragraphs (comparable with a model
    that has no out-of-scope label)."""
    from sklearn.metrics import f1_score

    inside = [i for i, t in enumerate(y) if t != MODEL_OUT_OF_SCOPE]
    in_scope = [lab for lab in labels if lab != MODEL_OUT_OF_SCOPE and lab in set(y)]
    f1 = f1_score(
        [y[i] for i in inside],
        [predicted[i] for i in inside],
        labels=in_scope,
        average="macro",
        zero_division=0,
    )
    return {"topical": topical_scores(y, predicted), "in_scope_macro_f1": float(f1)}


def _proba(clf: Any, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Probabilities of records, each read with its ``context`` when it has one."""
    texts = [r["text"] for r in records]
    contexts = [r.get("context") or r["text"] for r in records]
    return clf.predict_proba(texts, contexts=contexts) if records else np.zeros((0, 0))


def write_plots(report: dict[str, Any], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Confusion matrix, reliability diagram and coverage curve as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    labels = report["confusion"]["labels"]
    matrix = np.array(report["confusion"]["matrix"]) if report["confusion"]["matrix"] else None
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    if matrix is not None:
        ax.imshow(matrix, cmap="Blues")
        for (i, j), v in np.ndenumerate(matrix):
            colour = "white" if v > matrix.max() / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", color=colour)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion (n={report['n']}, macro-F1 {report['macro_f1']:.3f})")
    fig.tight_layout()
    paths.append(out / "confusion.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
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
    fig.tight_layout()
    paths.append(out / "reliability.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    curve = report["coverage_curve"]
    ts = [c["threshold"] for c in curve]
    ax.plot(ts, [c["coverage"] for c in curve], "o-", label="in-scope coverage")
    ax.plot(ts, [c["accuracy_covered"] for c in curve], "s-", label="accuracy on covered")
    if report["out_of_scope"]["n"]:
        ax.plot(ts, [c["out_of_scope_flagged"] for c in curve], "^-", label="out-of-scope flagged")
    ax.axvline(report["threshold"], color="grey", linestyle=":", label="threshold")
    ax.set_xlabel("uncertainty threshold")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left")
    ax.set_title("coverage vs accuracy")
    fig.tight_layout()
    paths.append(out / "coverage.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths
