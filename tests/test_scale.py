"""Scaling: worker processes, Hugging Face datasets, Dask -- all give the
single-process results, record for record."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="module")
def other_clf(records: list[dict]) -> newsclf.Classifier:
    """A model unlike the fixture's: trained without the boilerplate label, not saved."""
    from newsclf._train import train

    rows = [r for r in records if r["label"] != "boilerplate"]
    return train(rows, seed=0, log=lambda m: None)


def test_two_models_in_workers_never_mix(clf, other_clf) -> None:
    """Regression: after model A ran in workers, model B's workers gave A's answers."""
    a_one, b_one = clf.predict(TEXTS), other_clf.predict(TEXTS)
    assert a_one != b_one  # the test means something only if the models differ
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == a_one
    assert other_clf.predict(TEXTS, n_jobs=2, batch_size=8) == b_one
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == a_one
    # The unsaved model was saved once, to one private copy, for its workers.
    path = other_clf._artifact_ref()
    other_clf.predict(TEXTS, n_jobs=2, batch_size=8)
    assert other_clf._artifact_ref() == path


def test_users_own_joblib_parallel_before_and_after(clf) -> None:
    """Regression: newsclf's pool broke the user's joblib.Parallel (and vice versa)."""
    from math import sqrt

    from joblib import Parallel, delayed

    expected = [sqrt(i) for i in range(20)]
    assert Parallel(n_jobs=2)(delayed(sqrt)(i) for i in range(20)) == expected
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == clf.predict(TEXTS)
    assert Parallel(n_jobs=2)(delayed(sqrt)(i) for i in range(20)) == expected
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == clf.predict(TEXTS)


def test_close_stops_the_workers(records: list[dict], model_dir: Path) -> None:
    with newsclf.load(model_dir) as clf:
        clf.predict(TEXTS, n_jobs=2, batch_size=8)
        pids = set(clf._workers._executor._processes)
        assert len(pids) == 2
    assert clf._workers is None
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_n_jobs_is_capped_at_the_cpus(clf) -> None:
    from newsclf._parallel import available_cpus, check_n_jobs

    assert check_n_jobs(1000) == available_cpus() == check_n_jobs(-1)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_jobs": 0}, newsclf.InvalidArgumentError, "n_jobs"),
        ({"n_jobs": "2"}, newsclf.InputTypeError, "n_jobs"),
        ({"batch_size": -1}, newsclf.InvalidArgumentError, "batch_size"),
        ({"batch_size": 2.5}, newsclf.InputTypeError, "batch_size"),
    ],
)
def test_bad_parallel_arguments(clf, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
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
