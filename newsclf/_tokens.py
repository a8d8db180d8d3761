"""The reference tokenizer: normalized text in, tokens out, as strings.

This is the readable definition that training uses and that the fast
engine (:mod:`newsclf._engine`) must reproduce exactly (the tests compare
them on arbitrary text):

1. :func:`newsclf.normalize` (every rule of :mod:`newsclf._normalize`);
2. :func:`strip_proclitics`: ``ال`` and the particles fused with it
   (و، ف، ب، ك، ل) leave the start of each word, so ``والجيش``,
   ``بالجيش`` and ``الجيش`` all count as ``جيش``;
3. :func:`tokenize`: runs of non-space characters, each punctuation mark or
   symbol a token of its own -- on normalized text exactly camel-tools'
   ``simple_word_tokenize`` (tested).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from newsclf._errors import InputTypeError, describe
from newsclf._normalize import ARABIC_LETTERS, join_lines, normalize_joined

__all__ = ["SYMBOLS", "check_batch", "check_texts", "prepare", "strip_proclitics", "tokenize"]

#: The characters normalized text can hold that camel-tools'
#: ``simple_word_tokenize`` splits off as tokens of their own (its
#: ``_SYMBOLS_ALL``, restricted to what normalization leaves; tested).
SYMBOLS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\u00b6\u00d7\u00f7\u2424"

# Optional conjunction (wa-, fa-), optional preposition (bi-, ka-, li-) and
# the article al-, or li- fused with the article (lil-), at the start of a
# word that keeps at least two letters.
_PROCLITIC_RE = re.compile(
    f"(?<!\\w)[\u0648\u0641]?(?:[\u0628\u0643\u0644]?\u0627\u0644|\u0644\u0644)"
    f"(?=[{ARABIC_LETTERS}]{{2}})"
)
_SYMBOL_CLASS = re.escape(SYMBOLS)
_TOKEN_RE = re.compile(f"[{_SYMBOL_CLASS}]|[^\\s{_SYMBOL_CLASS}]+")


def strip_proclitics(text: str) -> str:
    """Drop ``ال`` and the particles fused with it (و، ف، ب، ك، ل) from the
    start of each word of a normalized text."""
    return _PROCLITIC_RE.sub("", text)


def tokenize(text: str) -> list[str]:
    """Split a normalized text into tokens: runs of non-space characters, with
    every punctuation mark or symbol a token of its own."""
    return _TOKEN_RE.findall(text)


def prepare(texts: list[str], *, strip_clitics: bool = True) -> list[str]:
    """Normalize (and strip proclitics from) a batch: the text each token
    stream is read from, one per input text."""
    if not texts:
        return []
    joined = normalize_joined(join_lines(texts))
    return (strip_proclitics(joined) if strip_clitics else joined).split("\n")


def check_batch(texts: object, *, what: str = "texts") -> Iterable[object]:
    """Return ``texts`` if it is a batch (an iterable, not one text), or raise
    :class:`InputTypeError`.  A bare ``str`` (or ``bytes``) is refused: it is
    one text, and iterating it would classify each character."""
    if isinstance(texts, str | bytes | bytearray):
        raise InputTypeError(
            f"{what} must be an iterable of str (a batch), got a single "
            f"{type(texts).__name__}; wrap one text in a list: [text]"
        )
    if isinstance(texts, Mapping) or hasattr(texts, "columns"):
        raise InputTypeError(
            f"{what} must be an iterable of str, got {describe(texts)}, whose iteration gives "
            "its keys or column names; pass its text column or values"
        )
    if isinstance(texts, set | frozenset):
        raise InputTypeError(
            f"{what} must be an ordered iterable of str, got {describe(texts)}, which has no "
            "order to give results in; pass a list"
        )
    try:
        iter(texts)  # type: ignore[call-overload]
    except TypeError:
        raise InputTypeError(f"{what} must be an iterable of str, got {describe(texts)}") from None
    return texts  # type: ignore[return-value]


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
