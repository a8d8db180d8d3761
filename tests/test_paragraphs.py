"""Splitting articles into paragraphs."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from strategies import any_text, news_text

import newsclf
from newsclf._paragraphs import INVISIBLE as _INVISIBLE


def test_split_rules() -> None:
    """Blank lines, single newlines, CRLF, bullets and stray spaces each end or trim a paragraph."""
    text = "عنوان\r\n\r\n• أول\n  ثانٍ  \r\r- ثالث\n\u2029* رابع\n-3 درجات\n\n\n"
    assert newsclf.split_paragraphs(text) == ["عنوان", "أول", "ثانٍ", "ثالث", "رابع", "-3 درجات"]


BULLET_SIGNS = set("•◦▪▫●○■□►▶‣⁃∙·*-–—")
INVISIBLE = {c for c in map(chr, range(0x110000)) if re.fullmatch(f"[{_INVISIBLE}]", c)}


@given(news_text)
def test_no_text_lost_none_empty(text: str) -> None:
    """No paragraph is empty, each is a piece of the input, and the only
    non-space characters that disappear are leading bullet signs and
    invisible characters (a byte-order mark, zero-width spaces) at a
    line's ends."""
    paras = newsclf.split_paragraphs(text)
    assert all(p and p == p.strip() and p in text for p in paras)
    kept = Counter(c for c in "".join(paras) if not c.isspace())
    given_chars = Counter(c for c in text if not c.isspace())
    assert not kept - given_chars
    assert set(given_chars - kept) <= BULLET_SIGNS | INVISIBLE


def test_a_line_of_invisible_characters_is_blank() -> None:
    """Regression (cross-surface audit): classify_article and /v1/articles
    made a leading byte-order mark an invisible paragraph 0 (the CLI drops
    it), shifting every index after it; a line of zero-width characters was
    a paragraph on every surface."""
    text = "\ufeffعنوان\n\u200b\u200c\n\u200f• أول\n  ثانٍ \u200b\n"
    assert newsclf.split_paragraphs(text) == ["عنوان", "أول", "ثانٍ"]
    # Regression (audit): characters that draw nothing but are not zero-width
    # (Hangul filler, blank braille, a variation selector) made a line a paragraph.
    for filler in ("\u3164", "\u2800", "\u034f", "\ufe0f", "\uffa0\U000e0067"):
        assert newsclf.split_paragraphs(f"أول\n{filler}\nثانٍ") == ["أول", "ثانٍ"]


@given(any_text)
def test_never_crashes(text: str) -> None:
    """Any Unicode text splits without error into non-empty str paragraphs."""
    assert all(isinstance(p, str) and p for p in newsclf.split_paragraphs(text))


def test_refuses_non_str() -> None:
    """``split_paragraphs`` refuses ``None`` with InputTypeError; so does
    ``article_text``, in its own name (it named ``split_paragraphs()``)."""
    with pytest.raises(newsclf.InputTypeError):
        newsclf.split_paragraphs(None)  # type: ignore[arg-type]
    with pytest.raises(newsclf.InputTypeError, match=r"^article_text\(\) expected a str article"):
        newsclf.article_text(None)  # type: ignore[arg-type]


def test_article_text_is_what_classify_article_reads(context_clf) -> None:
    """``newsclf.article_text`` is the context classify_article reads each
    paragraph with: passed to ``contexts=``, it gives the same scores (the
    article's raw text differs, with blank lines, bullets or a title)."""
    article = "• قصفت المدفعية مواقع المسلحين\n\nوصلت قافلة مساعدات إلى المخيم\n"
    title = "اشتباكات على الحدود"
    paras = newsclf.split_paragraphs(article)
    whole = context_clf.classify_article(article, title=title)
    same = context_clf.classify_many(paras, contexts=[newsclf.article_text(article, title)] * 2)
    assert [p.score for p in same] == [p.score for p in whole]


def test_a_blank_article_is_the_paragraph_itself(context_clf) -> None:
    """Regression: training reads a record whose context is empty with the
    paragraph as its article, but ``contexts=[""]`` (an empty cell of a
    context column) scored it with an empty article: a different answer for
    the same paragraph.  A blank article (white space, invisible characters)
    is now the paragraph itself everywhere: ``contexts=`` and ``explain``."""
    text = "قصفت المدفعية مواقع المسلحين"
    alone = context_clf.predict_proba([text])
    for blank in ("", "  ", "\u200b\n"):
        np.testing.assert_array_equal(context_clf.predict_proba([text], contexts=[blank]), alone)
        assert context_clf.explain(text, context=blank) == context_clf.explain(text)
