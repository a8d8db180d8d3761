"""Arabic news text normalization: one small pure function per rule.

:func:`normalize` applies every rule in a fixed order.  The rules build on
camel-tools' own utilities (the ``arclean`` character map, ``dediac_ar``,
``normalize_alef_ar``, ``normalize_alef_maksura_ar``,
``normalize_teh_marbuta_ar``) and add what news text needs and they leave
out: invisible and bidi control characters, URLs / e-mails / @handles /
phone numbers mapped to placeholder words, words glued together by machine
translation, Latin case and runs of white space.

Everything here is idempotent: ``normalize(normalize(t)) == normalize(t)``.
"""

from __future__ import annotations

import re

from camel_tools.utils.charmap import CharMapper
from camel_tools.utils.dediac import dediac_ar
from camel_tools.utils.normalize import (
    normalize_alef_ar,
    normalize_alef_maksura_ar,
    normalize_teh_marbuta_ar,
)

__all__ = [
    "PLACEHOLDERS",
    "arclean",
    "collapse_whitespace",
    "lowercase_latin",
    "normalize",
    "remove_invisible",
    "replace_emails",
    "replace_handles",
    "replace_phones",
    "replace_urls",
    "split_glued_words",
]

#: Placeholder words that stand for what the pattern rules remove.  They are
#: plain lowercase Latin words so that tokenizers keep them whole.
PLACEHOLDERS = {"url": "xurlx", "email": "xemailx", "handle": "xhandlex", "phone": "xphonex"}

# --- data -----------------------------------------------------------------

# Zero-width and bidi control characters (and the soft hyphen): inside a word
# they are deleted, not turned into a space as arclean would.
_INVISIBLE = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"

# camel-tools' arclean map, expanded.  Its default maps every character not
# in the map to "" (deletes it).  CharMapper walks the string in Python; here
# the map becomes two regexes over character *ranges*: one deletes what the
# map does not know, one rewrites the characters it changes.  The result
# equals CharMapper.builtin_mapper("arclean")(text) at ~5x the speed
# (tests/test_normalize.py checks the equality on arbitrary text).
_ARCLEAN_MAP: dict[str, str | None] = dict(CharMapper.builtin_mapper("arclean")._charmap)
_ARCLEAN_CHANGES = {k: v for k, v in _ARCLEAN_MAP.items() if v is not None and v != k}


def _char_class(chars: object) -> str:
    """A regex character class body covering ``chars`` as compact ranges."""
    codes = sorted({ord(c) for c in chars})  # type: ignore[attr-defined]
    parts, start, prev = [], codes[0], codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        a, b = re.escape(chr(start)), re.escape(chr(prev))
        parts.append(a if start == prev else f"{a}-{b}")
        start = prev = code
    return "".join(parts)


# --- precompiled patterns -------------------------------------------------

_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_ARCLEAN_DROP_RE = re.compile(f"[^{_char_class(_ARCLEAN_MAP)}]+")
_ARCLEAN_CHANGE_RE = re.compile(f"[{_char_class(_ARCLEAN_CHANGES)}]")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TLD = r"\.(?:com|net|org|info|io|tv|news|co|uk|fr|me|ly|ae|sa|eg|qa|gov|edu)\b"
_URL_HINT_RE = re.compile(rf"://|www\.|{_TLD}", re.IGNORECASE)
_URL_RE = re.compile(
    rf"(?:https?://|www\.)\S+|(?<![\w@.])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*{_TLD}(?:/\S*)?",
    re.IGNORECASE,
)
_HANDLE_RE = re.compile(r"(?<!@)@\w+")
_PHONE_HINT_RE = re.compile(r"\d(?:[ -]?\d){7}")
_PHONE_RE = re.compile(r"(?<![\w+])\+?\d(?:[ -]?\d){7,}(?!\w)")
_ARABIC_LETTER = "\u0621-\u063a\u0641-\u064a"
# Teh marbuta and alef maksura only ever end a word: a letter right after one
# means two words were glued together ("قويةبما" -> "قوية بما").
_GLUED_AFTER_FINAL_RE = re.compile(f"([\u0629\u0649])(?=[{_ARABIC_LETTER}])")
# "أوكرانياالذي": a word ending in alef glued to a word starting with al-.
_GLUED_ALEF_AL_RE = re.compile(f"(?<=[{_ARABIC_LETTER}])\u0627(?=\u0627\u0644[{_ARABIC_LETTER}])")


# --- rules ------------------------------------------------------------------


def _replace(pattern: re.Pattern[str], kind: str, text: str) -> str:
    """Replace every match of ``pattern`` by the placeholder for ``kind``,
    again until nothing matches: a replacement puts spaces where a
    neighbouring match's look-behind may have failed."""
    placeholder = f" {PLACEHOLDERS[kind]} "
    while True:
        new = pattern.sub(placeholder, text)
        if new == text:
            return text
        text = new


def remove_invisible(text: str) -> str:
    """Delete zero-width, bidi-control and soft-hyphen characters."""
    return _INVISIBLE_RE.sub("", text)


def arclean(text: str) -> str:
    """camel-tools' ``arclean`` map: unify Arabic letters, digits (Arabic-Indic
    and Persian to ASCII), quotes, dashes and spaces; drop tatweel, diacritics
    and characters outside Arabic, ASCII and Latin-1."""
    return _ARCLEAN_CHANGE_RE.sub(_arclean_char, _ARCLEAN_DROP_RE.sub("", text))


def _arclean_char(match: re.Match[str]) -> str:
    return _ARCLEAN_CHANGES[match.group()]


def replace_emails(text: str) -> str:
    """Map e-mail addresses to the ``xemailx`` placeholder."""
    return _replace(_EMAIL_RE, "email", text) if "@" in text else text


def replace_urls(text: str) -> str:
    """Map URLs and bare web addresses to the ``xurlx`` placeholder."""
    if _URL_HINT_RE.search(text) is None:
        return text
    return _replace(_URL_RE, "url", text)


def replace_handles(text: str) -> str:
    """Map social-media @handles to the ``xhandlex`` placeholder."""
    return _replace(_HANDLE_RE, "handle", text) if "@" in text else text


def replace_phones(text: str) -> str:
    """Map phone numbers (8 digits or more, spaces and dashes allowed) to the
    ``xphonex`` placeholder."""
    if _PHONE_HINT_RE.search(text) is None:
        return text
    return _replace(_PHONE_RE, "phone", text)


def split_glued_words(text: str) -> str:
    """Put back the space machine translation drops between two words, where
    the spelling proves it is missing (a word-final letter mid-word)."""
    text = _GLUED_AFTER_FINAL_RE.sub(r"\1 ", text)
    if "\u0627\u0627\u0644" in text:
        text = _GLUED_ALEF_AL_RE.sub("\u0627 ", text)
    return text


def lowercase_latin(text: str) -> str:
    """Lowercase Latin letters (Arabic has no case)."""
    return text.lower()


def collapse_whitespace(text: str) -> str:
    """Collapse runs of white space to one space and strip both ends."""
    return " ".join(text.split())


#: The rules :func:`normalize` applies, in order.  Placeholders come before
#: the letter rules so that glued-word splitting never cuts a URL in two, and
#: glued words are split before teh marbuta and alef maksura lose the shape
#: that reveals them.
RULES = (
    remove_invisible,
    arclean,
    replace_emails,
    replace_urls,
    replace_handles,
    replace_phones,
    dediac_ar,
    normalize_alef_ar,
    split_glued_words,
    normalize_alef_maksura_ar,
    normalize_teh_marbuta_ar,
    lowercase_latin,
    collapse_whitespace,
)


def normalize(text: str) -> str:
    """Normalize one Arabic news text for classification.

    >>> normalize("أعلنت الأممُ المتحدة ـــ اليوم، عبر www.un.org")
    'اعلنت الامم المتحده اليوم, عبر xurlx'
    """
    if not isinstance(text, str):
        from newsclf._errors import InputTypeError, describe

        raise InputTypeError(f"normalize() expected a str, got {describe(text)}")
    for rule in RULES:
        text = rule(text)
    return text
