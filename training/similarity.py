"""Near-duplicate measure for the data checks: cosine similarity of
character 3-5-gram TF-IDF vectors (within word boundaries)."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer


def _vectorizer(texts: list[str]) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit(texts)


def similarity_matrix(texts: list[str]) -> np.ndarray:
    """Pairwise similarities of ``texts`` (dense, diagonal zeroed)."""
    x = _vectorizer(texts).transform(texts)
    sim = (x @ x.T).toarray()
    np.fill_diagonal(sim, 0.0)
    return sim


def max_similarity_to(queries: list[str], reference: list[str]) -> np.ndarray:
    """For each query, its highest similarity to any reference text."""
    vec = _vectorizer(reference + queries)
    q, r = vec.transform(queries), vec.transform(reference)
    out = np.zeros(len(queries))
    for start in range(0, len(queries), 500):
        out[start : start + 500] = (q[start : start + 500] @ r.T).max(axis=1).toarray().ravel()
    return out
