"""Scaling: worker processes, Hugging Face datasets, Dask -- all give the
single-process results, record for record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import newsclf

TEXTS = [
    "قصفت المدفعية الثقيلة مواقع المسلحين قرب الحدود",
    "استقبل وزير الخارجية نظيره التركي وبحثا العلاقات الثنائية",
    "حذر برنامج الأغذية العالمي من خطر المجاعة",
    "اشترك الآن واحصل على شهر مجاني",
    "",
] * 40


def test_worker_processes_match_one_process(clf) -> None:
    """n_jobs=2 loads the model once per worker and returns the same results, in order."""
    one = clf.predict_proba(TEXTS, batch_size=16)
    two = clf.predict_proba(iter(TEXTS), batch_size=16, n_jobs=2)
    np.testing.assert_array_equal(one, two)
    assert [p.uncertain for p in clf.classify_many(TEXTS, batch_size=7, n_jobs=2)] == [
        p.uncertain for p in clf.classify_many(TEXTS)
    ]


def test_unsaved_model_is_saved_once_for_workers(records: list[dict]) -> None:
    from newsclf._train import train

    result = train(records, seed=0, log=lambda m: None)
    clf = newsclf.Classifier(result.pipeline, result.metadata)
    assert clf.predict(TEXTS[:10], n_jobs=2, batch_size=3) == clf.predict(TEXTS[:10])


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"n_jobs": 0}, "n_jobs"), ({"batch_size": -1}, "batch_size")]
)
def test_bad_parallel_arguments(clf, kwargs: dict, message: str) -> None:
    with pytest.raises(newsclf.InputTypeError, match=message):
        clf.predict(TEXTS, **kwargs)


def test_annotate_dataset(model_dir: Path, clf) -> None:
    import datasets

    ds = datasets.Dataset.from_dict({"id": list(range(len(TEXTS))), "body": TEXTS})
    out = newsclf.annotate_dataset(ds, text_column="body", model=model_dir, num_proc=2)
    assert out["id"] == list(range(len(TEXTS)))
    assert out["label"] == clf.predict(TEXTS)
    assert out["uncertain"] == [p.uncertain for p in clf.classify_many(TEXTS)]
    with pytest.raises(newsclf.DataError, match="text column 'text'"):
        newsclf.annotate_dataset(ds, model=model_dir)


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


def test_dask_bag_on_local_cluster(cluster, model_dir: Path, clf) -> None:
    import dask.bag as db

    import newsclf.dask

    got = newsclf.dask.classify_bag(
        db.from_sequence(TEXTS, npartitions=4), model=model_dir
    ).compute()
    assert [r["label"] for r in got] == clf.predict(TEXTS)
