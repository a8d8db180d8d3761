"""Normalization: each rule, the whole chain, and its equivalence with camel-tools."""

from __future__ import annotations

import pytest
from camel_tools.tokenizers.word import simple_word_tokenize
from camel_tools.utils.charmap import CharMapper
from hypothesis import assume, example, given
from hypothesis import strategies as st
from strategies import any_text, news_text

import newsclf
from newsclf import _normalize
from newsclf._normalize import arclean, split_glued_words
from newsclf._tokens import SYMBOLS, strip_proclitics, tokenize

CAMEL_ARCLEAN = CharMapper.builtin_mapper("arclean")


@given(any_text)
def test_arclean_equals_camel_tools(text: str) -> None:
    """The fast arclean gives exactly what camel-tools' CharMapper gives."""
    assert arclean(text) == CAMEL_ARCLEAN(text)


@given(news_text)
def test_arclean_equals_camel_tools_on_news(text: str) -> None:
    """... also on text dense in Arabic, digits, punctuation and invisibles."""
    assert arclean(text) == CAMEL_ARCLEAN(text)


def test_arclean_map_is_camel_tools_map() -> None:
    """The map shipped as data (_arclean.json) is camel-tools' arclean map."""
    assert dict(CAMEL_ARCLEAN._charmap) == _normalize._ARCLEAN_MAP


@pytest.mark.parametrize(
    "name",
    ["dediac_ar", "normalize_alef_ar", "normalize_alef_maksura_ar", "normalize_teh_marbuta_ar"],
)
@given(text=st.one_of(any_text, news_text))
def test_character_rules_equal_camel_tools(name: str, text: str) -> None:
    """Each character rule kept as data equals the camel-tools function of that name."""
    import camel_tools.utils.dediac
    import camel_tools.utils.normalize

    camel = getattr(camel_tools.utils.dediac, name, None) or getattr(
        camel_tools.utils.normalize, name
    )
    assert getattr(_normalize, name)(text) == camel(text)


def test_symbols_are_camel_tools_symbols_that_normalization_keeps() -> None:
    """``SYMBOLS`` holds exactly camel-tools' symbols among the characters arclean can output."""
    from camel_tools.tokenizers.word import _SYMBOLS_ALL

    alphabet = {c for k, v in _normalize._ARCLEAN_MAP.items() for c in (k if v is None else v)}
    assert set(SYMBOLS) == {c for c in alphabet if c in _SYMBOLS_ALL}


def test_normalizing_does_not_import_camel_tools() -> None:
    """``newsclf.normalize`` runs without importing camel-tools."""
    import subprocess
    import sys

    code = "import sys, newsclf; newsclf.normalize('x'); print('camel_tools' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@given(news_text)
# Regression: two spaces inside a phone number were collapsed only after the
# phone rule had run, so the second pass found the number the first missed.
@example("ء\u200c٠٧٩ ١٢٣ ٤٥٦٧  0 ")
def test_normalize_is_idempotent_on_news(text: str) -> None:
    """Normalizing twice changes nothing more."""
    once = newsclf.normalize(text)
    assert newsclf.normalize(once) == once


@given(any_text)
def test_normalize_never_crashes_and_is_idempotent(text: str) -> None:
    """Arbitrary Unicode (surrogates, controls) is normalized without error."""
    once = newsclf.normalize(text)
    assert isinstance(once, str)
    assert newsclf.normalize(once) == once


@given(news_text)
def test_tokenize_equals_camel_tools_on_normalized_text(text: str) -> None:
    """On normalized text the regex tokenizer splits as simple_word_tokenize does."""
    norm = strip_proclitics(newsclf.normalize(text))
    assert tokenize(norm) == simple_word_tokenize(norm)


@given(any_text)
def test_tokenize_equals_camel_tools_on_any_normalized_text(text: str) -> None:
    """On any normalized text (proclitics kept) the regex tokenizer splits as
    ``simple_word_tokenize`` does."""
    norm = newsclf.normalize(text)
    assert tokenize(norm) == simple_word_tokenize(norm)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("الأُمَمُ المُتَّحِدَة", "الامم المتحده"),  # diacritics, alef, teh marbuta
        ("مصطفى", "مصطفي"),  # alef maksura
        ("الحـــرب", "الحرب"),  # tatweel
        ("عام ٢٠٢٦ و۱۴۰۳", "عام 2026 و1403"),  # Arabic-Indic and Persian digits
        ("The TELEGRAPH", "the telegraph"),  # Latin case
        ("كل\u200cمة \u202bنص\u202c", "كلمة نص".replace("ة", "ه")),  # zero-width, bidi
        ("«قال» “نعم” – حسناً…", '"قال" "نعم" - حسنا...'),  # quotes and punctuation
        ("  سطر \n\t آخر  ", "سطر اخر"),  # white space
        # Regressions (audit): a Persian keyboard's yeh split a word in two
        # ("الجي ش"), and decomposed text (NFD) lost its hamzas ("طايرات").
        ("الج\u06ccش ی", "الجيش ي"),
        ("طاي\u0654رات المو\u0654تمر", "طائرات المؤتمر"),
        ("ا\u0654علن", "اعلن"),
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    """Each normalization rule does what its name says."""
    assert newsclf.normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("زوروا https://example-news.com/ar/مقال?id=3 الآن", "زوروا xurlx الان"),
        ("الموقع www.example.org", "الموقع xurlx"),
        ("example-news.co.uk/path", "xurlx"),
        ("راسلونا info@example-news.com", "راسلونا xemailx"),
        ("تابعونا @ExampleNewsAr و@قناة_الخبر", "تابعونا xhandlex و xhandlex"),
        ("اتصل +971 4 555 1234", "اتصل xphonex"),
        ("عام 2026 وقتل 150", "عام 2026 وقتل 150"),  # numbers are not phones
        # Regression (audit): amounts in groups of three and dates were phone numbers.
        ("بلغت 150 000 000 دولار", "بلغت 150 000 000 دولار"),
        ("بلغت 150\u00a0000\u00a0000 دولار", "بلغت 150 000 000 دولار"),
        ("في 2026-03-12 و12-03-2026", "في 2026-03-12 و12-03-2026"),
        ("اتصل 0791 234 567 او 06 55 51 23", "اتصل xphonex او xphonex"),
        ("150 000 000 000 و 12 345 678 9", "150 000 000 000 و xphonex"),
    ],
)
def test_placeholders(raw: str, expected: str) -> None:
    """URLs, e-mails, @handles and phone numbers become placeholder words."""
    assert newsclf.normalize(raw) == expected


def test_decomposed_arabic_is_composed_as_nfc_composes_it() -> None:
    """The composition rule gives what Unicode NFC gives on Arabic letters
    with harakat and combining hamzas/madda in any order, and stays linear on
    a long run of marks (full NFC sorts a run by insertion: 85 s for 320,000
    marks)."""
    import unicodedata

    from newsclf._normalize import compose_arabic

    marks = "\u064e\u0650\u0651\u0653\u0654\u0655\u0657"
    for base in "اويبۀ":
        for a in marks:
            for b in marks:
                text = base + a + b
                assert newsclf.normalize(compose_arabic(text)) == newsclf.normalize(
                    unicodedata.normalize("NFC", text)
                )
    assert newsclf.normalize("ي" + "\u0654\u0650" * 200_000) == "ئ"


def test_a_long_run_of_digit_groups_is_one_amount() -> None:
    """A run of 50,000 groups of three digits is one amount, kept whole (the
    first version of the amount rule, a lookahead at every group's start,
    took minutes on it: quadratic)."""
    run = "1 " + "234 " * 50_000
    assert newsclf.normalize(run) == run.strip()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("قويةبما", "قوية بما"),
        ("أوكرانياالذي", "أوكرانيا الذي"),
        ("حتىالآن", "حتى الآن"),
        ("مدرسة", "مدرسة"),
        ("الاتفاق", "الاتفاق"),
    ],
)
def test_split_glued_words(raw: str, expected: str) -> None:
    """Words glued by machine translation are split only where spelling proves it."""
    assert split_glued_words(raw) == expected


def test_strip_proclitics() -> None:
    """Article and attached particles are stripped so one word counts once."""
    assert strip_proclitics("والجيش بالجيش الجيش للامم وقال") == "جيش جيش جيش امم وقال"


def test_normalize_refuses_non_str() -> None:
    """``normalize`` refuses bytes with InputTypeError."""
    with pytest.raises(newsclf.InputTypeError, match="expected a str, got bytes"):
        newsclf.normalize(b"\xd8\xa7")  # type: ignore[arg-type]


def _rule_by_rule(text: str) -> str:
    from newsclf._normalize import _LINE_BREAK_RE, RULES

    text = _LINE_BREAK_RE.sub(" ", text)
    for rule in RULES:
        text = rule(text)
    return text


@given(st.lists(st.one_of(news_text, any_text), max_size=6))
def test_batch_normalization_equals_rule_by_rule(texts: list[str]) -> None:
    """Normalizing a joined batch gives each text exactly what its rules give
    it alone: nothing leaks across texts, none is lost or split."""
    from newsclf._normalize import normalize_many

    assert normalize_many(texts) == [_rule_by_rule(t) for t in texts]


@given(st.one_of(news_text, any_text, st.text(alphabet="ab.+-@_ ك", max_size=60)))
@example("0@0.0+@0.0")  # the glued case: assumed away, not failed
def test_email_rule_matches_what_the_unanchored_pattern_matched(text: str) -> None:
    """Regression (quadratic time on a long run before "@"): anchoring the
    e-mail pattern at the start of a run changes no match -- except where an
    address is glued to the end of another ("0@0.0+@0.0"): the unanchored
    pattern started a second match there, the anchored one does not (a run
    never starts after a word character).  Hypothesis found that case."""
    import re
    from itertools import pairwise

    old = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
    spans = [m.span() for m in old.finditer(text)]
    assume(all(a[1] != b[0] for a, b in pairwise(spans)))
    assert _normalize._EMAIL_RE.sub("x", text) == old.sub("x", text)
