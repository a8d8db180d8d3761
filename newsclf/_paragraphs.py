"""Split an article into paragraphs; the text a model reads as a paragraph's article."""

from __future__ import annotations

import re
from collections.abc import Iterable

from newsclf._errors import InputTypeError, describe

__all__ = ["article_context", "split_paragraphs"]

# Line breaks of every kind: CRLF, CR, LF, vertical tab, form feed, NEL and
# the Unicode line / paragraph separators.
#: Every character ``str.splitlines`` breaks on, as a regex class body.
LINE_BREAKS = "\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029"
_LINE_BREAK_RE = re.compile(f"\r\n|[{LINE_BREAKS}]")
# A bullet at the start of a line: a bullet sign, or a dash or asterisk that
# a space follows (so "-3" keeps its minus sign).
_BULLET_RE = re.compile(r"^\s*(?:[•◦▪▫●○■□►▶‣⁃∙·]+|[*\-–—]+(?=\s))\s*")


def split_paragraphs(text: str) -> list[str]:
    """Split ``text`` into paragraphs: one per non-blank line.

    Any line break ends a paragraph (news sites and scrapers use single and
    double newlines alike); leading bullets and surrounding white space are
    removed; blank lines yield nothing.  No non-blank text is lost and no
    paragraph is empty.

    >>> split_paragraphs("عنوان\\r\\n\\r\\n• أول\\n  ثانٍ  ")
    ['عنوان', 'أول', 'ثانٍ']
    """
    if not isinstance(text, str):
        raise InputTypeError(f"split_paragraphs() expected a str, got {describe(text)}")
    out = []
    for line in _LINE_BREAK_RE.split(text):
        para = _BULLET_RE.sub("", line).strip()
        if para:
            out.append(para)
    return out


def article_context(paragraphs: Iterable[str], title: str | None = None) -> str:
    """The text a model with article context reads for an article: its title
    (if any) and every paragraph, one per line."""
    return "\n".join([*([title] if title else []), *paragraphs])
