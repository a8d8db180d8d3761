"""Training side: scikit-learn transformers, the Pipeline, and its export.

:class:`ArabicFeaturizer` normalizes, strips proclitics, tokenizes
(:mod:`newsclf._tokens`) and weights word n-grams with TF-IDF;
:class:`ArabicHashingFeaturizer` hashes n-grams into a fixed number of
columns instead (no vocabulary: for streams larger than memory).  A model is
one ``Pipeline``: a featurizer -- or a ``ColumnTransformer`` of two, one for
the paragraph and one for its whole article -- then a linear classifier.

:func:`recipe_from_pipeline` exports a fitted Pipeline as the data-only
:class:`~newsclf._artifact.Recipe` the engine runs, and
:func:`pipeline_from_recipe` rebuilds an equivalent fitted Pipeline.  This
module imports scikit-learn: inference never does.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from newsclf._artifact import NamedBlock, Recipe
from newsclf._engine import Block, block_features, ngram_hashes
from newsclf._errors import DataError, InputTypeError, InvalidArgumentError, describe
from newsclf._tokens import check_texts, prepare, tokenize

__all__ = [
    "ArabicFeaturizer",
    "ArabicHashingFeaturizer",
    "build_pipeline",
    "pipeline_from_recipe",
    "recipe_from_pipeline",
]


def _string_input_tags(tags: Any) -> Any:
    tags.input_tags.two_d_array = False
    tags.input_tags.string = True
    return tags


def _to_csr(features: Any) -> sp.csr_matrix:
    return sp.csr_matrix(
        (features.value, (features.row, features.col)),
        shape=(features.n_rows, features.n_columns),
    )


def _vectorizer(**params: Any) -> TfidfVectorizer:
    """The TF-IDF vectorizer over prepared text: newsclf's tokens, no
    lowercasing of its own, float64 (what the engine computes)."""
    return TfidfVectorizer(
        tokenizer=tokenize, token_pattern=None, lowercase=False, dtype=np.float64, **params
    )


class ArabicFeaturizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Normalize, tokenize and TF-IDF-weight Arabic news paragraphs.

    Parameters
    ----------
    ngram_range : (int, int)
        Word n-gram lengths, as in scikit-learn's vectorizers.
    min_df : int or float
        Ignore n-grams found in fewer documents than this.
    max_features : int or None
        Keep only the most frequent n-grams.
    sublinear_tf : bool
        Use ``1 + log(tf)``.
    strip_clitics : bool
        Strip article/preposition proclitics before tokenizing.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted vectorizer over prepared token streams.
    """

    def __init__(
        self,
        *,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 2,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        strip_clitics: bool = True,
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.strip_clitics = strip_clitics

    def __sklearn_tags__(self) -> Any:
        return _string_input_tags(super().__sklearn_tags__())

    def fit(self, X: Iterable[str], y: Any = None) -> ArabicFeaturizer:
        """Learn the n-gram vocabulary and IDF weights of ``X``."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: Iterable[str], y: Any = None, **fit_params: Any) -> Any:
        """Fit on ``X`` and return its feature matrix (one pass)."""
        texts = check_texts(X, what="X")
        self.vectorizer_ = _vectorizer(
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
        )
        try:
            out = self.vectorizer_.fit_transform(prepare(texts, strip_clitics=self.strip_clitics))
        except ValueError as e:  # "empty vocabulary", "no terms remain"
            raise DataError(
                f"no n-gram is left to learn from ({e}); give more texts, or lower min_df "
                f"(now {self.min_df})"
            ) from None
        self.n_features_in_ = 1
        return out

    def transform(self, X: Iterable[str]) -> Any:
        """The TF-IDF matrix (``n_texts × n_features``, sparse) of ``X``, by the
        reference path (the engine is tested against this)."""
        check_is_fitted(self, "vectorizer_")
        texts = check_texts(X, what="X")
        return self.vectorizer_.transform(prepare(texts, strip_clitics=self.strip_clitics))

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """The n-gram of each feature column, as the model sees it."""
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.get_feature_names_out()

    def _block(self) -> tuple[Block, bytes]:
        """This fitted featurizer as an engine block, and its vocabulary text."""
        check_is_fitted(self, "vectorizer_")
        names = [str(n) for n in self.vectorizer_.get_feature_names_out()]
        hashes = ngram_hashes(names)
        order = np.argsort(hashes)
        if len(hashes) > 1 and not bool(np.all(np.diff(hashes[order].astype(np.int64)) != 0)):
            raise DataError("two n-grams of the vocabulary share a 64-bit hash")
        block = Block(
            ngram_range=tuple(self.ngram_range),  # type: ignore[arg-type]
            strip_clitics=bool(self.strip_clitics),
            sublinear_tf=bool(self.sublinear_tf),
            norm="l2",
            n_columns=len(names),
            hashes=hashes[order],
            ids=order.astype(np.int64),
            idf=np.asarray(self.vectorizer_.idf_, dtype=np.float64),
        )
        return block, "\n".join(names).encode("utf-8")


class ArabicHashingFeaturizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """The stateless variant of :class:`ArabicFeaturizer`, for training on
    streams larger than memory: same normalization and tokens, n-grams hashed
    (newsclf's own 64-bit n-gram hash) into ``n_features`` columns,
    ``1 + log(tf)`` weighting and L2 norm, no vocabulary and no IDF.
    """

    def __init__(
        self,
        *,
        ngram_range: tuple[int, int] = (1, 2),
        n_features: int = 2**20,
        strip_clitics: bool = True,
    ) -> None:
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.strip_clitics = strip_clitics

    def __sklearn_tags__(self) -> Any:
        tags = _string_input_tags(super().__sklearn_tags__())
        tags.requires_fit = False
        return tags

    def fit(self, X: Iterable[str], y: Any = None) -> ArabicHashingFeaturizer:
        """Nothing to learn."""
        return self

    def partial_fit(self, X: Iterable[str], y: Any = None) -> ArabicHashingFeaturizer:
        """Nothing to learn."""
        return self

    def _block(self) -> Block:
        return Block(
            ngram_range=tuple(self.ngram_range),  # type: ignore[arg-type]
            strip_clitics=bool(self.strip_clitics),
            sublinear_tf=True,
            norm="l2",
            n_columns=int(self.n_features),
        )

    def transform(self, X: Iterable[str]) -> Any:
        """Hashed, log-weighted, L2-normalized n-gram counts of ``X``."""
        texts = check_texts(X, what="X")
        return _to_csr(block_features(texts, self._block()))

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """Hash buckets: a stateless featurizer cannot name its n-grams."""
        return np.array([f"#{i}" for i in range(self.n_features)], dtype=object)


def build_pipeline(
    *,
    C: float = 10.0,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int = 2,
    class_weight: str | None = "balanced",
    context_weight: float | None = None,
    seed: int = 0,
) -> Pipeline:
    """The untrained newsclf model: :class:`ArabicFeaturizer` then a
    multinomial logistic regression (classes weighted by inverse frequency,
    so a rare label is not drowned by a common one).

    With ``context_weight``, the model reads ``[paragraph, article]`` pairs
    (an ``n × 2`` array): a second featurizer sees the whole article, its
    features weighted by ``context_weight``, beside the paragraph's own."""
    paragraph = ArabicFeaturizer(ngram_range=ngram_range, min_df=min_df)
    features: Any = paragraph
    if context_weight is not None:
        features = ColumnTransformer(
            [
                ("paragraph", paragraph, 0),
                ("article", ArabicFeaturizer(ngram_range=(1, 1), min_df=min_df), 1),
            ],
            transformer_weights={"paragraph": 1.0, "article": context_weight},
        )
    clf = LogisticRegression(C=C, class_weight=class_weight, max_iter=MAX_ITER, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


#: L-BFGS iterations of the in-memory trainer.
MAX_ITER = 3000


def _training_settings(pipeline: Pipeline, recipe: Recipe, hp: Mapping[str, Any]) -> dict[str, Any]:
    """``set_params`` arguments giving a rebuilt Pipeline the settings it was
    trained with (from the metadata's ``hyperparameters``), so that a clone
    (grid search, cross-validation) trains what was trained; a setting the
    metadata lacks, or holds out of its range, keeps its default."""

    def given(key: str, low: float, high: float = float("inf")) -> bool:
        value = hp.get(key)
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        )

    out: dict[str, Any] = {}
    if given("seed", 0, 2**32 - 1) and float(hp["seed"]).is_integer():
        out["clf__random_state"] = int(hp["seed"])
    if recipe.kind == "ovr":
        if given("alpha", 1e-300):
            out["clf__alpha"] = float(hp["alpha"])
        return out
    out["clf__max_iter"] = MAX_ITER
    if given("C", 1e-300):
        out["clf__C"] = float(hp["C"])
    if "class_weight" in hp and hp["class_weight"] in ("balanced", None):
        out["clf__class_weight"] = hp["class_weight"]
    if given("min_df", 1) and float(hp["min_df"]).is_integer():
        features = pipeline[0]
        if isinstance(features, ColumnTransformer):
            for name, *_ in features.transformers:
                out[f"features__{name}__min_df"] = int(hp["min_df"])
        else:
            out["features__min_df"] = int(hp["min_df"])
    return out


def pipeline_settings(pipeline: Pipeline) -> dict[str, Any]:
    """The training settings of a Pipeline as an artifact's ``hyperparameters``
    record them -- what :func:`_training_settings` gives a rebuilt one back
    (seed, C, class weights and min_df; alpha for SGD)."""
    features, clf = pipeline[0], pipeline[-1]
    out: dict[str, Any] = {}
    if isinstance(clf.random_state, numbers.Integral) and not isinstance(clf.random_state, bool):
        out["seed"] = int(clf.random_state)
    if isinstance(clf, SGDClassifier):
        out["alpha"] = float(clf.alpha)
        return out
    out["C"] = float(clf.C)
    if clf.class_weight is None or isinstance(clf.class_weight, str):
        out["class_weight"] = clf.class_weight
    if isinstance(features, ColumnTransformer):
        featurizers = [t for _, t, _ in features.transformers]
    else:
        featurizers = [features]
    min_dfs = {getattr(f, "min_df", None) for f in featurizers}
    if len(min_dfs) == 1 and isinstance(min_df := min_dfs.pop(), int):
        out["min_df"] = min_df
    return out


def _classifier_kind(clf: Any) -> str:
    if isinstance(clf, LogisticRegression):
        return "multinomial"
    if isinstance(clf, SGDClassifier) and clf.loss == "log_loss":
        return "ovr"
    raise DataError(
        f"expected a LogisticRegression or SGDClassifier(loss='log_loss'), found {clf!r:.80}"
    )


def recipe_from_pipeline(pipeline: Pipeline) -> Recipe:
    """The data-only recipe of a fitted Pipeline (as :func:`build_pipeline`
    makes: newsclf featurizers, then a linear classifier).  Raises
    :class:`InputTypeError` for anything else, :class:`InvalidArgumentError`
    when it is not fitted."""
    expected = "a fitted newsclf Pipeline (newsclf featurizers, then a linear classifier)"
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        raise InputTypeError(f"expected {expected}, found {describe(pipeline)}")
    features, clf = pipeline[0], pipeline[-1]
    kind = _classifier_kind(clf)
    try:
        check_is_fitted(clf)
        check_is_fitted(features)
    except NotFittedError:
        raise InvalidArgumentError(f"expected {expected}; this one is not fitted") from None
    if isinstance(features, ColumnTransformer):
        parts = [
            (name, transformer, ("paragraph", "article")[int(column)])
            for name, transformer, column in features.transformers_
            if transformer != "drop"
        ]
        weights = features.transformer_weights or {}
    else:
        parts, weights = [("paragraph", features, "paragraph")], {}
    blocks = []
    for name, transformer, column in parts:
        if not isinstance(transformer, ArabicFeaturizer | ArabicHashingFeaturizer):
            raise InputTypeError(
                f"expected {expected}, found the featurizer {type(transformer).__name__}"
            )
        if isinstance(transformer, ArabicHashingFeaturizer):
            block, vocabulary = transformer._block(), None
        else:
            block, vocabulary = transformer._block()
        blocks.append(NamedBlock(name, column, float(weights.get(name, 1.0)), block, vocabulary))
    recipe = Recipe(
        labels=tuple(str(c) for c in clf.classes_),
        blocks=tuple(blocks),
        coef=np.asarray(clf.coef_, dtype=np.float64),
        intercept=np.asarray(clf.intercept_, dtype=np.float64),
        kind=kind,
    )
    return recipe


def _fitted_featurizer(nb: NamedBlock) -> Any:
    b = nb.block
    if b.hashes is None:
        return ArabicHashingFeaturizer(
            ngram_range=b.ngram_range, n_features=b.n_columns, strip_clitics=b.strip_clitics
        )
    f = ArabicFeaturizer(
        ngram_range=b.ngram_range, min_df=1, sublinear_tf=b.sublinear_tf,
        strip_clitics=b.strip_clitics,
    )  # fmt: skip
    names = nb.ngrams()
    vec = _vectorizer(
        ngram_range=b.ngram_range,
        sublinear_tf=b.sublinear_tf,
        vocabulary={name: i for i, name in enumerate(names)},
    )
    vec.idf_ = b.idf
    f.vectorizer_ = vec
    f.n_features_in_ = 1
    return f


def pipeline_from_recipe(
    recipe: Recipe, hyperparameters: Mapping[str, Any] | None = None
) -> Pipeline:
    """An equivalent fitted scikit-learn Pipeline, rebuilt from the recipe
    (for grid search, stacking, or inspection), with the training settings
    of ``hyperparameters`` (the artifact's metadata) where it has them."""
    blocks = recipe.blocks
    if len(blocks) == 1 and blocks[0].input == "paragraph" and blocks[0].weight == 1.0:
        features: Any = _fitted_featurizer(blocks[0])
    else:
        columns = {"paragraph": 0, "article": 1}
        features = ColumnTransformer(
            [(b.name, _fitted_featurizer(b), columns[b.input]) for b in blocks],
            transformer_weights={b.name: b.weight for b in blocks},
        )
        # ColumnTransformer has no "prefit": fit it on a stand-in row to set
        # its layout, then put the fitted featurizers in.
        features.fit(np.array([["\u0628\u0628", "\u0628\u0628"]], dtype=object))
        features.transformers_ = [(b.name, _fitted_featurizer(b), columns[b.input]) for b in blocks]
        features.sparse_output_ = True
    clf: Any = (
        LogisticRegression() if recipe.kind == "multinomial" else SGDClassifier(loss="log_loss")
    )
    clf.classes_ = np.array(recipe.labels, dtype=object)
    clf.coef_ = recipe.coef.copy()
    clf.intercept_ = recipe.intercept.copy()
    clf.n_features_in_ = recipe.n_columns
    pipeline = Pipeline([("features", features), ("clf", clf)])
    return pipeline.set_params(**_training_settings(pipeline, recipe, hyperparameters or {}))


def convert_legacy(old: str, new: str, *, trust_pickle: bool = False) -> Any:
    """Convert a format-1 artifact (``model.joblib``, a pickle, and
    ``metadata.json``) into a format-2 artifact at ``new``; returns the
    written directory.  Unpickling runs code from the file, so it happens
    only with ``trust_pickle=True``, and only after the file's SHA-256 was
    checked against its metadata.  Streaming (hashed) format-1 models used
    another hash and cannot be converted: retrain them."""
    import hashlib
    import io
    import json
    from pathlib import Path

    import joblib

    from newsclf._artifact import FORMAT_VERSION, write_artifact
    from newsclf._errors import ArtifactError, NewsclfError
    from newsclf._model import check_save_target

    check_save_target(new)  # before any work: never over the bundled model or other files
    src = Path(old)
    if Path(new).resolve() == src.resolve():
        raise ArtifactError(
            "NEW is OLD: converting in place would destroy the format-1 original; "
            "write the converted model to another folder",
            path=new,
        )
    try:
        meta = json.loads((src / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ArtifactError(f"expected a format-1 artifact: {e}", path=old) from None
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if type(version) is not int or version != 1:
        raise ArtifactError(
            f"expected format_version 1 in metadata.json, found {version!r}"
            + ("; it needs no conversion: load it as it is" if version == FORMAT_VERSION else ""),
            path=old,
        )
    try:
        data = (src / "model.joblib").read_bytes()
    except OSError as e:
        raise ArtifactError(f"expected a format-1 artifact: {e}", path=old) from None
    if not trust_pickle:
        raise ArtifactError(
            "converting a format-1 artifact unpickles its model.joblib, which runs code from "
            "it: pass trust_pickle=True (--trust-pickle) only for an artifact you trust",
            path=old,
        )
    if hashlib.sha256(data).hexdigest() != meta.get("model_sha256"):
        raise ArtifactError("model.joblib differs from its recorded SHA-256", path=old)
    pipeline = joblib.load(io.BytesIO(data))
    if isinstance(pipeline, Pipeline) and isinstance(pipeline[0], ArabicHashingFeaturizer):
        raise ArtifactError("a format-1 streaming model cannot be converted: retrain it", path=old)
    try:
        recipe = recipe_from_pipeline(pipeline)
    except NewsclfError as e:
        raise ArtifactError(f"model.joblib: {e}", path=old) from None
    meta_out = {k: meta.get(k, {}) for k in ("training_data", "hyperparameters", "metrics")}
    meta_out["name"] = meta.get("name", Path(old).name)
    if "created" in meta:
        meta_out["created"] = meta["created"]
    meta_out["uncertainty_threshold"] = meta.get("uncertainty_threshold", 0.5)
    meta_out["converted_from"] = {"format_version": 1, "model_sha256": meta["model_sha256"]}
    return write_artifact(recipe, new, metadata=meta_out)
