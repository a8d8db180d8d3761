"""ArabicFeaturizer and ArabicHashingFeaturizer behave as scikit-learn transformers."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.utils.estimator_checks import parametrize_with_checks
from strategies import text_batches

import newsclf
from newsclf import ArabicFeaturizer
from newsclf._features import ArabicHashingFeaturizer


def test_params_are_keyword_only_and_stored_unchanged() -> None:
    """__init__ stores its parameters as given; get_params/clone round-trip them."""
    f = ArabicFeaturizer(ngram_range=(1, 3), min_df=1, strip_clitics=False)
    assert f.get_params()["ngram_range"] == (1, 3)
    assert clone(f).get_params() == f.get_params()
    with pytest.raises(TypeError):
        ArabicFeaturizer((1, 2))  # type: ignore[misc]


def test_transform_before_fit_raises_not_fitted() -> None:
    """``transform`` before ``fit`` raises scikit-learn's NotFittedError."""
    with pytest.raises(NotFittedError):
        ArabicFeaturizer().transform(["نص"])


def test_fit_sets_only_trailing_underscore_state(records: list[dict]) -> None:
    """``fit`` adds only attributes ending in ``_``, and ``transform`` then gives one column per
    feature name."""
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
    # Regression (training audit): a grid search's best Pipeline, wrapped
    # back, could not be saved ("lacks required key 'name'"), and its
    # .pipeline had scikit-learn's defaults (C=1, no class weights, min_df=1).
    best = search.best_estimator_.set_params(features__min_df=3, clf__random_state=7)
    best.fit(texts, y)
    clf = newsclf.Classifier.from_pipeline(best)
    saved = newsclf.load(clf.save(tmp_path / "best"))
    assert saved.predict(texts[:20]) == list(best.predict(texts[:20]))
    for model in (clf, saved):
        rebuilt = model.pipeline.get_params()
        for key in ("clf__C", "clf__class_weight", "clf__random_state", "features__min_df"):
            assert rebuilt[key] == best.get_params()[key], key
    with pytest.raises(newsclf.InputTypeError, match="metadata must be a mapping"):
        newsclf.Classifier.from_pipeline(best, [])  # type: ignore[arg-type]


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


# --- the scikit-learn estimator contract -------------------------------------------


@pytest.mark.parametrize(
    "featurizer", [ArabicFeaturizer(), ArabicHashingFeaturizer()], ids=lambda f: type(f).__name__
)
def test_check_estimator_with_string_input(featurizer) -> None:
    """The featurizers declare string input, as TfidfVectorizer does (regression: they
    declared numeric input, and 32 of 47 checks failed on numeric X).  On string
    input scikit-learn runs only the checks that need no numeric X (today, cloning)
    and skips the rest with a warning: the numeric views below run those."""
    from sklearn.exceptions import SkipTestWarning
    from sklearn.utils.estimator_checks import check_estimator

    tags = featurizer.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    with pytest.warns(SkipTestWarning, match="requires input"):
        results = check_estimator(featurizer, on_fail=None)
    assert results and all(r["status"] == "passed" for r in results)


class _Texts(list):
    """Texts a numeric view already made from an array (passed through as they are)."""


class _NumericView:
    """A featurizer under scikit-learn's numeric checks: X is validated as
    scikit-learn validates arrays, and each row becomes one text, a word per
    column (``c<column>v<value bucket>``).  Everything else -- parameters,
    clone, fit returning self, idempotence, no mutation, pickling, order and
    subset invariance, pipelines -- runs the featurizer's own code.  A text
    featurizer reads one column of texts, so ``n_features_in_`` is the
    array's width here, as scikit-learn's checks expect of numeric input."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = False
        return tags

    def _texts(self, X, *, reset: bool) -> _Texts:
        from sklearn.utils.validation import validate_data

        if isinstance(X, _Texts):
            return X
        X = validate_data(self, X, reset=reset)
        return _Texts(
            " ".join(f"c{j}v{int(np.floor(v * 2)) % 7}" for j, v in enumerate(row)) for row in X
        )

    def fit(self, X, y=None):
        super().fit(self._texts(X, reset=True), y)
        return self

    def fit_transform(self, X, y=None, **params):
        texts = self._texts(X, reset=True)
        width = self.n_features_in_
        out = super().fit_transform(texts, y)
        self.n_features_in_ = width
        return out

    def transform(self, X):
        return super().transform(self._texts(X, reset=False))


class NumericArabicFeaturizer(_NumericView, ArabicFeaturizer):
    pass


class NumericArabicHashingFeaturizer(_NumericView, ArabicHashingFeaturizer):
    def partial_fit(self, X, y=None):
        return super().partial_fit(self._texts(X, reset=not hasattr(self, "n_features_in_")), y)


@parametrize_with_checks(
    [NumericArabicFeaturizer(min_df=1), NumericArabicHashingFeaturizer(n_features=64)]
)
def test_sklearn_checks_through_a_numeric_view(estimator, check) -> None:
    """Both featurizers pass scikit-learn's estimator checks, run through a view that turns numeric
    arrays into texts."""
    check(estimator)


def test_hashing_featurizer_honours_set_params_and_transform_keeps_it_unchanged() -> None:
    """Regressions: set_params(n_features=...) after fit was ignored (the vectorizer
    was built in fit), and transform on an unfitted instance mutated it."""
    f = ArabicHashingFeaturizer(n_features=16)
    before = dict(vars(f))
    assert f.transform(["قصفت المدفعية مواقع المسلحين"]).shape == (1, 16)
    assert vars(f) == before
    f.fit(["نص"]).set_params(n_features=32)
    assert f.transform(["نص"]).shape == (1, 32)
    assert f.partial_fit(["نص"]) is f
