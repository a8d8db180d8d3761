"""Evaluation: metrics, calibration, out-of-scope coverage, error listing, the typed
report, its one text rendering, and plots."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import newsclf
from newsclf import _cli
from newsclf._evaluate import (
    THRESHOLD_GRID,
    Report,
    coverage_curve,
    evaluate,
    expected_calibration_error,
    format_metrics,
    pick_threshold,
    write_plots,
)
from newsclf._train import summary

OUT_OF_SCOPE = [
    {"text": "فاز الفريق بالمباراة النهائية بهدفين نظيفين", "label": "none"},
    {"text": "ارتفعت أسعار الذهب في الأسواق العالمية اليوم", "label": "none"},
]


class TableModel:
    """A stand-in for a Classifier (the ScoringModel protocol): each text's
    probabilities come from a table, and every text counts as having a
    known feature (so only the threshold flags it uncertain)."""

    labels = ("boilerplate", "humanitarian", "other")
    threshold = 0.5

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def classify_many(self, texts, *, contexts=None, threshold):
        for t in texts:
            row = self.table[t]
            yield SimpleNamespace(
                scores=dict(zip(self.labels, row, strict=True)), uncertain=max(row) < threshold
            )

    def contributions(self, text, *, context=None) -> list:
        return []


#: Right with 0.9; wrong with 0.4 (below the threshold); right with 0.8; one
#: paragraph of a label the model lacks.
TABLE = {
    "a": [0.9, 0.05, 0.05],
    "b": [0.4, 0.3, 0.3],
    "c": [0.1, 0.8, 0.1],
    "d": [0.3, 0.3, 0.4],
}
ROWS = [
    {"text": "a", "label": "boilerplate"},
    {"text": "b", "label": "humanitarian"},
    {"text": "c", "label": "humanitarian"},
    {"text": "d", "label": "sport"},
]


@pytest.fixture
def table_metrics() -> dict:
    return evaluate(TableModel(TABLE), ROWS)


def test_ece_of_perfect_and_overconfident_models() -> None:
    """Expected calibration error is 0 for a model right with full confidence, 0.9 for one always
    wrong with 0.9, and 0 on no data."""
    assert expected_calibration_error(np.array([1.0, 1.0]), np.array([1, 1])) == 0.0
    assert expected_calibration_error(np.array([0.9] * 10), np.array([0] * 10)) == pytest.approx(
        0.9
    )
    assert expected_calibration_error(np.zeros(0), np.zeros(0)) == 0.0


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
    """Scores, by-source scores, out-of-scope counts and the most confident errors.
    Regression: the error loop asserted nothing when there were no errors; two
    paragraphs given a wrong label here make sure there are some."""
    texts = {"military": "قصفت المدفعية الثقيلة مواقع المسلحين قرب الحدود"}
    mislabeled = [{"text": texts["military"], "label": "diplomacy", "source": "original"}]
    data = [{**r, "source": "original", "acceptable": []} for r in records[:199]]
    data += mislabeled + OUT_OF_SCOPE
    report = evaluate(clf, data, n_errors=5)
    assert report["n"] == 200
    assert set(report["per_label"]) <= set(clf.labels)
    assert sum(map(sum, report["confusion"]["matrix"])) == 200
    assert 0 <= report["ece"] <= 1 and report["acceptable_accuracy"] >= report["accuracy"]
    assert report["out_of_scope"]["n"] == 2 and report["out_of_scope"]["labels"] == {"none": 2}
    assert report["by_source"]["original"]["n"] == 200
    errors = report["errors"]
    assert 1 <= len(errors) <= 5
    assert any(e["text"] == texts["military"] and e["predicted"] == "military" for e in errors)
    assert [e["score"] for e in errors] == sorted((e["score"] for e in errors), reverse=True)
    for e in errors:
        assert e["label"] != e["predicted"] and e["text"] and e["source"] == "original"
        assert all(value > 0 for _, value in e["features"])


def test_classifier_evaluate_returns_a_typed_frozen_report(clf, records: list[dict]) -> None:
    """``Classifier.evaluate`` returns a frozen ``newsclf.Report`` holding the counts, curve and
    errors; ``to_dict`` hands out a copy of ``evaluate``'s dict, valid as strict JSON, and ``str``
    renders it as ``format_metrics`` does."""
    data = [{**r, "source": "original"} for r in records[:150]] + OUT_OF_SCOPE
    report = clf.evaluate(data, n_errors=3)
    assert isinstance(report, newsclf.Report) and newsclf.Report is Report
    assert report.to_dict() == evaluate(clf, data, n_errors=3)
    assert json.loads(json.dumps(report.to_dict(), allow_nan=False)) == json.loads(
        json.dumps(evaluate(clf, data, n_errors=3))
    )
    assert report.n == 150 and report.labels == clf.labels
    assert len(report.confusion) == len(clf.labels) and sum(map(sum, report.confusion)) == 150
    assert report.by_source["original"]["n"] == 150 and not report.by_outlet
    assert report.out_of_scope["n"] == 2 and report.threshold == clf.threshold
    assert len(report.coverage_curve) == len(THRESHOLD_GRID) and len(report.errors) <= 3
    assert report.acceptable_accuracy is None  # the data has no "acceptable" field
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.accuracy = 1.0  # type: ignore[misc]
    copy = report.to_dict()
    copy["per_label"].clear()
    assert report.to_dict()["per_label"]  # to_dict hands out a copy
    assert str(report) == format_metrics(report.to_dict())


def test_evaluate_checks_its_arguments(clf) -> None:
    """``evaluate`` refuses a bad ``threshold`` or ``n_errors``, records without a text field or
    with a non-string label, records with nothing to score, and ``None``, each with a newsclf
    error."""
    rows = [{"text": "نص", "label": "military"}]
    with pytest.raises(newsclf.InvalidArgumentError, match="threshold"):
        clf.evaluate(rows, threshold=1.5)
    with pytest.raises(newsclf.InvalidArgumentError, match="n_errors"):
        clf.evaluate(rows, n_errors=-1)
    with pytest.raises(newsclf.InputTypeError, match="n_errors"):
        clf.evaluate(rows, n_errors="5")  # type: ignore[arg-type]
    with pytest.raises(newsclf.DataError, match="'body', 'label'"):
        clf.evaluate([{"body": "نص", "label": "military"}])
    with pytest.raises(newsclf.DataError, match=r"'label' is a number \(3\)"):
        clf.evaluate([{"text": "نص", "label": 3}])
    # Regressions: scikit-learn's "Found empty input array", and a bare TypeError.
    for rows in ([], [{"text": "نص", "label": "Military "}, {"text": "نص", "label": "sport"}]):
        with pytest.raises(newsclf.DataError, match="nothing to score"):
            clf.evaluate(rows)
    with pytest.raises(newsclf.InputTypeError, match="records must be an iterable"):
        clf.evaluate(None)  # type: ignore[arg-type]


def test_out_of_scope_records_alone_are_scored() -> None:
    """Regression: on a model with the ``other`` label, records all out of
    scope failed in scikit-learn (no in-scope paragraph for its macro-F1)."""
    rows = [{"text": "ارتفعت أسعار النفط في الأسواق العالمية", "label": "none"}]
    report = newsclf.load().evaluate(rows).to_dict()
    assert report["n"] == 1 and "in_scope_macro_f1" not in report


def test_no_topical_scores_for_a_label_set_without_our_topics() -> None:
    """Regression: a user's own labels with ``other`` but none of military,
    diplomacy or humanitarian got "topical P 0.000 R 0.000 F1 0.000 n=0"
    in evaluate, info and the training summary.  Now there is no topical
    line; a label set with one of our topics keeps it."""
    words = {
        "economy": "ارتفعت أسعار النفط والأسهم في البورصة",
        "sport": "فاز الفريق بالمباراة وتأهل إلى النهائي",
        "other": "افتتح المهرجان الثقافي معرضا للكتاب",
        "military": "قصفت المدفعية مواقع المسلحين قرب الحدود",
    }
    for labels, topical in (
        (("economy", "sport", "other"), False),
        (("economy", "military", "other"), True),
    ):
        rows = [{"text": f"{words[lab]} {i}", "label": lab} for i in range(12) for lab in labels]
        clf = newsclf.train(rows, exclude_labels=(), seed=0, log=lambda *_: None)
        report = clf.evaluate(rows)
        assert ("topical" in report.to_dict()) is topical
        assert ("topical" in str(report)) is topical
        assert ("topical" in clf.metadata["metrics"]) is topical


def test_missing_text_field_names_the_fields_and_the_option(
    tmp_path: Path, model_dir: Path, capsys
) -> None:
    """``newsclf evaluate`` on records without the text field exits 2 with an error naming the
    missing field, the record's fields and ``--text-field``."""
    data = tmp_path / "d.jsonl"
    data.write_text('{"body": "نص", "label": "military"}\n', encoding="utf-8")
    assert _cli.main(["evaluate", "--data", str(data), "--model", str(model_dir)]) == 2
    err = capsys.readouterr().err
    assert "missing text field 'text'" in err and "'body', 'label'" in err
    assert "--text-field" in err


# --- the text rendering ----------------------------------------------------------


def test_format_cosmetics(table_metrics: dict) -> None:
    """Regressions: confusion headers cut to 'boilerplat'/'humanitari'; 'acceptable
    accuracy' without an acceptable field; accuracy 0.000 where no paragraph is kept;
    an empty n-gram list; the '?' marker unexplained."""
    text = format_metrics(table_metrics)
    lines = text.splitlines()
    header = lines[lines.index("confusion (rows: true, columns: predicted):") + 1]
    assert header.split() == ["boilerplate", "humanitarian", "other"]
    assert "acceptable" not in text and "acceptable_accuracy" not in table_metrics
    curve = {c["threshold"]: c for c in table_metrics["coverage_curve"]}
    assert curve[0.95]["coverage"] == 0 and curve[0.95]["accuracy_covered"] is None
    assert [line.split()[2] for line in lines if line.strip().startswith("0.95")] == ["n/a"]
    (error,) = [line for line in lines if line.startswith("  ") and "->" in line]
    assert error.strip() == "humanitarian -> boilerplate 0.40?  (no known n-gram)"
    assert "[]" not in text
    assert (
        lines[lines.index(error) + 2] == "? below the threshold (0.5): the model flags it uncertain"
    )
    assert "33.3% of in-scope paragraphs flagged uncertain" in text
    assert "100.0% of 1 out-of-scope paragraphs (sport: 1) flagged uncertain" in text


def test_marker_and_acceptable_only_where_they_apply() -> None:
    """Acceptable accuracy is shown when the data has an ``acceptable`` field, and the ``?`` marker
    is left out when no paragraph is below the threshold."""
    rows = [{**r, "acceptable": ["boilerplate"]} for r in ROWS]
    metrics = evaluate(TableModel(TABLE), rows, threshold=0.3)
    text = format_metrics(metrics)
    assert metrics["acceptable_accuracy"] == 1.0 and "acceptable accuracy 1.000" in text
    assert "0.40  (no known n-gram)" in text and "?" not in text


def test_one_renderer_for_evaluate_info_and_the_training_summary(
    model_dir: Path, capsys, table_metrics: dict
) -> None:
    """newsclf evaluate, newsclf info and the training summary show a metrics dict
    the same way: the brief report is the start of the full one, and info and the
    summary print the same lines for the same held-out metrics."""
    full, brief = format_metrics(table_metrics), format_metrics(table_metrics, detail="brief")
    assert full.startswith(brief + "\n") and "confusion" not in brief
    metadata = newsclf.load(model_dir).metadata
    assert _cli.main(["info", "--model", str(model_dir)]) == 0
    info = capsys.readouterr().out.splitlines()
    trained = summary(model_dir, metadata).splitlines()

    def per_label(lines: list[str]) -> list[str]:
        return [s.strip() for s in lines if s.split()[:2] and s.split()[1] == "P"]

    assert len(per_label(info)) == len(metadata["metrics"]["per_label"]) > 0
    assert per_label(info) == per_label(trained)
    assert any(line.startswith("  held-out macro-F1") for line in trained)
    assert any(line.startswith("held-out:   macro-F1") for line in info)


def test_streaming_metrics_render_without_the_evaluate_keys() -> None:
    """A streaming model stores only score(): the renderer leaves out what is missing."""
    from newsclf._evaluate import score

    metrics = score(["a", "b"], ["a", "b"], np.array([[0.9, 0.1], [0.2, 0.8]]))
    text = format_metrics(metrics, detail="full")
    assert text.startswith("macro-F1 1.000  accuracy 1.000") and "threshold" not in text
    assert (
        format_metrics({"n": 0}) == "no paragraph with one of the model's labels: nothing to score"
    )


# --- plots --------------------------------------------------------------------------


def test_plots_leave_the_callers_backend_alone(
    clf, records: list[dict], tmp_path: Path, monkeypatch
) -> None:
    """Regression: write_plots called matplotlib.use('Agg') and drew with pyplot."""
    import matplotlib

    def switch(*args: object, **kwargs: object) -> None:
        raise AssertionError("the backend was switched")

    before = dict.__getitem__(matplotlib.rcParams, "backend")
    monkeypatch.setattr(matplotlib, "use", switch)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # importing it fails
    report = clf.evaluate(records[:100] + OUT_OF_SCOPE, n_errors=0)
    paths = report.plots(tmp_path / "plots")
    assert [p.name for p in paths] == ["confusion.png", "reliability.png", "coverage.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    assert dict.__getitem__(matplotlib.rcParams, "backend") == before


def test_plots_of_a_curve_with_no_coverage(table_metrics: dict, tmp_path: Path) -> None:
    """Plots are written, none of them empty, when some thresholds of the coverage curve keep no
    paragraph."""
    paths = write_plots(table_metrics, tmp_path)
    assert all(p.stat().st_size > 0 for p in paths)


# --- the shipped thresholds ---------------------------------------------------------------


def test_thresholds_were_chosen_by_the_rule(clf) -> None:
    """The fixture model held out out-of-scope paragraphs: its threshold comes from
    the rule, on the grid.  The bundled model answers them with its "other" label:
    none are held out, and the rule falls back to the default threshold."""
    from newsclf._model import DEFAULT_THRESHOLD

    assert clf.metadata["threshold_rule"].startswith("in-scope coverage >= 0.85")
    assert clf.threshold in THRESHOLD_GRID
    meta = newsclf.load().metadata
    assert meta["threshold_rule"].startswith("default: no out-of-scope records")
    assert meta["metrics"]["out_of_scope"]["n"] == 0
    assert meta["uncertainty_threshold"] == DEFAULT_THRESHOLD


def test_flagged_shares_follow_the_classifiers_rule(clf, records: list[dict]) -> None:
    """A text with no feature the model knows is flagged uncertain by the
    classifier whatever its top probability; the report's shares and coverage
    curve count it so too (they compared the top probability only)."""
    unknown = ["zzqx wvvk", "", "qqqj"]
    rows = [{"text": r["text"], "label": r["label"]} for r in records[:40] if r["label"] != "none"]
    rows += [{"text": t, "label": rows[0]["label"]} for t in unknown]
    rows += [{"text": t, "label": "none"} for t in unknown]
    report = clf.evaluate(rows, threshold=0.0)
    flagged = [p.uncertain for p in clf.classify_many([r["text"] for r in rows], threshold=0.0)]
    n_in = len(rows) - len(unknown)
    assert report.uncertain_share == pytest.approx(sum(flagged[:n_in]) / n_in)
    assert report.out_of_scope["uncertain_share"] == 1.0
    assert report.coverage_curve[0]["out_of_scope_flagged"] == 1.0


def test_evaluate_audit_regressions(clf, tmp_path: Path, caplog, capsys, model_dir: Path) -> None:
    """Regressions (train/evaluate audit):
    - records labeled 'Military' or 'military ' were silently out of scope;
    - ``newsclf evaluate`` refused a file whose split column said
      'validation' (evaluation never splits) while Classifier.evaluate
      scored it;
    - Report.plots onto a file raised a bare FileExistsError;
    - a null source was scored as a source named "None"."""
    label = clf.labels[0]
    rows = [
        {"text": "قصفت المدفعية مواقع المسلحين", "label": label, "source": None, "split": "x"},
        {"text": "قصف مدفعي", "label": label.upper(), "source": "a"},
    ]
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        report = clf.evaluate(rows)
    assert f"['{label.upper()}'] are not scored as the model's ['{label}']" in caplog.text
    assert list(report.to_dict().get("by_source", {})) == []  # only the unscored row had one
    path = tmp_path / "held.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    status = _cli.main(["evaluate", "--data", str(path), "--model", str(model_dir), "--json"])
    assert status == 0 and json.loads(capsys.readouterr().out)["n"] == 1
    (tmp_path / "file").write_text("x")
    with pytest.raises(newsclf.InvalidArgumentError, match="expected a folder for the plots"):
        report.plots(tmp_path / "file")
    # Regression (API audit): a bare TypeError from pathlib.
    with pytest.raises(newsclf.InputTypeError, match="expected a folder's path, got NoneType"):
        report.plots(None)  # type: ignore[arg-type]
    with pytest.raises(newsclf.InvalidArgumentError, match="cannot write the plots in"):
        report.plots(tmp_path / "file" / "plots")  # under a file: a raw OSError
    with pytest.raises(newsclf.InputTypeError, match="log must be a function"):
        newsclf.train(rows, log=None)  # type: ignore[arg-type]


def test_a_rare_label_is_named_not_scikit_learns_warning(caplog) -> None:
    """Regression (train audit): a label with one training paragraph printed
    scikit-learn's RuntimeWarning from the threshold's cross-validation (a
    site-packages path, no label named); now a newsclf warning names it."""
    import warnings

    rows = [
        {"text": f"{t} {i}", "label": lab, "group": f"g{i}"}
        for i in range(40)
        for t, lab in (("قصفت المدفعية مواقع المسلحين", "military"), ("بحث الوزير", "diplomacy"))
    ]
    rows += [{"text": "وزعت المنظمة مساعدات", "label": "humanitarian", "split": "train"}]
    rows += [{"text": f"طقس {i}", "label": "none", "group": f"n{i}"} for i in range(8)]
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        newsclf.train(rows, log=lambda *_: None)
    assert not [w for w in caught if "Number of classes" in str(w.message)]
    assert "rarest: humanitarian 1" in caplog.text
