"""Training: splits, determinism, any label set, errors that say what to do,
repeated texts across the split, the command and its output folder.  (The
data readers: test_data.py.)"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path

import numpy as np
import pytest

import newsclf
from newsclf._data import data_sha256
from newsclf._train import build_parser, main, split_records, train, train_streaming


def _quiet(message: str) -> None:
    pass


def test_split_never_puts_one_article_on_both_sides(records: list[dict]) -> None:
    """The random split keeps each article's paragraphs on one side and loses no record."""
    train_rows, test_rows = split_records(records, test_size=0.2, seed=3)
    assert {r["group"] for r in train_rows}.isdisjoint({r["group"] for r in test_rows})
    assert len(train_rows) + len(test_rows) == len(records)


def test_fixed_split_field_wins() -> None:
    """A record's ``split`` field puts it on that side, even apart from the rest of its article."""
    rows = [
        {"text": "a", "label": "x", "group": "g", "split": "test"},
        {"text": "b", "label": "x", "group": "g", "split": "train"},
    ]
    assert split_records(rows, test_size=0.5, seed=0) == ([rows[1]], [rows[0]])


def test_same_data_same_seed_same_predictions(records: list[dict]) -> None:
    """Training is deterministic: same data and seed give identical probabilities."""
    a = train(records, seed=7, log=_quiet)
    b = train(records, seed=7, log=_quiet)
    texts = [r["text"] for r in records[:200]]
    np.testing.assert_array_equal(a.pipeline.predict_proba(texts), b.pipeline.predict_proba(texts))
    assert a.metadata["training_data"] == b.metadata["training_data"]


def test_any_label_set_works(tmp_path: Path) -> None:
    """A user's own labels (not ours) train, save and load."""
    rows = _topic_rows()
    clf = newsclf.load(train(rows, seed=0, log=_quiet).save(tmp_path / "m"))
    assert clf.labels == ("economy", "sport")
    assert clf.predict(["انتهت المباراة بالتعادل"]) == ["sport"]


def test_too_few_labels_is_a_data_error() -> None:
    """Data with one label left once ``none`` is excluded is a DataError asking for at least 2
    labels."""
    rows = [{"text": "نص", "label": "a"}, {"text": "نص آخر", "label": "none"}]
    with pytest.raises(newsclf.DataError, match="at least 2 labels"):
        train(rows, log=_quiet)


def test_none_excluded_and_measured(records: list[dict]) -> None:
    """Out-of-scope 'none' records are left out of training and scored for uncertainty."""
    extra = [
        {"text": f"سجل اللاعب هدفين في المباراة رقم {i}", "label": "none", "group": f"n{i}"}
        for i in range(30)
    ]
    clf = train(records + extra, seed=0, log=_quiet)
    assert "none" not in clf.labels
    assert clf.metadata["metrics"]["out_of_scope"]["n"] > 0


def test_data_hash_depends_on_text_and_label() -> None:
    """The training-data hash ignores fields other than text and label, and changes with the
    label."""
    a = [{"text": "x", "label": "a"}]
    assert data_sha256(a) == data_sha256([{"text": "x", "label": "a", "other": 1}])
    assert data_sha256(a) != data_sha256([{"text": "x", "label": "b"}])


def test_streaming_trainer_reads_in_passes_and_loads(records: list[dict], tmp_path: Path) -> None:
    """The streaming trainer re-reads its source per pass, never holding the
    training set, and its artifact loads and predicts like any other."""
    from newsclf._train import train_streaming

    passes = []

    def read():
        passes.append(1)
        yield from iter(records)

    result = train_streaming(read, epochs=2, batch_size=100, seed=0, log=_quiet)
    assert len(passes) == 1 + 2 + 1  # labels, two epochs, held-out scoring
    metrics = result.metadata["metrics"]
    assert metrics["n"] > 0 and metrics["macro_f1"] > 0.6
    clf = newsclf.load(result.save(tmp_path / "s"))
    assert clf.predict(["اشترك الآن في نشرتنا البريدية"]) == ["boilerplate"]
    assert clf.classify("").uncertain
    again = train_streaming(lambda: iter(records), epochs=2, batch_size=100, seed=0, log=_quiet)
    texts = [r["text"] for r in records[:50]]
    np.testing.assert_array_equal(again.predict_proba(texts), result.predict_proba(texts))


def _topic_rows(n: int = 40) -> list[dict]:
    """Two labels of a user's own, every paragraph its own article."""
    rows = []
    for i in range(n):
        rows.append(
            {"text": f"مباراة كرة القدم انتهت بفوز الفريق {i}", "label": "sport", "group": f"s{i}"}
        )
        rows.append(
            {
                "text": f"ارتفعت أسعار النفط في الأسواق العالمية {i}",
                "label": "economy",
                "group": f"e{i}",
            }
        )
    return rows


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"seed": -5}, newsclf.InvalidArgumentError, "seed"),
        ({"seed": 1.5}, newsclf.InputTypeError, "seed"),
        ({"C": 0}, newsclf.InvalidArgumentError, "C must be"),
        ({"C": float("nan")}, newsclf.InvalidArgumentError, "C must be"),
        ({"C": 10**400}, newsclf.InvalidArgumentError, "C must be"),  # was an OverflowError
        ({"ngram_range": (0, 1)}, newsclf.InvalidArgumentError, "ngram_range"),
        ({"ngram_range": (1, 9)}, newsclf.InvalidArgumentError, "ngram_range"),
        ({"ngram_range": 2}, newsclf.InputTypeError, "ngram_range"),
        ({"min_df": 0}, newsclf.InvalidArgumentError, "min_df"),
        ({"context_weight": -1}, newsclf.InvalidArgumentError, "context_weight"),
        ({"class_weight": "even"}, newsclf.InvalidArgumentError, "class_weight"),
        ({"exclude_labels": "sport"}, newsclf.InputTypeError, "wrap one label"),
        ({"threshold": 2.0}, newsclf.InvalidArgumentError, "threshold"),
        ({"threshold": "x"}, newsclf.InputTypeError, "threshold"),
        ({"name": None}, newsclf.InputTypeError, "name"),
        ({"records": None}, newsclf.InputTypeError, "records must be"),
        ({"records": {"text": "x", "label": "y"}}, newsclf.InputTypeError, "records must be"),
        ({"records": [None]}, newsclf.DataError, "record 0"),
        ({"class_weight": np.array([1.0, 2.0])}, newsclf.InvalidArgumentError, "class_weight"),
        ({"seed": 2**40}, newsclf.InvalidArgumentError, "4294967295"),
    ],
)
def test_train_checks_its_arguments_first(kwargs: dict, error: type, message: str) -> None:
    """Regression: these failed deep in scikit-learn or numpy (or, like a
    str exclude_labels read as a set of letters, were wrong silently), or
    wrote an artifact that load() then refused."""
    records = kwargs.pop("records", _topic_rows(5))
    with pytest.raises(error, match=message):
        train(records, log=_quiet, **kwargs)


def test_train_takes_numpy_numbers(tmp_path: Path) -> None:
    """Regression (review): np.int64 seeds and min_df were refused."""
    clf = train(_topic_rows(5), seed=np.int64(3), min_df=np.int64(1), C=np.float32(2.0), log=_quiet)
    assert newsclf.load(clf.save(tmp_path / "m")).labels == ("economy", "sport")


def test_training_data_rules_the_audit_found(tmp_path: Path) -> None:
    """Regressions: a --group-field no record has, and split values other
    than train/test ('Test', 'dev'), were silently ignored (the split came
    out wrong); a null or blank group lumped its records into one article;
    a lone surrogate in a text failed after fitting; a saved DatasetDict
    folder was called unreadable."""
    from newsclf._data import read_records

    data = _jsonl(tmp_path / "d.jsonl", _topic_rows(5))
    with pytest.raises(newsclf.DataError, match="missing group field 'articel'"):
        read_records(data, group_field="articel")
    rows = [{**r, "split": "Test"} for r in _topic_rows(3)]
    with pytest.raises(newsclf.DataError, match="the split field is 'Test'"):
        read_records(_jsonl(tmp_path / "s.jsonl", rows))
    with pytest.raises(newsclf.DataError, match="the split field is 'dev'"):
        train([{**r, "split": "dev"} for r in _topic_rows(3)], log=_quiet)
    with pytest.raises(newsclf.DataError, match="lone surrogate"):
        train([*_topic_rows(3), {"text": "\ud800", "label": "sport"}], log=_quiet)
    for blank in (None, "", "  "):
        rows = [{**r, "group": blank} for r in _topic_rows(20)]
        _, test_rows = split_records(rows, test_size=0.5, seed=0)
        assert 10 <= len(test_rows) <= 30  # one article each, not one article in all
    import datasets

    ds = datasets.Dataset.from_dict({"text": ["نص"], "label": ["sport"]})
    datasets.DatasetDict({"train": ds, "test": ds}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(newsclf.DataError, match="holds several splits"):
        read_records(tmp_path / "dd")


def test_acceptable_labels_are_checked_before_fitting(caplog) -> None:
    """Regression: a bad ``acceptable`` failed after fitting, or not at all
    (depending on the seed), naming a position in the held-out records;
    {"sport": false} counted as accepting sport.  Labels that differ only in
    case or spaces are learned apart, with a warning."""
    for bad in (5, {"sport": False}, [None]):
        rows = [*_topic_rows(3), {"text": "نص", "label": "sport", "acceptable": bad}]
        with pytest.raises(newsclf.DataError, match="record 6: field 'acceptable'"):
            train(rows, log=_quiet)
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        train([*_topic_rows(3), {"text": "مباراة", "label": "Sport "}], log=_quiet)
    assert "differ only in case or spaces" in caplog.text


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "newsclf" and r.levelno == logging.WARNING
    ]


def test_conflicting_and_single_record_labels_are_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Regression: the same text labeled two ways, and a label with one
    training record, trained without a word (a labeling mistake the user
    never heard of).  With article context, the same paragraph in two
    articles may differ; in one article it may not."""
    rows = _topic_rows(10)
    clash = {**rows[0], "label": "economy", "group": "other-article"}
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        train([*rows, clash, {"text": "تتويج البطل", "label": "award"}], log=_quiet)
    conflict = [w for w in _warnings(caplog) if "labeled differently" in w]
    assert conflict == [
        "1 text is labeled differently in different records (first: record 0 'sport', "
        "record 20 'economy'); the model learns both labels for it: check the labels"
    ]
    assert any("labels ['award'] have a single training record" in w for w in _warnings(caplog))
    caplog.clear()
    in_articles = [{**r, "context": f"مقال {r['group']} عن الأخبار"} for r in [*rows, clash]]
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        train(in_articles, context_weight=0.5, log=_quiet)
    assert not [w for w in _warnings(caplog) if "labeled differently" in w]
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        train(
            [*in_articles, {**in_articles[0], "label": "economy"}], context_weight=0.5, log=_quiet
        )
    assert any("records of the same article (first: record 0" in w for w in _warnings(caplog))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        train([*rows, dict(rows[0])], log=_quiet)  # the same label twice: fine
    assert _warnings(caplog) == []


@pytest.mark.parametrize(
    ("field", "value"), [("acceptable", 5), ("acceptable", [None]), ("context", 5)]
)
def test_a_bad_field_in_a_file_is_named_by_its_line(
    tmp_path: Path, field: str, value: object
) -> None:
    """Regression: a bad ``acceptable`` (or ``context``) read from a file was
    named by the record's index among all records ("record 6"), not by its
    file and line."""
    from newsclf._data import read_records

    rows = [*_topic_rows(3), {"text": "نص", "label": "sport", field: value}]
    path = _jsonl(tmp_path / "data.jsonl", rows)
    with pytest.raises(newsclf.DataError, match=f"data.jsonl:{len(rows)}: field '{field}'"):
        read_records(path)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"exclude_labels": "none"}, newsclf.InputTypeError, "wrap one label"),
        ({"seed": -1}, newsclf.InvalidArgumentError, "seed"),
        ({"alpha": 0.0}, newsclf.InvalidArgumentError, "alpha"),
        ({"n_features": 0}, newsclf.InvalidArgumentError, "n_features"),
        ({"name": None}, newsclf.InputTypeError, "name"),
    ],
)
def test_train_streaming_checks_its_arguments(kwargs: dict, error: type, message: str) -> None:
    """Regression: the streaming trainer took a str exclude_labels as a set
    of letters and gave tracebacks for the rest."""
    with pytest.raises(error, match=message):
        train_streaming(lambda: iter(_topic_rows(5)), log=_quiet, **kwargs)


def test_train_streaming_refuses_a_label_only_held_out() -> None:
    """Regression: a label whose records were all held out was silently
    left out of the streaming model (the in-memory trainer refused)."""
    rows = [{**r, "split": "test"} if r["label"] == "sport" else r for r in _topic_rows(10)]
    rows.append({"text": "نص آخر", "label": "weather"})
    with pytest.raises(newsclf.DataError, match=r"labels \['sport'\] have no training records"):
        train_streaming(lambda: iter(rows), test_size=0.0, log=_quiet)


def test_options_of_the_other_trainer_are_refused(tmp_path: Path, capsys) -> None:
    """Regression: --C and --min-df were silently ignored with --streaming
    (and --epochs, --batch-size without it); now a usage error (exit 2)."""
    data = str(_jsonl(tmp_path / "d.jsonl", _topic_rows()))
    out = str(tmp_path / "m")
    assert main(["--data", data, "--out", out, "--streaming", "--min-df", "50"]) == 2
    assert "--min-df: only with the in-memory trainer" in capsys.readouterr().err
    assert main(["--data", data, "--out", out, "--epochs", "3"]) == 2
    assert "--epochs: only with --streaming" in capsys.readouterr().err


def test_train_command_refuses_bad_numbers(tmp_path: Path, capsys) -> None:
    """Regression: --C 0 and --seed -5 gave tracebacks; now usage errors."""
    data = str(_jsonl(tmp_path / "d.jsonl", _topic_rows()))
    for option in (["--C", "0"], ["--C", "nan"], ["--seed", "-5"], ["--seed", "1" * 30]):
        with pytest.raises(SystemExit) as exit_:
            main(["--data", data, "--out", str(tmp_path / "m"), *option])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "expected" in err and "Traceback" not in err


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def _error_line(err: str, prog: str) -> str:
    """The one error line of a command's stderr (beside its progress lines)."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("[newsclf train]")]
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    return lines[0]


# --- training errors say what to do -------------------------------------------


def test_one_letter_texts_say_what_to_do() -> None:
    """Regression: 4 one-letter texts gave "ValueError: After pruning, no terms remain"."""
    rows = [{"text": c, "label": lab} for c, lab in zip("abcd", "xyxy", strict=True)]
    with pytest.raises(
        newsclf.DataError, match=r"cannot train on these 4 paragraphs: .*give more .*--min-df"
    ):
        train(rows, test_size=0, log=_quiet)


@pytest.mark.parametrize("blank", ["", "  ", "\n"])
def test_empty_texts_say_what_to_do(blank: str) -> None:
    """Regression: empty texts gave "empty vocabulary" (and the streaming trainer no error)."""
    rows = [{"text": blank, "label": lab, "group": str(i)} for i, lab in enumerate("xyxyxy")]
    with pytest.raises(newsclf.DataError, match=r"all \d+ training texts are empty.*--text-field"):
        train(rows, log=_quiet)
    with pytest.raises(newsclf.DataError, match=r"all \d+ training texts are empty"):
        train_streaming(lambda: iter(rows), log=_quiet)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"text": 3, "label": "x"}, r"record 4: expected string fields 'text' and 'label'"),
        ({"label": "x"}, r"record 4: expected string fields .* found missing and a string"),
        ({"text": "نص", "label": ""}, r"record 4: the label is empty; give every record a label"),
        # Regression (training audit): a label of a zero-width space looked
        # empty, and a line break or an escape went raw into reports.
        ({"text": "نص", "label": "\u200b"}, r"record 4: the label is empty"),
        ({"text": "نص", "label": "war\nx"}, r"record 4: the label, 'war\\nx', holds a control"),
        ({"text": "نص", "label": "x\x1b[31m"}, r"record 4: the label, .*, holds a control"),
    ],
)
def test_bad_records_in_the_library_are_data_errors(bad: dict, message: str) -> None:
    """A non-string or missing text, or an empty label, is a DataError naming the record, in
    ``train`` and ``train_streaming`` alike."""
    rows = [*_topic_rows(2), bad]
    with pytest.raises(newsclf.DataError, match=message):
        train(rows, log=_quiet)
    with pytest.raises(newsclf.DataError, match=message):
        train_streaming(lambda: iter(rows), log=_quiet)


@pytest.mark.parametrize("prog", ["newsclf-train", "newsclf"])
def test_the_commands_report_untrainable_data_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], prog: str
) -> None:
    """``newsclf-train`` and ``newsclf train`` on untrainable data exit 2 with one error line saying
    to give more, and write no model folder."""
    from newsclf._cli import main as newsclf_main

    rows = [{"text": c, "label": lab} for c, lab in zip("abcd", "xyxy", strict=True)]
    data = _jsonl(tmp_path / "d.jsonl", rows)
    args = ["--data", str(data), "--out", str(tmp_path / "m"), "--test-size", "0"]
    status = main(args) if prog == "newsclf-train" else newsclf_main(["train", *args])
    assert status == 2
    assert "give more" in _error_line(capsys.readouterr().err, prog)
    assert not (tmp_path / "m").exists()


# --- bad numbers on the command line ------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--streaming", "--epochs", "0"],
        ["--streaming", "--epochs", "-1"],
        ["--streaming", "--batch-size", "0"],
        ["--batch-size", "2.5"],
        ["--test-size", "nan"],
        ["--test-size", "-0.1"],
        ["--test-size", "1"],
        ["--test-size", "inf"],
        ["--min-df", "0"],
    ],
)
def test_bad_numbers_are_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """Regression: --epochs 0 gave NotFittedError after reading the data, --batch-size 0
    was accepted, --test-size nan trained with no held-out set and exit 0."""
    with pytest.raises(SystemExit) as exit_:
        main(["--data", "absent.jsonl", "--out", "m", *args])
    assert exit_.value.code == 2
    assert f"argument {args[-2]}" in capsys.readouterr().err


def test_zero_test_size_means_no_held_out_set() -> None:
    """The parser accepts ``--test-size 0`` (no held-out set) and reads it as 0.0."""
    args = build_parser().parse_args(["--data", "d.jsonl", "--out", "m", "--test-size", "0"])
    assert args.test_size == 0.0


@pytest.mark.parametrize("test_size", [math.nan, -0.1, 1.0, 2, "0.2", True])
def test_bad_test_size_in_the_library(test_size: object) -> None:
    """A ``test_size`` that is NaN, outside [0, 1), or not a number is an InvalidArgumentError
    naming it, in ``train`` and ``train_streaming`` alike."""
    rows = _topic_rows(5)
    with pytest.raises(newsclf.InvalidArgumentError, match="test_size"):
        train(rows, test_size=test_size, log=_quiet)  # type: ignore[arg-type]
    with pytest.raises(newsclf.InvalidArgumentError, match="test_size"):
        train_streaming(lambda: iter(rows), test_size=test_size, log=_quiet)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"epochs": 0}, {"batch_size": 0}, {"batch_size": 2.5}])
def test_bad_streaming_numbers_in_the_library(kwargs: dict) -> None:
    """``train_streaming`` refuses 0 epochs, a zero batch size and a float one with an
    InvalidArgumentError naming the argument."""
    with pytest.raises(newsclf.InvalidArgumentError, match=next(iter(kwargs))):
        train_streaming(lambda: iter(_topic_rows(5)), log=_quiet, **kwargs)


# --- the same text on both sides of the split -----------------------------------


def _rows_with_repeats() -> list[dict]:
    """A fixed split: 80 training paragraphs, 10 held out of which 3 repeat a
    training paragraph exactly, under another article."""
    train_rows = [{**r, "split": "train"} for r in _topic_rows()]
    fresh = [
        {"text": f"تعادل الفريقان في المباراة الودية {i}", "label": "sport", "group": f"t{i}"}
        for i in range(7)
    ]
    repeats = [{**train_rows[i], "group": f"copy{i}"} for i in (0, 1, 2)]
    return train_rows + [{**r, "split": "test"} for r in fresh + repeats]


def _repeat_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "newsclf" and r.levelno == logging.WARNING and "repeat" in r.getMessage()
    ]


def test_repeated_texts_across_the_split_are_reported_and_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Regression: identical texts in different articles were scored as held out,
    silently (inflating held-out F1 0.943 -> 0.979 on the project data)."""
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        clf = train(_rows_with_repeats(), log=_quiet)
    td = clf.metadata["training_data"]
    assert td["duplicates_across_split"] == 3
    assert td["n_test"] == clf.metadata["metrics"]["n"] == 7
    assert td["test_sha256"] == data_sha256(
        [r for r in _rows_with_repeats() if r["split"] == "test"][:7]
    )
    (warning,) = _repeat_warnings(caplog)
    assert warning.startswith("3 held-out records repeat a training text") and "left out" in warning


def test_streaming_trainer_drops_repeated_texts_too(caplog: pytest.LogCaptureFixture) -> None:
    """The streaming trainer also leaves out the held-out records that repeat a training text,
    records how many, and warns once."""
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        clf = train_streaming(lambda: iter(_rows_with_repeats()), batch_size=16, log=_quiet)
    td = clf.metadata["training_data"]
    assert (td["duplicates_across_split"], td["n_test"]) == (3, 7)
    assert clf.metadata["metrics"]["n"] == 7
    assert len(_repeat_warnings(caplog)) == 1


def test_repeats_under_a_random_split(caplog: pytest.LogCaptureFixture) -> None:
    """Each text in two articles: those whose copies land apart leave the held-out side."""
    rows = _topic_rows(30)
    rows += [{**r, "group": r["group"] + "-copy"} for r in rows]
    train_rows, test_rows = split_records(rows, test_size=0.3, seed=0)
    across = sum(r["text"] in {t["text"] for t in train_rows} for r in test_rows)
    assert across > 0  # the test means something only if some copies land apart
    clf = train(rows, test_size=0.3, seed=0, log=_quiet)
    td = clf.metadata["training_data"]
    assert td["duplicates_across_split"] == across
    assert td["n_test"] == len(test_rows) - across


def test_no_repeats_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Data with no text on both sides of the split records 0 repeats and logs no repeat warning."""
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        clf = train(_topic_rows(), log=_quiet)
    assert clf.metadata["training_data"]["duplicates_across_split"] == 0
    assert _repeat_warnings(caplog) == []


# --- logging, not printing -------------------------------------------------------


def test_training_logs_and_never_prints(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: train() printed its progress to stderr by default."""
    with caplog.at_level(logging.INFO, logger="newsclf"):
        train(_topic_rows(), seed=0)
        train_streaming(lambda: iter(_topic_rows()), epochs=1)
    assert capsys.readouterr() == ("", "")
    messages = [r.getMessage() for r in caplog.records if r.name == "newsclf"]
    assert any(m.startswith("fitting on") for m in messages)
    assert any(m.startswith("epoch 1/1") for m in messages)


def test_the_command_prints_a_summary_and_shows_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``newsclf-train`` prints where it wrote the model on stdout and its progress and warnings on
    stderr, leaves the ``newsclf`` logger's handlers as found, and the model loads."""
    handlers = list(logging.getLogger("newsclf").handlers)
    data = _jsonl(tmp_path / "d.jsonl", _rows_with_repeats())
    assert main(["--data", str(data), "--out", str(tmp_path / "m")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"wrote {tmp_path / 'm'}\n")
    assert "[newsclf train] fitting on 80 paragraphs" in err
    assert "[newsclf train] warning: 3 held-out records repeat a training text" in err
    assert logging.getLogger("newsclf").handlers == handlers  # left as found
    assert newsclf.load(tmp_path / "m").labels == ("economy", "sport")


# --- the output folder, checked before any work ----------------------------------


def test_out_onto_the_bundled_model_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: newsclf train --out models/newsclf-ar replaced the bundled model."""
    from newsclf._cli import main as newsclf_main
    from newsclf._model import bundled_model_path

    bundled = bundled_model_path()
    before = {f.name: f.read_bytes() for f in bundled.iterdir()}
    data = str(_jsonl(tmp_path / "d.jsonl", _topic_rows()))
    assert main(["--data", data, "--out", str(bundled)]) == 2
    error = _error_line(capsys.readouterr().err, "newsclf-train")
    assert "is the bundled model" in error and "--force" in error
    assert newsclf_main(["train", "--data", data, "--out", str(bundled)]) == 2
    assert "--force" in _error_line(capsys.readouterr().err, "newsclf")
    # The folder holding it would be replaced whole: refused even with --force.
    assert main(["--data", data, "--out", str(bundled.parent), "--force"]) == 2
    assert "holds the bundled model" in _error_line(capsys.readouterr().err, "newsclf-train")
    assert {f.name: f.read_bytes() for f in bundled.iterdir()} == before


def test_force_replaces_the_bundled_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Training onto the bundled model is refused without ``--force`` and replaces it with
    ``--force``."""
    import newsclf._model

    fake = train([{**r, "label": f"old-{r['label']}"} for r in _topic_rows()], log=_quiet).save(
        tmp_path / "bundled"
    )
    monkeypatch.setattr(newsclf._model, "bundled_model_path", lambda: fake)
    data = str(_jsonl(tmp_path / "d.jsonl", _topic_rows()))
    assert main(["--data", data, "--out", str(fake)]) == 2
    assert main(["--data", data, "--out", str(fake), "--force"]) == 0
    assert newsclf.load(fake).labels == ("economy", "sport")


def test_out_onto_a_folder_that_is_not_a_model_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The artifact writer replaces the whole --out folder: never a folder of other things."""
    stuff = tmp_path / "stuff"
    stuff.mkdir()
    (stuff / "notes.txt").write_text("keep me")
    data = str(_jsonl(tmp_path / "d.jsonl", _topic_rows()))
    assert main(["--data", data, "--out", str(stuff), "--force"]) == 2
    assert "not a newsclf model" in _error_line(capsys.readouterr().err, "newsclf-train")
    assert (stuff / "notes.txt").read_text() == "keep me"
    assert main(["--data", data, "--out", str(stuff / "notes.txt")]) == 2
    assert "is a file" in _error_line(capsys.readouterr().err, "newsclf-train")
    # A metadata.json of its own does not make a folder a model (it was
    # replaced, with the data trained on, when it held one).
    (stuff / "metadata.json").write_text('{"source": "export"}')
    assert main(["--data", data, "--out", str(stuff)]) == 2
    assert "not a newsclf model" in _error_line(capsys.readouterr().err, "newsclf-train")
    assert (stuff / "notes.txt").read_text() == "keep me"
    # A model can be replaced, but not once something else was put beside it.
    model = tmp_path / "model"
    assert main(["--data", data, "--out", str(model)]) == 0
    assert main(["--data", data, "--out", str(model)]) == 0
    (model / "notes.txt").write_text("keep me")
    assert main(["--data", data, "--out", str(model)]) == 2
    assert (model / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("prog", ["newsclf-train", "newsclf"])
def test_unwritable_out_fails_before_reading_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], prog: str
) -> None:
    """Regression: an unwritable --out failed with an OSError traceback after fitting."""
    from newsclf._cli import main as newsclf_main

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    # The data does not exist: the output folder is checked first.
    args = ["--data", str(tmp_path / "absent.jsonl"), "--out", str(blocker / "sub" / "m")]
    status = main(args) if prog == "newsclf-train" else newsclf_main(["train", *args])
    assert status == 2
    assert "cannot write" in _error_line(capsys.readouterr().err, prog)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_parent_fails_before_reading_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ``--out`` in a read-only folder, with data that does not exist, ends ``newsclf-train``
    with exit status 2 and an error message, not a traceback."""
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        assert main(["--data", str(tmp_path / "absent.jsonl"), "--out", str(parent / "m")]) == 2
    finally:
        parent.chmod(0o700)
    assert "cannot write the model in" in _error_line(capsys.readouterr().err, "newsclf-train")


def test_same_data_and_seed_give_byte_identical_artifacts(
    records: list[dict], tmp_path: Path, monkeypatch
) -> None:
    """Regression: same data and seed gave the same predictions but different bytes."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")
    rows = [r for r in records if r["label"] != "none"][:400]
    a = train(rows, seed=0, log=_quiet).save(tmp_path / "a")
    b = train(rows, seed=0, log=_quiet).save(tmp_path / "b")
    for file in sorted(a.iterdir()):
        assert file.read_bytes() == (b / file.name).read_bytes(), file.name


def test_missing_article_ids_and_doc_id_split_as_documented() -> None:
    """A group that is NaN (a blank cell through pandas) is no article: the
    record is its own; and ``doc_id`` names the article when there is no
    ``group``, in the library as in files (both failed: NaN records formed
    one article "nan", and ``doc_id`` was ignored)."""
    rows = [
        {"text": f"t{i}", "label": "x", "group": float("nan") if i % 2 else f"g{i}"}
        for i in range(200)
    ]
    train_rows, test_rows = split_records(rows, test_size=0.2, seed=0)
    nan_test = sum(1 for r in test_rows if r["group"] != r["group"])
    assert 10 <= nan_test <= 30  # about a fifth of the 100, not all or none
    by_doc = [{"text": f"t{i}", "label": "x", "doc_id": f"d{i // 4}"} for i in range(200)]
    train_rows, test_rows = split_records(by_doc, test_size=0.2, seed=0)
    assert {r["doc_id"] for r in train_rows}.isdisjoint({r["doc_id"] for r in test_rows})


def test_threshold_is_tuned_when_every_record_is_its_own_article() -> None:
    """Records without a group are each their own article for threshold
    tuning too (they were one group "None", and tuning silently fell back
    to the default while the metadata said it was tuned)."""
    rows = [{**r, "group": None} for r in _topic_rows()]
    rows += [
        {"text": f"أعلنت الشركة نتائجها الفصلية رقم {i}", "label": "none", "group": None}
        for i in range(20)
    ]
    tuned = train(rows, seed=0, log=_quiet)
    assert tuned.metadata["threshold_rule"].startswith("in-scope coverage")
    assert tuned.threshold != newsclf._model.DEFAULT_THRESHOLD


def test_none_is_scored_as_none_when_the_model_knows_both() -> None:
    """A model with labels ``none`` and ``other`` scores ``none`` records as
    ``none``; a model trained with ``none`` left out scores them out of
    scope, not as ``other`` (both were scored as ``other``)."""
    rows = _topic_rows()
    rows += [{"text": f"غيوم وأمطار غزيرة في الشمال {i}", "label": "other"} for i in range(40)]
    rows += [{"text": f"أعلنت الشركة نتائجها الفصلية {i}", "label": "none"} for i in range(40)]
    both = train(rows, seed=0, exclude_labels=(), log=_quiet)
    assert set(both.labels) == {"economy", "none", "other", "sport"}
    report = both.evaluate(rows)
    assert report.per_label["none"]["support"] == 40
    assert report.per_label["other"]["support"] == 40
    assert both.metadata["metrics"]["n"] == both.metadata["training_data"]["n_test"]
    left_out = train(rows, seed=0, log=_quiet)
    assert "none" not in left_out.labels
    assert left_out.metadata["metrics"]["n"] == left_out.metadata["training_data"]["n_test"]
    assert left_out.evaluate(rows).out_of_scope["n"] == 40


def test_the_rebuilt_pipeline_retrains_what_was_trained() -> None:
    """``clf.pipeline`` carries the training settings (C, class weights,
    min_df, seed; alpha for the streaming trainer): a clone fitted on the same
    data gives the model's probabilities.  (It had scikit-learn's defaults, so
    grid search and cross-validation scored another model.)"""
    from sklearn.base import clone

    rows = _topic_rows() + [
        {"text": f"غيوم وأمطار غزيرة في الشمال {i}", "label": "weather", "group": f"w{i}"}
        for i in range(6)
    ]
    clf = train(rows, seed=3, C=4.0, min_df=2, test_size=0, threshold=0.5, log=_quiet)
    params = clf.pipeline.get_params()
    assert (params["clf__C"], params["clf__class_weight"], params["clf__random_state"]) == (
        4.0,
        "balanced",
        3,
    )
    assert params["features__min_df"] == 2
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    again = clone(clf.pipeline).fit(texts, labels)
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)
    streaming = newsclf._train.train_streaming(lambda: iter(rows), alpha=3e-5, seed=2, log=_quiet)
    params = streaming.pipeline.get_params()
    assert (params["clf__alpha"], params["clf__random_state"]) == (3e-5, 2)


def test_train_and_evaluate_read_a_labeled_file_by_path(tmp_path: Path) -> None:
    """The README said ``newsclf.train`` reads JSONL, CSV, TSV or Parquet;
    only the command did (a path was refused as "records must be an
    iterable").  Now a path (str or Path) is read as the command reads it:
    the same model and report as the records themselves."""
    rows = _topic_rows(20)
    path = _jsonl(tmp_path / "labeled.jsonl", rows)
    from_rows, from_path = train(rows, log=_quiet), train(str(path), log=_quiet)
    texts = [r["text"] for r in rows]
    assert np.array_equal(from_rows.predict_proba(texts), from_path.predict_proba(texts))
    assert from_rows.evaluate(rows).to_dict() == from_path.evaluate(path).to_dict()
    with pytest.raises(newsclf.DataError, match="no such file"):
        train(str(tmp_path / "missing.jsonl"), log=_quiet)


def _doc_rows(n: int = 30) -> list[dict]:
    """Two labels of a user's own, three paragraphs per doc_id, group null."""
    rows = _topic_rows(n)
    for i, r in enumerate(rows):
        r["doc_id"], r["group"] = f"d{i // 3}", None
    return rows


def test_train_audit_regressions(tmp_path: Path, caplog) -> None:
    """Regressions (train/evaluate audit):
    - a null group fell back to doc_id when read from a file, not when the
      records were passed as dicts: two held-out sets for the same data;
    - --streaming ignored the seed (its hash split did not take it);
    - a lone surrogate in a label failed after fitting, with a bare
      UnicodeEncodeError;
    - an excluded label no record had (--exclude-labels None, data labeled
      none) said nothing while 'none' was learned."""
    rows = _doc_rows()
    path = _jsonl(tmp_path / "d.jsonl", rows)
    from_dicts, from_file = train(rows, log=_quiet), train(path, log=_quiet)
    td = [m.metadata["training_data"] for m in (from_dicts, from_file)]
    assert td[0]["test_sha256"] == td[1]["test_sha256"] and td[0]["n_test"] == td[1]["n_test"]

    def streamed(seed: int) -> str:
        clf = train_streaming(lambda: iter(rows), seed=seed, epochs=1, log=_quiet)
        return clf.metadata["training_data"]["test_sha256"]

    assert len({streamed(seed) for seed in (0, 1, 2)}) > 1
    with pytest.raises(newsclf.DataError, match="record 0: the label holds a lone surrogate"):
        train([{"text": "نص", "label": "x\ud800"}, *rows], log=_quiet)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        train([*rows, {"text": "طقس", "label": "none"}], exclude_labels=["None"], log=_quiet)
    assert "no record is labeled 'None'" in caplog.text and "'none'" in caplog.text
    # A NaN context (a blank cell through pandas) is no context, and a
    # context_weight with no context at all is a warning.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        clf = train([{**r, "context": math.nan} for r in rows], context_weight=0.5, log=_quiet)
    assert clf.uses_context and "no record has a context" in caplog.text


def test_train_command_takes_context_weight_and_threshold(tmp_path: Path) -> None:
    """The train audit: a ``context`` field in the data was checked but never
    used by ``newsclf train`` (no --context-weight), and the threshold could
    only be set from Python."""
    rows = _doc_rows()
    for r in rows:
        r["context"] = r["text"] + " خبر"
    data = _jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "m"
    args = ["--data", str(data), "--out", str(out), "--context-weight", "0.5"]
    assert main([*args, "--threshold", "0.3"]) == 0
    clf = newsclf.load(out)
    assert clf.uses_context and clf.threshold == 0.3
    assert main([*args, "--streaming", "--force"]) == 2  # in-memory options only
