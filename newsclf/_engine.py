"""The fast path: a batch of texts to token hashes to features to scores, in numpy.

It computes exactly what the reference path computes -- normalization
(:mod:`newsclf._normalize`), proclitic stripping and tokens
(:mod:`newsclf._tokens`), TF-IDF weighted n-grams, a linear model -- but over
the whole batch at once, with no Python loop per text or per token:

1. the batch is joined by line breaks (Farsi yeh and decomposed letters
   made Arabic and composed: two string operations over the whole batch)
   and read as an array of code points;
2. every per-character rule (invisible characters, camel-tools' ``arclean``
   map, diacritics, alef forms) is one table lookup;
3. the few texts that hold an e-mail, URL, handle or phone number (found by
   one regex scan) take the reference path instead: those rules are regexes;
4. glued words, teh marbuta / alef maksura / Latin case, and proclitics at
   word starts are array comparisons; tokens are runs between boundaries;
5. each token gets a 64-bit hash (per-character mix, polynomial over the
   token, final mix), n-grams combine their tokens' hashes; a vocabulary
   is a sorted array of such hashes, searched with ``searchsorted``;
6. counts, ``1 + log(tf)``, IDF, the L2 norm and the linear scores are
   array reductions.

Two different n-grams share a hash with probability about 2**-64 per pair;
a vocabulary whose own hashes collide is refused when it is built.

This module imports numpy and the normalizer only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from newsclf import _normalize as N
from newsclf._tokens import SYMBOLS, prepare, tokenize

__all__ = [
    "Block",
    "Features",
    "block_features",
    "hash_ngrams",
    "hash_tokens",
    "linear_scores",
    "ngram_hashes",
    "text_hashes",
]

_U64 = np.uint64
_P = _U64(0x100000001B3)  # polynomial base over a token's characters
_Q = _U64(0x9E3779B97F4A7C15)  # combines the tokens of an n-gram
_SPACE, _NEWLINE = 0x20, 0x0A


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, elementwise on uint64 (wrapping arithmetic)."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    out: np.ndarray = x ^ (x >> _U64(31))
    return out


@dataclass(frozen=True)
class _Tables:
    """Lookup tables over code points, built once per process from the
    normalizer's own data."""

    stage_a_len: np.ndarray  # uint8: how many characters stage A makes of a code point
    stage_a_first: np.ndarray  # uint32: the first of them
    stage_a_more: dict[int, str]  # the code points stage A maps to 2+ characters
    stage_b: np.ndarray  # uint32 over the alphabet: maksura, teh marbuta, lowercase
    kind: np.ndarray  # uint8 over the alphabet: 0 space, 1 symbol, 2 word character
    is_word: np.ndarray  # bool over the alphabet: regex \w
    is_letter: np.ndarray  # bool over the alphabet: an Arabic letter
    is_digit: np.ndarray  # bool over the alphabet: regex \d
    is_latin: np.ndarray  # bool over the alphabet: an ASCII letter
    is_wa_fa: np.ndarray  # bool over the alphabet: the conjunctions و ف
    is_bi_ka_li: np.ndarray  # bool over the alphabet: the prepositions ب ك ل
    is_clitic_start: np.ndarray  # bool over the alphabet: a proclitic's first letter


@cache
def _tables() -> _Tables:
    # Every stage-A rule maps each character on its own, so it is exact to
    # apply them to each character of the arclean map (the characters it
    # does not know are deleted).
    stage_a: dict[int, str] = {}
    for char in N._ARCLEAN_MAP:
        out = char
        for rule in (N.remove_invisible, N.arclean, N.dediac_ar, N.normalize_alef_ar):
            out = rule(out)
        if out:
            stage_a[ord(char)] = out
    length = np.zeros(0x110000, np.uint8)
    first = np.zeros(0x110000, np.uint32)
    more = {}
    for code, out in stage_a.items():
        length[code] = len(out)
        first[code] = ord(out[0])
        if len(out) > 1:
            more[code] = out
    alphabet = {c for out in stage_a.values() for c in out} | {" ", "\n"}
    size = max(map(ord, alphabet)) + 1
    stage_b = np.arange(size, dtype=np.uint32)
    for c in alphabet:
        b = N.lowercase_latin(N.normalize_teh_marbuta_ar(N.normalize_alef_maksura_ar(c)))
        if len(b) != 1 or ord(b) >= size:
            raise AssertionError(f"stage B must map a character to one known one: {c!r}")
        stage_b[ord(c)] = ord(b)
    # Each class by one scan of the regex over every code point below
    # ``size``: the very regexes of the reference path, in one call each.
    every = "".join(map(chr, range(size)))

    def matching(pattern: str) -> np.ndarray:
        out = np.zeros(size, bool)
        out[[m.start() for m in re.finditer(pattern, every)]] = True
        return out

    is_word = matching(r"\w")
    is_letter = matching(f"[{N.ARABIC_LETTERS}]")
    is_digit = matching(r"\d")
    kind = np.full(size, 2, np.uint8)
    kind[[ord(c) for c in SYMBOLS if ord(c) < size]] = 1
    kind[matching(r"\s")] = 0  # str.isspace, as the tokenizer's split
    is_latin = np.zeros(size, bool)
    is_latin[[ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]] = True
    is_wa_fa = np.zeros(size, bool)
    is_wa_fa[list(_WA_FA)] = True
    is_bi_ka_li = np.zeros(size, bool)
    is_bi_ka_li[list(_BI_KA_LI)] = True
    is_clitic_start = is_wa_fa | is_bi_ka_li
    is_clitic_start[_AL[0]] = True
    return _Tables(
        length,
        first,
        more,
        stage_b,
        kind,
        is_word,
        is_letter,
        is_digit,
        is_latin,
        is_wa_fa,
        is_bi_ka_li,
        is_clitic_start,
    )


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _stage_a(cp: np.ndarray, t: _Tables) -> np.ndarray:
    """Invisible characters, arclean, diacritics and alef forms: a table lookup
    (a few characters, such as an ellipsis, become several)."""
    length = t.stage_a_len[cp]
    if not t.stage_a_more or not (length > 1).any():
        first: np.ndarray = t.stage_a_first[cp[length > 0]]
        return first
    out = [
        np.array([ord(c) for c in t.stage_a_more[int(code)]], np.uint32)
        if n > 1
        else t.stage_a_first[code : code + 1]
        for code, n in zip(cp.tolist(), length.tolist(), strict=True)
        if n
    ]
    return np.concatenate(out) if out else np.zeros(0, np.uint32)


def _split_glued(a: np.ndarray, t: _Tables) -> np.ndarray:
    """:func:`newsclf._normalize.split_glued_words` on stage-A text: a space
    after a word-final letter followed by a letter, and inside ``ا|ال``."""
    if not len(a):
        return a
    letter = np.append(t.is_letter[a], [False, False, False, False])
    final = (a == 0x0629) | (a == 0x0649)
    rule1 = final & letter[1 : len(a) + 1]
    alef = a == 0x0627
    nxt = np.append(a, [0, 0, 0])
    prev_letter = np.concatenate([[False], letter[: len(a) - 1]])
    prev_final = np.concatenate([[False], final[:-1]]) if len(a) else final
    rule2 = (
        alef
        & prev_letter
        & ~prev_final
        & (nxt[1 : len(a) + 1] == 0x0627)
        & (nxt[2 : len(a) + 2] == 0x0644)
        & letter[3 : len(a) + 3]
    )
    where = np.flatnonzero(rule1 | rule2)
    return np.insert(a, where + 1, _SPACE) if len(where) else a


# The proclitic regex of newsclf._tokens, as the sequence of alternatives the
# regex engine tries, in order: (conjunction?, preposition?, body), body being
# "ال" or "لل".  Lengths 2-4, followed by two Arabic letters.
_WA_FA = (0x0648, 0x0641)
_BI_KA_LI = (0x0628, 0x0643, 0x0644)
_AL, _LIL = (0x0627, 0x0644), (0x0644, 0x0644)
_ALTERNATIVES = [
    (conj, prep, body)
    for conj in (True, False)
    for prep, body in ((True, _AL), (False, _AL), (False, _LIL))
]


def _proclitic_mask(f: np.ndarray, t: _Tables) -> np.ndarray:
    """True where :func:`newsclf._tokens.strip_proclitics` deletes a character."""
    n = len(f)
    pad = np.append(f, np.zeros(6, np.uint32))
    word = t.is_word[f]
    letter = np.append(t.is_letter[f], np.zeros(6, bool))
    wa_fa = np.append(t.is_wa_fa[f], np.zeros(6, bool))
    bi_ka_li = np.append(t.is_bi_ka_li[f], np.zeros(6, bool))
    starts = np.flatnonzero(word & ~np.concatenate([[False], word[:-1]]))
    starts = starts[t.is_clitic_start[f[starts]]]
    length = np.zeros(len(starts), np.int64)
    todo = np.ones(len(starts), bool)
    for conj, prep, body in _ALTERNATIVES:
        at = starts.copy()
        ok = todo.copy()
        if conj:
            ok &= wa_fa[at]
            at = at + 1
        if prep:
            ok &= bi_ka_li[at]
            at = at + 1
        ok &= (pad[at] == body[0]) & (pad[at + 1] == body[1]) & letter[at + 2] & letter[at + 3]
        length[ok] = (at + 2 - starts)[ok]
        todo &= ~ok
    mask = np.zeros(n + 4, bool)
    for k in range(4):
        mask[starts[length > k] + k] = True
    return mask[:n]


def _hash_runs(chars: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The 64-bit hash of each run of ``chars`` beginning at ``starts``
    (sorted; the last run ends at the end of ``chars``)."""
    if not len(starts):
        return np.zeros(0, _U64)
    lengths = np.diff(np.append(starts, len(chars)))
    pos = np.arange(len(chars)) - np.repeat(starts, lengths)
    powers = np.empty(int(lengths.max()), _U64)
    powers[0] = 1
    if len(powers) > 1:
        powers[1:] = _P
        powers = np.cumprod(powers, dtype=_U64)
    with np.errstate(over="ignore"):
        terms = _mix(chars.astype(_U64) + _Q) * powers[pos]
        sums = np.add.reduceat(terms, starts)
        return _mix(sums ^ lengths.astype(_U64))


def hash_tokens(tokens: Sequence[str]) -> np.ndarray:
    """The hash of each token (a string), as the fast path computes it."""
    if not tokens:
        return np.zeros(0, _U64)
    lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
    if (lengths == 0).any():
        raise ValueError("tokens are never empty")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return _hash_runs(_codepoints("".join(tokens)).astype(np.uint32), starts)


def _digit_runs(a: np.ndarray, t: _Tables) -> np.ndarray:
    """Positions in ``a`` where eight digits in a row end, a dash or white
    space (not a line break) allowed between two of them: where the
    normalizer's phone hint ``\\d(?:(?:-|[^\\S\\n]+)?\\d){7}`` matches."""
    digits = np.flatnonzero(t.is_digit[a])
    if len(digits) < 8:
        return np.zeros(0, np.int64)
    gap = np.diff(digits)
    between = a[digits[:-1] + 1]
    # How many characters up to each position are not white space (or are a line break).
    solid = np.cumsum((t.kind[a] != 0) | (a == _NEWLINE))
    only_space = solid[digits[1:] - 1] == solid[digits[:-1]]
    link = (gap == 1) | ((gap == 2) & (between == 0x2D)) | only_space
    at = np.arange(len(link))
    run = at - np.maximum.accumulate(np.where(link, -1, at))  # links in a row ending here
    return digits[1:][run >= 7]


def _pattern_texts(a: np.ndarray, doc_of: np.ndarray, t: _Tables) -> list[int]:
    """Which texts of the stage-A batch ``a`` the pattern rules would touch:
    those where their hint regex matches.  Every hint holds an ``@``, a
    ``://``, a ``www.``, a ``.`` before a Latin letter or eight digits in a row (spaces
    and dashes between them allowed): digit runs are found in numpy, the
    texts with one of the others are checked with the hint regex."""
    n = len(a)
    if not n:
        return []
    nxt = np.append(a[1:], [0, 0])
    mark = (a == 0x40) | ((a == 0x3A) & (nxt[:n] == 0x2F) & (nxt[1 : n + 1] == 0x2F))
    dot = np.flatnonzero(a[:-1] == 0x2E)
    mark[dot[t.is_latin[a[dot + 1]]]] = True
    w = (a == 0x77) | (a == 0x57)  # "www." before anything
    dot = dot[dot >= 3]
    mark[dot[w[dot - 1] & w[dot - 2] & w[dot - 3]]] = True
    candidates = set(doc_of[mark].tolist())
    slow = set(doc_of[_digit_runs(a, t)].tolist())
    if not candidates - slow:
        return sorted(slow)
    mapped = a.astype("<u4").tobytes().decode("utf-32-le")
    bounds = np.concatenate([[-1], np.flatnonzero(a == _NEWLINE), [n]])
    slow.update(
        i
        for i in candidates - slow
        if N._PATTERN_HINT_RE.search(mapped, bounds[i] + 1, bounds[i + 1]) is not None
    )
    return sorted(slow)


def _tokens_fast(texts: list[str], strip_clitics: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(doc, hash)`` of every token of every text, in order."""
    t = _tables()
    joined = N.join_lines(texts)
    for rule in N.STRING_RULES:
        joined = rule(joined)
    a = _stage_a(_codepoints(joined), t)
    # Texts that need the pattern rules (regexes) take the reference path.
    doc_of = np.cumsum(a == _NEWLINE)
    slow = _pattern_texts(a, doc_of, t)
    if slow:
        is_slow = np.zeros(int(doc_of[-1]) + 1, bool)
        is_slow[slow] = True
        a = a[(a == _NEWLINE) | ~is_slow[doc_of]]
    a = _split_glued(a, t)
    f = t.stage_b[a]
    if strip_clitics:
        f = f[~_proclitic_mask(f, t)]
    kind = t.kind[f]
    word = kind == 2
    prev_word = np.concatenate([[False], word[:-1]])
    is_start = (kind == 1) | (word & ~prev_word)
    in_token = kind != 0
    chars = f[in_token]
    starts = np.flatnonzero(is_start[in_token])
    doc = np.cumsum(f == _NEWLINE)[in_token][starts]
    hashes = _hash_runs(chars, starts)
    if slow:
        tokens = [
            tokenize(p) for p in prepare([texts[i] for i in slow], strip_clitics=strip_clitics)
        ]
        doc = np.concatenate([doc, np.repeat(slow, [len(toks) for toks in tokens])])
        hashes = np.concatenate([hashes, hash_tokens([t for toks in tokens for t in toks])])
        order = np.argsort(doc, kind="stable")
        doc, hashes = doc[order], hashes[order]
    return doc.astype(np.int64), hashes


def text_hashes(texts: list[str], *, strip_clitics: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(doc, hash)`` of every token of ``texts``, in order: what
    ``tokenize(prepare(texts))`` gives, hashed with :func:`hash_tokens`."""
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0, _U64)
    return _tokens_fast(texts, strip_clitics)


def hash_ngrams(doc: np.ndarray, hashes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(doc, hash)`` of every n-gram of consecutive tokens within one text."""
    if n == 1:
        return doc, hashes
    count = len(hashes) - n + 1
    if count <= 0:
        return np.zeros(0, np.int64), np.zeros(0, _U64)
    same = doc[:count] == doc[n - 1 :]
    windows = np.lib.stride_tricks.sliding_window_view(hashes, n)
    return doc[:count][same], _combine(windows[same])


def _combine(hashes: np.ndarray) -> np.ndarray:
    """The n-gram hash of each row of token hashes (``count × n``)."""
    h = hashes[:, 0].copy()
    with np.errstate(over="ignore"):
        for k in range(1, hashes.shape[1]):
            h = _mix(h * _Q + hashes[:, k])
    return h


def ngram_hashes(ngrams: Sequence[str]) -> np.ndarray:
    """The hash of each n-gram, written as its tokens joined by spaces (as in
    a vectorizer's vocabulary)."""
    parts = [g.split(" ") for g in ngrams]
    out = np.zeros(len(parts), _U64)
    for n in sorted({len(p) for p in parts}):
        rows = [i for i, p in enumerate(parts) if len(p) == n]
        flat = hash_tokens([t for i in rows for t in parts[i]])
        out[rows] = _combine(flat.reshape(len(rows), n))
    return out


@dataclass(frozen=True)
class Block:
    """One featurizer's recipe: how texts become columns.

    ``hashes``/``ids`` (sorted hashes of the vocabulary's n-grams and their
    column) for a vocabulary block, or ``n_features`` for a hashed block;
    ``idf`` (per column, or ``None``); ``ngram_range``, ``strip_clitics``,
    ``sublinear_tf``, ``norm`` ("l2" or ``None``) as in the featurizers.
    """

    ngram_range: tuple[int, int]
    strip_clitics: bool
    sublinear_tf: bool
    norm: str | None
    n_columns: int
    hashes: np.ndarray | None = None
    ids: np.ndarray | None = None
    idf: np.ndarray | None = None

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray, int]:
        """An open-addressing hash table of the vocabulary (linear probing,
        load at most 1/2): ``(keys, columns, mask)``, column -1 = empty
        (columns are int32: a vocabulary holds fewer than 2**31 n-grams).
        One probe or two instead of a binary search's eighteen."""
        assert self.hashes is not None and self.ids is not None
        size = 16
        while size < 2 * len(self.hashes):
            size *= 2
        # Inserted in order of home slot, the i-th key lands on the first free
        # slot from its home: max(home, previous slot + 1) = i + the running
        # max of (home - rank).  Keys pushed past the end wrap around to the
        # first free slots from slot 0 (every slot from their home up is taken).
        home = (self.hashes & _U64(size - 1)).astype(np.int64)
        order = np.argsort(home)  # any order among keys of one home slot will do
        rank = np.arange(len(order))
        slot = np.maximum.accumulate(home[order] - rank) + rank
        wrapped = slot >= size
        if wrapped.any():
            free = np.ones(size, bool)
            free[slot[~wrapped]] = False
            slot[wrapped] = np.flatnonzero(free)[: int(wrapped.sum())]
        keys = np.zeros(size, _U64)
        cols = np.full(size, -1, np.int32)  # half the memory traffic of int64
        keys[slot] = self.hashes[order]
        cols[slot] = self.ids[order]
        return keys, cols, size - 1

    def lookup(self, h: np.ndarray) -> np.ndarray:
        """The column of each n-gram hash, -1 where it is not in the vocabulary."""
        keys, cols, mask = self._table
        slot = (h & _U64(mask)).astype(np.intp)
        col = cols[slot]  # the first probe, for every hash at once
        out = np.where(keys[slot] == h, col, -1)  # an empty slot's column is -1
        # Hashes whose home slot holds another key probe on, slot by slot.
        todo = np.flatnonzero((col >= 0) & (out < 0))
        slot = slot[todo]
        while len(todo):
            slot = (slot + 1) & mask
            col = cols[slot]
            hit = keys[slot] == h[todo]
            out[todo[hit]] = col[hit]
            more = ~hit & (col >= 0)
            todo, slot = todo[more], slot[more]
        return out


@dataclass(frozen=True)
class Features:
    """A sparse matrix in coordinate form, rows sorted: ``row``, ``col``, ``value``."""

    n_rows: int
    n_columns: int
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray


def block_features(
    texts: list[str], block: Block, tokens: dict[bool, tuple[np.ndarray, np.ndarray]] | None = None
) -> Features:
    """The block's feature matrix of ``texts`` (what the featurizer's
    ``transform`` gives), as coordinates.  ``tokens`` caches the token hashes
    of ``texts`` by ``strip_clitics``, for blocks that read the same texts."""
    cache = {} if tokens is None else tokens
    if block.strip_clitics not in cache:
        cache[block.strip_clitics] = text_hashes(texts, strip_clitics=block.strip_clitics)
    doc, tok = cache[block.strip_clitics]
    rows, cols = [], []
    lo, hi = block.ngram_range
    for n in range(lo, hi + 1):
        d, h = hash_ngrams(doc, tok, n)
        if block.hashes is not None:
            col = block.lookup(h)
            hit = col >= 0
            rows.append(d[hit])
            cols.append(col[hit])
        else:
            rows.append(d)
            cols.append((h % _U64(block.n_columns)).astype(np.int64))
    key = np.concatenate(rows) * block.n_columns + np.concatenate(cols)
    key.sort()
    if len(key):
        edge = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        counts = np.diff(np.append(edge, len(key))).astype(np.float64)
        key = key[edge]
    else:
        counts = np.zeros(0)
    row, col = key // block.n_columns, key % block.n_columns
    value = np.log(counts) + 1.0 if block.sublinear_tf else counts
    if block.idf is not None:
        value = value * block.idf[col]
    if block.norm == "l2" and len(value):
        norms = np.sqrt(np.bincount(row, value * value, minlength=len(texts)))
        value = value / norms[row]
    return Features(len(texts), block.n_columns, row, col, value)


def linear_scores(features: Features, coef_t: np.ndarray) -> np.ndarray:
    """``X @ coef_t`` for a coordinate matrix ``X`` (``n_rows × n_labels``)."""
    out = np.zeros((features.n_rows, coef_t.shape[1]))
    if len(features.row):
        edge = np.flatnonzero(np.concatenate([[True], features.row[1:] != features.row[:-1]]))
        out[features.row[edge]] = np.add.reduceat(
            features.value[:, None] * coef_t[features.col], edge, axis=0
        )
    return out


def support(features: Features) -> np.ndarray:
    """How many known features each row has."""
    return np.bincount(features.row, minlength=features.n_rows)
