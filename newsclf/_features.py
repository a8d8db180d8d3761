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
from itertools import repeat
from typing import Any

import numpy as np
import scipy.sparse as sp
from camel_tools.tokenizers.word import _SYMBOLS_ALL
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as normalize_rows
from sklearn.utils.validation import check_is_fitted

from newsclf._errors import InputTypeError, describe
from newsclf._normalize import _ARCLEAN_MAP, _char_class, join_lines, normalize_joined

__all__ = [
    "ArabicFeaturizer",
    "ArabicHashingFeaturizer",
    "check_batch",
    "check_texts",
    "strip_proclitics",
    "tokenize",
]

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
# The same, plus a line break as a token of its own: in a batch joined by
# line breaks it marks where one text ends and the next begins.
_TOKEN_OR_BREAK_RE = re.compile(f"\\n|{_TOKEN_RE.pattern}")


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


def prepare_joined(texts: list[str], *, strip_clitics: bool = True) -> str:
    """Normalize (and strip proclitics from) a batch, as one string with a
    text per line: the form the featurizer tokenizes."""
    joined = normalize_joined(join_lines(texts))
    return strip_proclitics(joined) if strip_clitics else joined


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
        if not texts:
            return []
        return prepare_joined(texts, strip_clitics=self.strip_clitics).split("\n")

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
        X = self.vectorizer_.fit_transform(self._prepare_all(texts))
        self._fit_lookup()
        return X

    def _fit_lookup(self) -> None:
        """Tables for :meth:`transform`: an id per token of the vocabulary,
        and each unigram and bigram feature keyed by its token ids."""
        grams = [(g.split(" "), i) for g, i in self.vectorizer_.vocabulary_.items()]
        token_ids: dict[str, int] = {}
        for parts, _ in grams:
            for t in parts:
                token_ids.setdefault(t, len(token_ids))
        n_tokens = len(token_ids)
        keys, ids = [], []
        for parts, i in grams:
            if len(parts) <= 2:
                a = token_ids[parts[0]]
                keys.append(a if len(parts) == 1 else n_tokens + a * n_tokens + token_ids[parts[1]])
                ids.append(i)
        order = np.argsort(keys)
        self.token_ids_ = token_ids
        self.gram_keys_ = np.asarray(keys, dtype=np.int64)[order]
        self.gram_ids_ = np.asarray(ids, dtype=np.int64)[order]

    def transform(self, X: Iterable[str]) -> Any:
        """Return the TF-IDF matrix (``n_texts × n_features``, sparse) of ``X``.

        Equal to ``vectorizer_.transform`` of the prepared texts (tested), but
        the whole batch is tokenized and looked up at once, without a Python
        loop per document.
        """
        check_is_fitted(self, ("vectorizer_", "token_ids_"))
        texts = check_texts(X, what="X")
        vec = self.vectorizer_
        n_features = len(vec.vocabulary_)
        if not texts:
            return sp.csr_matrix((0, n_features), dtype=np.float32)
        tokens = _TOKEN_OR_BREAK_RE.findall(prepare_joined(texts, strip_clitics=self.strip_clitics))
        # Text index of each token position (a break token starts the next text).
        doc = np.cumsum(np.fromiter((t == "\n" for t in tokens), dtype=bool, count=len(tokens)))
        rows, cols = [], []
        lo, hi = self.ngram_range
        tok = np.fromiter(map(self.token_ids_.get, tokens, repeat(-1)), np.int64, len(tokens))
        n_tokens = len(self.token_ids_)
        for n in range(lo, hi + 1):
            count = len(tokens) - n + 1
            if count <= 0:
                continue
            if n <= 2:
                # Unigrams and bigrams: keys from token ids, found by binary search.
                first = tok[:count]
                keys = first if n == 1 else n_tokens + first * n_tokens + tok[1:]
                valid = first >= 0 if n == 1 else (first >= 0) & (tok[1:] >= 0)
                pos = np.searchsorted(self.gram_keys_, keys[valid])
                pos[pos == len(self.gram_keys_)] = 0
                hit = self.gram_keys_[pos] == keys[valid] if len(pos) else pos.astype(bool)
                rows.append(doc[:count][valid][hit])
                cols.append(self.gram_ids_[pos[hit]])
                continue
            grams = map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
            # An n-gram across texts holds a line break: it is in no vocabulary.
            ids = np.fromiter(map(vec.vocabulary_.get, grams, repeat(-1)), np.int64, count)
            known = ids >= 0
            rows.append(doc[:count][known])
            cols.append(ids[known])
        r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        counts = sp.csr_matrix(
            (np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(texts), n_features)
        )
        counts.sum_duplicates()
        if vec.sublinear_tf:
            np.log(counts.data, out=counts.data)
            counts.data += 1
        counts.data *= vec.idf_[counts.indices].astype(np.float32)
        return normalize_rows(counts, norm="l2", copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """The n-gram of each feature column, as the model sees it."""
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.get_feature_names_out()


class ArabicHashingFeaturizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """The stateless variant of :class:`ArabicFeaturizer`, for training on
    streams larger than memory: same normalization and tokens, n-grams hashed
    into ``n_features`` columns, ``1 + log(tf)`` weighting and L2 norm, no
    vocabulary and no IDF.  Feature names are hash buckets (``#12345``).
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
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags

    def fit(self, X: Iterable[str], y: Any = None) -> ArabicHashingFeaturizer:
        """Nothing to learn: set up the hashing vectorizer."""
        from sklearn.feature_extraction.text import HashingVectorizer

        self.vectorizer_ = HashingVectorizer(
            tokenizer=tokenize,
            token_pattern=None,
            lowercase=False,
            ngram_range=self.ngram_range,
            n_features=self.n_features,
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )
        return self

    def partial_fit(self, X: Iterable[str], y: Any = None) -> ArabicHashingFeaturizer:
        return self if hasattr(self, "vectorizer_") else self.fit(X, y)

    def transform(self, X: Iterable[str]) -> Any:
        """Hashed, log-weighted, L2-normalized n-gram counts of ``X``."""
        if not hasattr(self, "vectorizer_"):
            self.fit([])
        texts = check_texts(X, what="X")
        if not texts:
            return sp.csr_matrix((0, self.n_features), dtype=np.float32)
        prepared = prepare_joined(texts, strip_clitics=self.strip_clitics).split("\n")
        counts = self.vectorizer_.transform(prepared).tocsr()
        np.log(counts.data, out=counts.data)
        counts.data += 1
        return normalize_rows(counts, norm="l2", copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """Hash buckets: a stateless featurizer cannot name its n-grams."""
        return np.array([f"#{i}" for i in range(self.n_features)], dtype=object)
