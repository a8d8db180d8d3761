"""Split an article into paragraphs; the text a model reads as a paragraph's article."""

from __future__ import annotations

import re
from collections.abc import Iterable

from newsclf._errors import InputTypeError, describe

__all__ = ["article_context", "article_text", "is_blank", "read_with", "split_paragraphs"]

# Line breaks of every kind: CRLF, CR, LF, vertical tab, form feed, NEL and
# the Unicode line / paragraph separators.
#: Every character ``str.splitlines`` breaks on, as a regex class body.
LINE_BREAKS = "\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029"
#: Zero-width and bidi control characters, the soft hyphen, and characters
#: that draw nothing (fillers, blank braille, variation selectors, tags), as
#: a regex class body: normalization deletes them inside a word (not turning
#: them into a space, as arclean would); at a line's ends they are blank.
INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U000e0001\U000e0020-\U000e007f"
)
_LINE_BREAK_RE = re.compile(f"\r\n|[{LINE_BREAKS}]")
# A bullet at the start of a line: a bullet sign, or a dash or asterisk that
# a space follows (so "-3" keeps its minus sign).
_BULLET_RE = re.compile(r"^\s*(?:[•◦▪▫●○■□►▶‣⁃∙·]+|[*\-–—]+(?=\s))\s*")
# White space and invisible characters (a byte-order mark, zero-width
# spaces, bidi marks) at either end of a line: a line of nothing else is blank.
_EDGES_RE = re.compile(f"^[\\s{INVISIBLE}]+|[\\s{INVISIBLE}]+$")
_LEADING_RE = re.compile(f"^[\\s{INVISIBLE}]+")
_VISIBLE_RE = re.compile(f"[^\\s{INVISIBLE}]")


def is_blank(text: str) -> bool:
    """Whether nothing of ``text`` shows: white space and invisible characters only."""
    return _VISIBLE_RE.search(text) is None


def read_with(text: str, context: object) -> str:
    """The article ``text`` is read with: ``context``, or ``text`` itself
    (a lone paragraph is its own article) when ``context`` is not a string
    (missing) or is blank -- white space and invisible characters only, as
    an empty cell.  The one rule for training and for every prediction."""
    if isinstance(context, str) and not is_blank(context):
        return context
    return text


def split_paragraphs(text: str) -> list[str]:
    """Split ``text`` into paragraphs: one per non-blank line.

    Any line break ends a paragraph (news sites and scrapers use single and
    double newlines alike); leading bullets and surrounding white space and
    invisible characters (a byte-order mark, zero-width spaces, bidi marks)
    are removed; blank lines yield nothing.  No non-blank text is lost and no
    paragraph is empty.

    >>> split_paragraphs("عنوان\\r\\n\\r\\n• أول\\n  ثانٍ  ")
    ['عنوان', 'أول', 'ثانٍ']
    """
    if not isinstance(text, str):
        raise InputTypeError(f"split_paragraphs() expected a str, got {describe(text)}")
    out = []
    for line in _LINE_BREAK_RE.split(text):
        para = _EDGES_RE.sub("", _BULLET_RE.sub("", _LEADING_RE.sub("", line)))
        if para:
            out.append(para)
    return out


def article_text(article: str, title: str | None = None) -> str:
    """The text a model with article context reads for a whole article (and
    its title, if any): what ``classify_article`` reads each paragraph
    with, for ``contexts=`` and ``explain(context=...)`` to read one the
    same way.

    >>> article_text("• أول\n\n ثانٍ ", title="عنوان")
    'عنوان\nأول\nثانٍ'
    """
    if not isinstance(article, str):
        raise InputTypeError(f"article_text() expected a str article, got {describe(article)}")
    if title is not None and not isinstance(title, str):
        raise InputTypeError(f"article_text() expected a str title, got {describe(title)}")
    return article_context(split_paragraphs(article), title)


def article_context(paragraphs: Iterable[str], title: str | None = None) -> str:
    """The text a model with article context reads for an article: its title
    (if any) and every paragraph, one per line."""
    return "\n".join([*([title] if title else []), *paragraphs])
