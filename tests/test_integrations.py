"""Hugging Face datasets and Dask (a real 2-process LocalCluster): the
single-process results, record for record; no column overwritten; errors
that name the row and the text column."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from strategies import SAMPLE_TEXTS

import newsclf

TEXTS = SAMPLE_TEXTS


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "newsclf" and r.levelno == logging.WARNING
    ]


# --- Hugging Face datasets ----------------------------------------------------


@pytest.fixture
def replaced(model_dir: Path, records: list[dict], tmp_path: Path):
    """``(path, replace)``: a copy of the fixture model at ``path``,
    and a function that saves a different model there (trained without
    boilerplate), returning it."""
    import shutil

    from newsclf._train import train

    path = tmp_path / "m"
    shutil.copytree(model_dir, path)

    def replace() -> newsclf.Classifier:
        other = train([r for r in records if r["label"] != "boilerplate"], log=lambda m: None)
        other.save(path)
        return other

    return path, replace


def test_annotate_dataset(model_dir: Path, clf) -> None:
    """``annotate_dataset`` with two processes keeps the rows in order and adds the labels and
    uncertain flags one process gives; a missing text column is a DataError naming it."""
    import datasets

    ds = datasets.Dataset.from_dict({"id": list(range(len(TEXTS))), "body": TEXTS})
    out = newsclf.annotate_dataset(ds, text_column="body", model=model_dir, num_proc=2)
    assert out["id"] == list(range(len(TEXTS)))
    assert out["label"] == clf.predict(TEXTS)
    assert out["uncertain"] == [p.uncertain for p in clf.classify_many(TEXTS)]
    with pytest.raises(newsclf.DataError, match="text column 'text'"):
        newsclf.annotate_dataset(ds, model=model_dir)


def test_annotate_dataset_of_no_rows_has_the_result_columns(model_dir: Path) -> None:
    """Regression: a dataset of no rows (a shard a filter emptied) came back
    without label/score/uncertain, so shards had different schemas."""
    import datasets

    ds = datasets.Dataset.from_dict({"text": TEXTS[:3], "label": ["x"] * 3})
    full = newsclf.annotate_dataset(ds, model=model_dir, prefix="p_")
    empty = newsclf.annotate_dataset(ds.filter(lambda r: False), model=model_dir, prefix="p_")
    assert len(empty) == 0 and empty.features == full.features
    assert len(datasets.concatenate_datasets([full, empty])) == 3


def test_wrong_collections_and_options_are_named(model_dir: Path) -> None:
    """Regression: a list, None, a pandas DataFrame, a DatasetDict or a
    prefix of None gave AttributeErrors, confusing messages or a column
    named "Nonelabel"; pandas' NA was not called a missing value."""
    import datasets
    import pandas as pd

    import newsclf.dask
    from newsclf._hf import not_a_string

    for bad in (["نص"], None, pd.DataFrame({"text": ["نص"]})):
        with pytest.raises(newsclf.InputTypeError, match=r"expected a datasets\.Dataset"):
            newsclf.annotate_dataset(bad, model=model_dir)  # type: ignore[type-var]
    ds = datasets.Dataset.from_dict({"text": ["نص"]})
    with pytest.raises(newsclf.InputTypeError, match="splits"):
        newsclf.annotate_dataset(datasets.DatasetDict({"train": ds}), model=model_dir)
    with pytest.raises(newsclf.InputTypeError, match="prefix"):
        newsclf.annotate_dataset(ds, model=model_dir, prefix=None)  # type: ignore[arg-type]
    with pytest.raises(newsclf.InputTypeError, match="Dask DataFrame"):
        newsclf.dask.classify_dataframe(pd.DataFrame({"text": ["نص"]}), model=model_dir)
    with pytest.raises(newsclf.InputTypeError, match="Dask Bag"):
        newsclf.dask.classify_bag(["نص"], model=model_dir)
    assert "missing value" in not_a_string(pd.NA)
    # Regression (API audit): these were TypeErrors and ValueErrors from os.path and
    # datasets (Dask's: test_dask_dataframe_errors_name_the_row_and_column).
    for model in (b"/x", 3):
        with pytest.raises(newsclf.InputTypeError, match="expected a model's path"):
            newsclf.annotate_dataset(ds, model=model)  # type: ignore[arg-type]
    for kwargs, error in (
        ({"batch_size": "2"}, newsclf.InputTypeError),
        ({"batch_size": 0}, newsclf.InvalidArgumentError),
        ({"num_proc": "2"}, newsclf.InputTypeError),
        ({"num_proc": -1}, newsclf.InvalidArgumentError),
    ):
        with pytest.raises(error, match=next(iter(kwargs))):
            newsclf.annotate_dataset(ds, model=model_dir, **kwargs)


def test_annotate_dataset_uses_the_model_saved_at_the_path_now(replaced, clf) -> None:
    """Regression: after another model was saved at a path, annotate_dataset
    went on scoring with the one first loaded from it."""
    import datasets

    path, replace = replaced
    ds = datasets.Dataset.from_dict({"text": TEXTS})
    assert newsclf.annotate_dataset(ds, model=path)["label"] == clf.predict(TEXTS)
    after = replace().predict(TEXTS)
    assert after != clf.predict(TEXTS)
    assert newsclf.annotate_dataset(ds, model=path)["label"] == after


def test_the_threshold_reaches_datasets(model_dir: Path) -> None:
    """threshold=1 makes every annotate_dataset result uncertain."""
    import datasets

    ds = datasets.Dataset.from_dict({"text": TEXTS[:20]})
    assert all(newsclf.annotate_dataset(ds, model=model_dir, threshold=1.0)["uncertain"])


def test_annotate_dataset_keeps_a_gold_label_column(
    model_dir: Path, clf, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: an existing ``label`` column was silently overwritten."""
    import datasets

    gold = [f"gold-{i}" for i in range(len(TEXTS))]
    ds = datasets.Dataset.from_dict({"text": TEXTS, "label": gold})
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        out = newsclf.annotate_dataset(ds, model=model_dir, batch_size=64, num_proc=2)
    assert out["label"] == gold
    assert out["newsclf_label"] == clf.predict(TEXTS)
    assert out.column_names == ["text", "label", "newsclf_label", "score", "uncertain"]
    (warning,) = _warnings(caplog)  # once, not once per batch or worker
    assert "'label'" in warning and "newsclf_label" in warning


def test_annotate_dataset_refuses_when_both_names_are_taken(model_dir: Path) -> None:
    """When ``label`` and ``newsclf_label`` are both taken, ``annotate_dataset`` refuses with a
    DataError pointing to ``prefix=``; with a prefix, the new columns take it."""
    import datasets

    ds = datasets.Dataset.from_dict({"text": ["a"], "label": ["x"], "newsclf_label": ["y"]})
    with pytest.raises(newsclf.DataError, match="prefix="):
        newsclf.annotate_dataset(ds, model=model_dir)
    out = newsclf.annotate_dataset(ds, model=model_dir, prefix="pred_")
    assert out.column_names[-3:] == ["pred_label", "pred_score", "pred_uncertain"]


@pytest.mark.parametrize("num_proc", [None, 2])
def test_annotate_dataset_names_the_row_of_a_missing_text(
    model_dir: Path, num_proc: int | None
) -> None:
    """Regression: the error gave the position within the batch, not the row."""
    import datasets

    texts: list[str | None] = list(TEXTS[:30])
    texts[23] = None
    ds = datasets.Dataset.from_dict({"body": texts})
    with pytest.raises(newsclf.DataError, match=r"row 23, text column 'body': a missing value"):
        newsclf.annotate_dataset(
            ds, text_column="body", model=model_dir, batch_size=8, num_proc=num_proc
        )


def test_annotate_dataset_refuses_a_column_of_bytes(model_dir: Path) -> None:
    """A text column of bytes is a DataError naming the row and the column and saying to decode
    it."""
    import datasets

    ds = datasets.Dataset.from_dict({"text": [t.encode() for t in TEXTS[:5]]})
    with pytest.raises(newsclf.DataError, match=r"row 0, text column 'text': bytes.*decode"):
        newsclf.annotate_dataset(ds, model=model_dir)


def test_annotate_iterable_dataset(model_dir: Path, clf) -> None:
    """An IterableDataset is annotated too: each record gets the ``newsclf_label`` one process gives
    and keeps its own ``label``."""
    import datasets

    ds = datasets.Dataset.from_dict({"text": TEXTS[:20], "label": ["x"] * 20})
    out = list(newsclf.annotate_dataset(ds.to_iterable_dataset(), model=model_dir, batch_size=6))
    assert [r["newsclf_label"] for r in out] == clf.predict(TEXTS[:20])
    assert [r["label"] for r in out] == ["x"] * 20
    # Regression (scale audit): num_proc was ignored without a word.
    with pytest.warns(RuntimeWarning, match="num_proc=2 is ignored for an IterableDataset"):
        newsclf.annotate_dataset(ds.to_iterable_dataset(), model=model_dir, num_proc=2)


def test_annotate_a_formatted_dataset(model_dir: Path, clf) -> None:
    """Regression (scale audit): a dataset formatted as Arrow said its text
    column was missing (listing the column's values as columns), and an
    IterableDataset formatted as Arrow or pandas failed inside datasets.
    Each is annotated, and the result keeps its format."""
    import datasets
    import pandas as pd
    import pyarrow as pa

    ds = datasets.Dataset.from_dict({"text": TEXTS[:20]})
    expected = clf.predict(TEXTS[:20])
    for fmt, kind in (("arrow", pa.Table), ("pandas", pd.DataFrame), ("numpy", dict)):
        out = newsclf.annotate_dataset(ds.with_format(fmt), model=model_dir, batch_size=6)
        assert list(out.with_format(None)["label"]) == expected
        assert isinstance(out[:2], kind)
        lazy = newsclf.annotate_dataset(
            ds.to_iterable_dataset().with_format(fmt), model=model_dir, batch_size=6
        )
        rows = list(lazy.with_format(None))
        assert [r["label"] for r in rows] == expected
        assert isinstance(next(lazy.iter(batch_size=2)), kind)


# --- Dask ---------------------------------------------------------------------
# These come after the datasets tests, and no datasets test uses the cluster:
# with a LocalCluster alive, Python 3.12.1 crashed (SIGSEGV, in garbage
# collection) inside datasets' Dataset.map.


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as lc,
        Client(lc) as client,
    ):
        yield client


def test_dask_dataframe_on_local_cluster(cluster, model_dir: Path, clf) -> None:
    """map_partitions on a 2-process LocalCluster equals one process, record for record."""
    import dask.dataframe as dd
    import pandas as pd

    import newsclf.dask

    pdf = pd.DataFrame({"id": range(len(TEXTS)), "text": TEXTS})
    ddf = dd.from_pandas(pdf, npartitions=6)
    out = newsclf.dask.classify_dataframe(ddf, model=model_dir).compute()
    assert out["id"].tolist() == list(range(len(TEXTS)))
    assert out["label"].tolist() == clf.predict(TEXTS)
    np.testing.assert_allclose(out["score"].to_numpy(), clf.predict_proba(TEXTS).max(axis=1))
    assert out.dtypes["uncertain"].kind == "b"
    # The workers that ran newsclf tasks raised glibc's thresholds (see newsclf.dask).
    assert all(cluster.run(lambda: __import__("newsclf._parallel")._parallel._TUNED).values())


def test_dask_uses_the_model_saved_at_the_path_now(cluster, replaced, clf) -> None:
    """Regression: after another model was saved at a path, newsclf.dask
    went on scoring with the one its workers first loaded from it."""
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    import newsclf.dask

    path, replace = replaced
    ddf = dd.from_pandas(pd.DataFrame({"text": TEXTS}), npartitions=2)
    bag = db.from_sequence(TEXTS, npartitions=2)

    def labels() -> tuple[list[str], list[str]]:
        return (
            newsclf.dask.classify_dataframe(ddf, model=path).compute()["label"].tolist(),
            [r["label"] for r in newsclf.dask.classify_bag(bag, model=path).compute()],
        )

    before = clf.predict(TEXTS)
    assert labels() == (before, before)
    after = replace().predict(TEXTS)
    assert after != before
    assert labels() == (after, after)


def test_the_threshold_reaches_dask(cluster, model_dir: Path) -> None:
    """threshold=1 makes every Dask result uncertain (dataframes and bags;
    integrations that dropped it went unseen)."""
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    import newsclf.dask

    ddf = dd.from_pandas(pd.DataFrame({"text": TEXTS[:20]}), npartitions=2)
    out = newsclf.dask.classify_dataframe(ddf, model=model_dir, threshold=1.0).compute()
    assert out["uncertain"].all()
    bag = db.from_sequence(TEXTS[:20], npartitions=2)
    results = newsclf.dask.classify_bag(bag, model=model_dir, threshold=1.0).compute()
    assert all(r["uncertain"] for r in results)


def test_dask_dataframe_keeps_existing_result_columns(
    cluster, model_dir: Path, clf, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: existing ``label``/``score`` columns were silently overwritten."""
    import dask.dataframe as dd
    import pandas as pd

    import newsclf.dask

    gold = [f"gold-{i}" for i in range(len(TEXTS))]
    pdf = pd.DataFrame({"text": TEXTS, "label": gold, "score": 7.0})
    with caplog.at_level(logging.WARNING, logger="newsclf"):
        lazy = newsclf.dask.classify_dataframe(dd.from_pandas(pdf, npartitions=4), model=model_dir)
    (warning,) = _warnings(caplog)
    assert "['label', 'score']" in warning
    assert list(lazy.columns) == [
        "text", "label", "score", "newsclf_label", "newsclf_score", "uncertain"
    ]  # fmt: skip
    out = lazy.compute()
    assert out["label"].tolist() == gold and (out["score"] == 7.0).all()
    assert out["newsclf_label"].tolist() == clf.predict(TEXTS)
    np.testing.assert_allclose(out["newsclf_score"].to_numpy(), clf.predict_proba(TEXTS).max(1))


def test_dask_dataframe_errors_name_the_row_and_column(cluster, model_dir: Path) -> None:
    """Regression: a bad value gave a batch-relative index (or a bare KeyError)."""
    import dask.dataframe as dd
    import pandas as pd

    import newsclf.dask

    texts: list[object] = list(TEXTS[:40])
    texts[37] = None
    pdf = pd.DataFrame({"body": texts}, index=range(1000, 1040))
    ddf = dd.from_pandas(pdf, npartitions=4)
    with pytest.raises(newsclf.DataError, match=r"text column 'text'.*'body'"):
        newsclf.dask.classify_dataframe(ddf, model=model_dir)  # at once, not at compute
    # Regression: a text column named twice gave an AttributeError at compute.
    twice = dd.from_pandas(pd.DataFrame([["a", "b"]], columns=["text", "text"]), npartitions=1)
    with pytest.raises(newsclf.DataError, match="one text column 'text', found 2 columns"):
        newsclf.dask.classify_dataframe(twice, model=model_dir)
    # Regression (API audit): a model path of bytes or a number: a TypeError from os.path.
    import dask.bag

    bag = dask.bag.from_sequence(["نص"])
    for model in (b"/x", 3):
        with pytest.raises(newsclf.InputTypeError, match="expected a model's path"):
            newsclf.dask.classify_dataframe(ddf, text_column="body", model=model)  # type: ignore[arg-type]
        with pytest.raises(newsclf.InputTypeError, match="expected a model's path"):
            newsclf.dask.classify_bag(bag, model=model)  # type: ignore[arg-type]
    lazy = newsclf.dask.classify_dataframe(ddf, text_column="body", model=model_dir)
    with pytest.raises(
        newsclf.DataError, match=r"row 1037 \(partition 3, position 7\), text column 'body'"
    ):
        lazy.compute()
    # Regressions (scale audit): a DataFrame given to classify_bag classified its
    # column names (one "other" per partition, no error); a Series given to
    # classify_dataframe failed at compute with a bare KeyError; a NumPy index
    # label was named "np.int64(3)".
    with pytest.raises(newsclf.InputTypeError, match=r"Bag of texts, got DataFrame .*classify_d"):
        newsclf.dask.classify_bag(ddf, model=model_dir)
    with pytest.raises(newsclf.InputTypeError, match=r"DataFrame, got Series .*to_frame\(\)$"):
        newsclf.dask.classify_dataframe(ddf["body"], model=model_dir)
    numpy_index = dd.from_pandas(pdf.set_index(pdf.index.to_numpy()), npartitions=4)
    with pytest.raises(newsclf.DataError, match=r"^row 1037 \(partition 3"):
        newsclf.dask.classify_dataframe(numpy_index, text_column="body", model=model_dir).compute()


def test_dask_bag_on_local_cluster(cluster, model_dir: Path, clf) -> None:
    """``classify_bag`` on a 2-process LocalCluster gives the labels of one process, in order."""
    import dask.bag as db

    import newsclf.dask

    got = newsclf.dask.classify_bag(
        db.from_sequence(TEXTS, npartitions=4), model=model_dir
    ).compute()
    assert [r["label"] for r in got] == clf.predict(TEXTS)


def test_dask_bag_error_names_the_partition_and_position(cluster, model_dir: Path) -> None:
    """A non-str item in a bag is a DataError naming its partition, its position there and the
    value."""
    import dask.bag as db

    import newsclf.dask

    items: list[object] = list(TEXTS[:20])
    items[13] = 42
    bag = newsclf.dask.classify_bag(db.from_sequence(items, npartitions=4), model=model_dir)
    with pytest.raises(newsclf.DataError, match=r"partition 2, position 3 of the bag: int 42"):
        bag.compute()


def _articles(n: int) -> tuple[list[str], list[object]]:
    """Paragraphs of a few articles, each with its article's text (every
    fifth without one: read alone)."""
    texts = [TEXTS[i % len(TEXTS)] for i in range(n)]
    articles: list[object] = ["\n".join(texts[i - i % 4 : i - i % 4 + 4]) for i in range(n)]
    for i in range(0, n, 5):
        articles[i] = None if i % 10 else "  "  # missing: read alone; blank: as given
    return texts, articles


def _expected(context_clf, texts: list[str], articles: list[object]) -> list:
    contexts = [a if isinstance(a, str) else t for t, a in zip(texts, articles, strict=True)]
    return list(context_clf.classify_many(texts, contexts=contexts))


def test_annotate_dataset_and_dask_read_each_text_with_its_article(
    cluster, context_dir: Path, context_clf
) -> None:
    """Regression (cross-surface audit): annotate_dataset and newsclf.dask had
    no way to read a paragraph with its article, so they disagreed with
    classify_article and classify --article-field on the same paragraphs.
    With ``context_column`` they give classify_many(contexts=...)'s answers
    (a blank article too, as given); a missing article reads the text
    alone; another value names its row."""
    import dask.dataframe as dd
    import datasets
    import pandas as pd

    import newsclf.dask

    texts, articles = _articles(40)
    want = _expected(context_clf, texts, articles)
    assert [p.score for p in want] != [p.score for p in context_clf.classify_many(texts)]
    ds = datasets.Dataset.from_dict({"text": texts, "article": articles})
    out = newsclf.annotate_dataset(ds, context_column="article", model=context_dir)
    assert out["score"] == [p.score for p in want] and out["label"] == [p.label for p in want]
    ddf = dd.from_pandas(pd.DataFrame({"text": texts, "article": articles}), npartitions=3)
    got = newsclf.dask.classify_dataframe(ddf, context_column="article", model=context_dir)
    got = got.compute()
    assert got["score"].tolist() == [p.score for p in want]
    assert got["uncertain"].tolist() == [p.uncertain for p in want]
    bad = datasets.Dataset.from_dict({"text": ["a", "b"], "article": [1.5, 2.5]})
    with pytest.raises(newsclf.DataError, match=r"row 0, context column 'article': float"):
        newsclf.annotate_dataset(bad, context_column="article", model=context_dir)
    with pytest.raises(newsclf.DataError, match=r"expected a context column 'body'"):
        newsclf.dask.classify_dataframe(ddf, context_column="body", model=context_dir)
