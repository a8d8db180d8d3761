"""Training: splits, determinism, any label set, data readers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import newsclf
from newsclf._data import data_sha256, read_records
from newsclf._train import split_records, train


def _quiet(message: str) -> None:
    pass


def test_split_never_puts_one_article_on_both_sides(records: list[dict]) -> None:
    train_rows, test_rows = split_records(records, test_size=0.2, seed=3)
    assert {r["group"] for r in train_rows}.isdisjoint({r["group"] for r in test_rows})
    assert len(train_rows) + len(test_rows) == len(records)


def test_fixed_split_field_wins() -> None:
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
    rows = []
    for i in range(40):
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
    clf = newsclf.load(train(rows, seed=0, log=_quiet).save(tmp_path / "m"))
    assert clf.labels == ("economy", "sport")
    assert clf.predict(["انتهت المباراة بالتعادل"]) == ["sport"]


def test_too_few_labels_is_a_data_error() -> None:
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


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".tsv", ".parquet"])
def test_read_records_formats(tmp_path: Path, suffix: str) -> None:
    rows = [
        {"text": "اشترك الآن", "label": "boilerplate", "doc_id": "d1"},
        {"text": "قصف مدفعي", "label": "military", "doc_id": "d2"},
    ]
    path = tmp_path / f"data{suffix}"
    if suffix == ".jsonl":
        path.write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
        )
    elif suffix in (".csv", ".tsv"):
        sep = "," if suffix == ".csv" else "\t"
        lines = [sep.join(rows[0])] + [sep.join(r.values()) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        import datasets

        datasets.Dataset.from_list(rows).to_parquet(str(path))
    got = read_records(path)
    assert [(r["text"], r["label"], r["group"]) for r in got] == [
        ("اشترك الآن", "boilerplate", "d1"),
        ("قصف مدفعي", "military", "d2"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "a", "label": "x"}\n{oops\n', r":2: invalid JSON"),
        (b'{"text": 3, "label": "x"}\n', r":1: expected string fields"),
        (b'{"label": "x"}\n', r":1: expected string fields"),
        (b'{"text": "a", "label": "x"}\n\xff\n', "not valid UTF-8"),
    ],
)
def test_bad_data_is_a_data_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(newsclf.DataError, match=message):
        read_records(path)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(newsclf.DataError, match="no such file"):
        read_records(tmp_path / "absent.jsonl")


def test_data_hash_depends_on_text_and_label() -> None:
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
