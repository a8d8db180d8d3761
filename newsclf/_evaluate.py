"""Scores of a model on labeled data: accuracy, macro-F1, per-label
precision/recall/F1, confusion matrix and calibration (expected
calibration error)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["expected_calibration_error", "score"]


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
