"""ArabicFeaturizer behaves as a scikit-learn transformer."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold
from strategies import text_batches

import newsclf
from newsclf import ArabicFeaturizer


def test_params_are_keyword_only_and_stored_unchanged() -> None:
    """__init__ stores its parameters as given; get_params/clone round-trip them."""
    f = ArabicFeaturizer(ngram_range=(1, 3), min_df=1, strip_clitics=False)
    assert f.get_params()["ngram_range"] == (1, 3)
    assert clone(f).get_params() == f.get_params()
    with pytest.raises(TypeError):
        ArabicFeaturizer((1, 2))  # type: ignore[misc]


def test_transform_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        ArabicFeaturizer().transform(["نص"])


def test_fit_sets_only_trailing_underscore_state(records: list[dict]) -> None:
    texts = [r["text"] for r in records[:200]]
    f = ArabicFeaturizer(min_df=1)
    before = set(vars(f))
    f.fit(texts)
    assert all(k.endswith("_") for k in set(vars(f)) - before)
    X = f.transform(texts[:5])
    assert X.shape == (5, len(f.get_feature_names_out()))


def test_clitic_forms_share_features() -> None:
    """والجيش, بالجيش and الجيش all map onto the feature جيش."""
    f = ArabicFeaturizer(min_df=1, ngram_range=(1, 1)).fit(["والجيش بالجيش الجيش"])
    assert list(f.get_feature_names_out()) == ["جيش"]


def test_bare_string_refused() -> None:
    """A single str is one text, not a batch: it is refused with a clear message."""
    with pytest.raises(newsclf.InputTypeError, match="single str"):
        ArabicFeaturizer().fit("نص واحد")


def test_grid_search_and_joblib(records: list[dict], tmp_path) -> None:
    """The whole pipeline works with GridSearchCV and survives plain joblib."""
    texts = [r["text"] for r in records]
    y = [r["label"] for r in records]
    groups = [r["group"] for r in records]
    search = GridSearchCV(
        newsclf.build_pipeline(),
        {"features__ngram_range": [(1, 1), (1, 2)], "clf__C": [1.0, 10.0]},
        cv=GroupKFold(n_splits=3),
        scoring="f1_macro",
    )
    search.fit(texts, y, groups=groups)
    assert search.best_score_ > 0.7
    path = tmp_path / "p.joblib"
    joblib.dump(search.best_estimator_, path)
    again = joblib.load(path)
    np.testing.assert_array_equal(
        again.predict_proba(texts[:20]), search.best_estimator_.predict_proba(texts[:20])
    )


@pytest.fixture(scope="module")
def trigram_featurizer(records: list[dict]) -> ArabicFeaturizer:
    return ArabicFeaturizer(ngram_range=(1, 3)).fit([r["text"] for r in records])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=text_batches)
def test_engine_equals_sklearn_vectorizer(
    trigram_featurizer: ArabicFeaturizer, texts: list[str]
) -> None:
    """The engine's block features equal the fitted TfidfVectorizer's matrix."""
    import scipy.sparse as sp

    from newsclf._engine import block_features

    f = trigram_featurizer
    batch = [*texts, "قصفت المدفعية مواقع المسلحين", "استقبل وزير الخارجية نظيره"]
    expected = f.transform(batch)
    block, _ = f._block()
    got = block_features(batch, block)
    matrix = sp.csr_matrix((got.value, (got.row, got.col)), shape=expected.shape)
    assert abs(matrix - expected).max() < 1e-12
    assert matrix.nnz == expected.nnz
