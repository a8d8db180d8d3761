"""From raw Arabic news text to a sparse feature matrix.

:class:`ArabicFeaturizer` is a scikit-learn transformer: it normalizes each
text (:func:`newsclf.normalize`), strips the article-and-preposition
proclitics that make one word look like many (``والجيش``, ``بالجيش`` and
``الجيش`` all count as ``جيش``), tokenizes exactly as camel-tools'
``simple_word_tokenize`` does, and weights word n-grams with TF-IDF.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
from camel_tools.tokenizers.word import _SYMBOLS_ALL
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from newsclf._errors import InputTypeError, describe
from newsclf._normalize import _ARCLEAN_MAP, _char_class, normalize

__all__ = ["ArabicFeaturizer", "check_batch", "check_texts", "strip_proclitics", "tokenize"]

_ARABIC_LETTER = "\u0621-\u063a\u0641-\u064a"
# Optional conjunction (wa-, fa-), optional preposition (bi-, ka-, li-) and
# the article al-, or li- fused with the article (lil-), at the start of a
# word that keeps at least two letters.
_PROCLITIC_RE = re.compile(
    f"(?<!\\w)[\u0648\u0641]?(?:[\u0628\u0643\u0644]?\u0627\u0644|\u0644\u0644)(?=[{_ARABIC_LETTER}]{{2}})"
)

# Every character normalize() can leave in a text, and those among them that
# camel-tools' simple_word_tokenize splits off as a token of their own.
_ALPHABET = {out for k, v in _ARCLEAN_MAP.items() for out in (v if v is not None else k)}
_SYMBOLS = _char_class(c for c in _ALPHABET if c in _SYMBOLS_ALL)
_TOKEN_RE = re.compile(f"[{_SYMBOLS}]|[^\\s{_SYMBOLS}]+")


def strip_proclitics(text: str) -> str:
    """Drop ``ال`` and the particles fused with it (و، ف، ب، ك، ل) from the
    start of each word of a normalized text."""
    return _PROCLITIC_RE.sub("", text)


def tokenize(text: str) -> list[str]:
    """Split a normalized text into tokens: runs of non-space characters, with
    every punctuation mark or symbol a token of its own.  On normalized text
    this equals camel-tools' ``simple_word_tokenize`` (tested), at C speed."""
    return _TOKEN_RE.findall(text)


def check_batch(texts: object, *, what: str = "texts") -> Iterable[object]:
    """Return ``texts`` if it is a batch (an iterable, not one text), or raise
    :class:`InputTypeError`.  A bare ``str`` (or ``bytes``) is refused: it is
    one text, and iterating it would classify each character."""
    if isinstance(texts, str | bytes | bytearray):
        raise InputTypeError(
            f"{what} must be an iterable of str (a batch), got a single "
            f"{type(texts).__name__}; wrap one text in a list: [text]"
        )
    if not isinstance(texts, Iterable):
        raise InputTypeError(f"{what} must be an iterable of str, got {describe(texts)}")
    return texts


def check_texts(texts: object, *, what: str = "texts", offset: int = 0) -> list[str]:
    """Return the batch ``texts`` as a list of ``str``, or raise
    :class:`InputTypeError` naming the first bad item (its position counted
    from ``offset``)."""
    out = list(check_batch(texts, what=what))
    for i, t in enumerate(out):
        if not isinstance(t, str):
            hint = "; decode bytes first" if isinstance(t, bytes | bytearray) else ""
            at = offset + i
            raise InputTypeError(f"{what}[{at}] must be a str, got {describe(t)}{hint}", index=at)
    return out  # type: ignore[return-value]


def _prepare(text: str) -> str:
    return strip_proclitics(normalize(text))


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

    def _prepare_all(self, texts: list[str]) -> list[str]:
        prep = _prepare if self.strip_clitics else normalize
        return [prep(t) for t in texts]

    def fit(self, X: Iterable[str], y: Any = None) -> ArabicFeaturizer:
        """Learn the n-gram vocabulary and IDF weights of ``X``."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: Iterable[str], y: Any = None, **fit_params: Any) -> Any:
        """Fit on ``X`` and return its feature matrix (one pass)."""
        texts = check_texts(X, what="X")
        self.vectorizer_ = TfidfVectorizer(
            tokenizer=tokenize,
            token_pattern=None,
            lowercase=False,
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
            dtype=np.float32,
        )
        return self.vectorizer_.fit_transform(self._prepare_all(texts))

    def transform(self, X: Iterable[str]) -> Any:
        """Return the TF-IDF matrix (``n_texts × n_features``, sparse) of ``X``."""
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.transform(self._prepare_all(check_texts(X, what="X")))

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """The n-gram of each feature column, as the model sees it."""
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.get_feature_names_out()
