"""Evaluation: metrics, calibration, out-of-scope coverage, error listing, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from newsclf._evaluate import (
    coverage_curve,
    evaluate,
    expected_calibration_error,
    pick_threshold,
    write_plots,
)

OUT_OF_SCOPE = [
    {"text": "فاز الفريق بالمباراة النهائية بهدفين نظيفين", "label": "none"},
    {"text": "ارتفعت أسعار الذهب في الأسواق العالمية اليوم", "label": "none"},
]


def test_ece_of_perfect_and_overconfident_models() -> None:
    assert expected_calibration_error(np.array([1.0, 1.0]), np.array([1, 1])) == 0.0
    assert expected_calibration_error(np.array([0.9] * 10), np.array([0] * 10)) == pytest.approx(
        0.9
    )


def test_coverage_curve_and_threshold_rule() -> None:
    """Higher thresholds keep fewer in-scope paragraphs and flag more out-of-scope ones."""
    conf = np.linspace(0.3, 1.0, 100)
    curve = coverage_curve(conf, conf > 0.5, np.full(20, 0.35))
    cov = [c["coverage"] for c in curve]
    assert cov == sorted(cov, reverse=True)
    t = pick_threshold(curve, min_coverage=0.85)
    chosen = next(c for c in curve if c["threshold"] == t)
    assert chosen["coverage"] >= 0.85 and chosen["out_of_scope_flagged"] == 1.0


def test_evaluate_report(clf, records: list[dict]) -> None:
    data = [{**r, "source": "original", "acceptable": []} for r in records[:200]] + OUT_OF_SCOPE
    report = evaluate(clf, data, n_errors=5)
    assert report["n"] == 200
    assert set(report["per_label"]) <= set(clf.labels)
    assert sum(map(sum, report["confusion"]["matrix"])) == 200
    assert 0 <= report["ece"] <= 1 and report["acceptable_accuracy"] >= report["accuracy"]
    assert report["out_of_scope"]["n"] == 2
    assert report["by_source"]["original"]["n"] == 200
    for e in report["errors"]:
        assert e["label"] != e["predicted"] and e["text"]


def test_plots_are_written(clf, records: list[dict], tmp_path: Path) -> None:
    report = evaluate(clf, records[:100] + OUT_OF_SCOPE, n_errors=0)
    paths = write_plots(report, tmp_path / "plots")
    assert [p.name for p in paths] == ["confusion.png", "reliability.png", "coverage.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_bundled_threshold_was_chosen_by_the_rule() -> None:
    import newsclf

    meta = newsclf.load().metadata
    assert "threshold_rule" in meta
    # The bundled model answers out-of-scope paragraphs with its "other" label:
    # none are held out, and the rule falls back to the default threshold.
    assert meta["metrics"]["out_of_scope"]["n"] == 0
    assert meta["uncertainty_threshold"] == 0.5
