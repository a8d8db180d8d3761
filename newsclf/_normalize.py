"""Arabic news text normalization: one small pure function per rule.

:func:`normalize` applies every rule in a fixed order.  The character rules
are camel-tools' (the ``arclean`` map, ``dediac_ar``, ``normalize_alef_ar``,
``normalize_alef_maksura_ar``, ``normalize_teh_marbuta_ar``), kept here as
data -- ``_arclean.json`` is camel-tools' map, and the tests check every rule
against camel-tools itself -- so that normalizing never imports camel-tools
(about 1 s).  On top of them come what news text needs and they leave out:
Farsi yeh and decomposed (NFD) letters, invisible and bidi control
characters, URLs / e-mails / @handles / phone numbers mapped to placeholder
words, words glued together by machine translation, Latin case and runs of
white space.

Everything here is idempotent: ``normalize(normalize(t)) == normalize(t)``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from importlib import resources

from newsclf._paragraphs import INVISIBLE, LINE_BREAKS

__all__ = [
    "ARABIC_LETTERS",
    "PLACEHOLDERS",
    "arclean",
    "collapse_whitespace",
    "compose_arabic",
    "dediac_ar",
    "farsi_yeh_to_yeh",
    "lowercase_latin",
    "normalize",
    "normalize_alef_ar",
    "normalize_alef_maksura_ar",
    "normalize_many",
    "normalize_teh_marbuta_ar",
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


# camel-tools' arclean map (a character -> its replacement, or null for "kept
# as is"); every character not in the map is deleted.  CharMapper walks the string in Python; here
# the map becomes two regexes over character *ranges*: one deletes what the
# map does not know, one rewrites the characters it changes.  The result
# equals CharMapper.builtin_mapper("arclean")(text) at ~5x the speed
# (tests/test_normalize.py checks the equality on arbitrary text).
_ARCLEAN_MAP: dict[str, str | None] = json.loads(
    resources.files("newsclf").joinpath("_arclean.json").read_text(encoding="utf-8")
)
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

#: camel-tools' Arabic diacritics (``AR_DIAC_CHARSET``), alef variants and
#: the two letters that only end a word.
DIACRITICS = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670"
ALEF_VARIANTS = "\u0625\u0623\u0671\u0622"
ALEF, ALEF_MAKSURA, YEH, TEH_MARBUTA, HEH = "\u0627", "\u0649", "\u064a", "\u0629", "\u0647"
FARSI_YEH = "\u06cc"
#: The canonical compositions of Arabic letters with a combining madda
#: (U+0653), hamza above (U+0654) or hamza below (U+0655), as Unicode NFC
#: makes them: base + mark -> letter.
COMPOSITIONS = {unicodedata.normalize("NFD", letter): letter for letter in "آأؤإئۀۂۓ"}
# A base of one of them and the run of Arabic combining marks after it.
_COMPOSING_BASES = "".join(sorted({pair[0] for pair in COMPOSITIONS}))
_DECOMPOSED_RE = re.compile(f"([{_COMPOSING_BASES}])([\u064b-\u065f\u0670]+)")

_INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")
_DIACRITICS_RE = re.compile(f"[{DIACRITICS}]")
_ALEF_VARIANTS_RE = re.compile(f"[{ALEF_VARIANTS}]")
_ARCLEAN_DROP_RE = re.compile(f"[^{_char_class(_ARCLEAN_MAP)}]+")
_ARCLEAN_CHANGE_RE = re.compile(f"[{_char_class(_ARCLEAN_CHANGES)}]")
# An address starts where a run of its characters starts (the look-behind):
# without it, every position of a long run followed by "@" would be tried
# again, quadratic in the run's length.  The matches are the same.
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TLD = r"\.(?:com|net|org|info|io|tv|news|co|uk|fr|me|ly|ae|sa|eg|qa|gov|edu)\b"
_URL_HINT_RE = re.compile(rf"://|www\.|{_TLD}", re.IGNORECASE)
_URL_RE = re.compile(
    rf"(?:https?://|www\.)\S+|(?<![\w@.])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*{_TLD}(?:/\S*)?",
    re.IGNORECASE,
)
_HANDLE_RE = re.compile(r"(?<!@)@\w+")
# What may stand between two digits of a phone number: a dash, or white space
# (a run of it: collapse_whitespace, later, makes it one space, and a phone
# number must be found the same before and after, or normalize would not be
# idempotent).  Not a line break: it separates the texts of a batch.
_DIGIT_GAP = r"(?:-|[^\S\n]+)?"
_PHONE_HINT_RE = re.compile(rf"\d(?:{_DIGIT_GAP}\d){{7}}")
# Not a phone number: an amount in groups of three digits ("150 000 000", as
# Maghreb and French-style outlets write them) or a date ("2026-03-12").
# Checked on a whole match (a lookahead at every start was quadratic in a
# long run of digit groups).
_NOT_PHONE_RE = re.compile(r"[1-9]\d{0,2}(?:[^\S\n]+\d{3})+|\d{4}-\d\d-\d\d|\d\d-\d\d-\d{4}")
_PHONE_RE = re.compile(rf"(?<![\w+])\+?\d(?:{_DIGIT_GAP}\d){{7,}}(?!\w)")
#: The Arabic letters (hamza to ghain, feh to yeh) as a regex range.
ARABIC_LETTERS = "\u0621-\u063a\u0641-\u064a"
# Teh marbuta and alef maksura only ever end a word: a letter right after one
# means two words were glued together ("قويةبما" -> "قوية بما").
_GLUED_AFTER_FINAL_RE = re.compile(f"([\u0629\u0649])(?=[{ARABIC_LETTERS}])")
# "أوكرانياالذي": a word ending in alef glued to a word starting with al-.
# Any of these in a line means one of the pattern rules may apply to it.
_PATTERN_HINT_RE = re.compile(rf"@|://|www\.|{_TLD}|\d(?:{_DIGIT_GAP}\d){{7}}", re.IGNORECASE)
# Every character str.splitlines() breaks on: inside one text they are plain
# white space, so that "\n" can separate the texts of a batch.
_LINE_BREAK_RE = re.compile(f"[{LINE_BREAKS}]")
# (The look-behind comes after the first alef so the scan can skip to alefs.)
_GLUED_ALEF_AL_RE = re.compile(
    f"\u0627(?<=[{ARABIC_LETTERS}]\u0627)(?=\u0627\u0644[{ARABIC_LETTERS}])"
)


# --- rules ------------------------------------------------------------------


def _replace(
    pattern: re.Pattern[str], kind: str, text: str, keep: re.Pattern[str] | None = None
) -> str:
    """Replace every match of ``pattern`` (but those ``keep`` matches whole)
    by the placeholder for ``kind``, again until nothing changes: a
    replacement puts spaces where a neighbouring match's look-behind may have
    failed."""
    placeholder = f" {PLACEHOLDERS[kind]} "
    replacement: str | Callable[[re.Match[str]], str] = placeholder
    if keep is not None:

        def replacement(match: re.Match[str]) -> str:
            return match.group() if keep.fullmatch(match.group()) else placeholder

    while True:
        new = pattern.sub(replacement, text)
        if new == text:
            return text
        text = new


def farsi_yeh_to_yeh(text: str) -> str:
    """Farsi yeh (``ی``, what a Persian keyboard types for yeh) becomes
    Arabic yeh.  arclean makes it alef maksura, a letter that only ends a
    word, so a Farsi yeh inside a word split it in two (``الجیش`` became
    ``الجي ش``); at a word's end both end as yeh."""
    return text.replace(FARSI_YEH, YEH)


def compose_arabic(text: str) -> str:
    """An Arabic letter typed as a base and a combining hamza or madda
    (decomposed text, Unicode NFD) becomes the one letter it is (``ي`` +
    ``ٔ`` is ``ئ``), as Unicode NFC composes it, other marks between them
    kept; arclean deleted the lone hamza (``طائرات`` read as ``طايرات``).
    Only these compositions: full NFC sorts runs of combining marks by
    insertion, minutes on a long run of them, and arclean deletes every
    other mark anyway."""
    if not _has_combining_hamza(text):
        return text  # nearly always: three quick scans
    # The lines that need it only (the rest of a batch is left as it is).
    return "\n".join(
        [
            _DECOMPOSED_RE.sub(_compose, line) if _has_combining_hamza(line) else line
            for line in text.split("\n")
        ]
    )


def _has_combining_hamza(text: str) -> bool:
    return "\u0654" in text or "\u0653" in text or "\u0655" in text


def _compose(match: re.Match[str]) -> str:
    """NFC on a base and its marks: in canonical order (by combining class),
    each mark that composes with the base and is not blocked (by an earlier
    mark of its class left in place) is merged into it."""
    base, kept = match.group(1), ""
    for mark in sorted(match.group(2), key=unicodedata.combining):
        composed = COMPOSITIONS.get(base + mark)
        if composed is None or (
            kept and unicodedata.combining(kept[-1]) == unicodedata.combining(mark)
        ):
            kept += mark
        else:
            base = composed
    return base + kept


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
    """Map phone numbers (8 digits or more, spaces and dashes allowed; not an
    amount in groups of three digits or a date) to the ``xphonex`` placeholder."""
    if _PHONE_HINT_RE.search(text) is None:
        return text
    return _replace(_PHONE_RE, "phone", text, keep=_NOT_PHONE_RE)


def split_glued_words(text: str) -> str:
    """Put back the space machine translation drops between two words, where
    the spelling proves it is missing (a word-final letter mid-word)."""
    text = _GLUED_AFTER_FINAL_RE.sub(r"\1 ", text)
    if "\u0627\u0627\u0644" in text:
        text = _GLUED_ALEF_AL_RE.sub("\u0627 ", text)
    return text


def dediac_ar(text: str) -> str:
    """Delete Arabic diacritics (camel-tools' ``dediac_ar``)."""
    return _DIACRITICS_RE.sub("", text)


def normalize_alef_ar(text: str) -> str:
    """Alef with hamza or madda, and alef wasla, become bare alef (camel-tools'
    ``normalize_alef_ar``)."""
    return _ALEF_VARIANTS_RE.sub(ALEF, text)


def normalize_alef_maksura_ar(text: str) -> str:
    """Alef maksura becomes yeh (camel-tools' ``normalize_alef_maksura_ar``)."""
    return text.replace(ALEF_MAKSURA, YEH)


def normalize_teh_marbuta_ar(text: str) -> str:
    """Teh marbuta becomes heh (camel-tools' ``normalize_teh_marbuta_ar``)."""
    return text.replace(TEH_MARBUTA, HEH)


def lowercase_latin(text: str) -> str:
    """Lowercase Latin letters (Arabic has no case)."""
    return text.lower()


def collapse_whitespace(text: str) -> str:
    """Collapse runs of white space within each line to one space and strip
    each line (line breaks are kept: they separate the texts of a batch)."""
    return "\n".join([" ".join(line.split()) for line in text.split("\n")])


# The rules :func:`normalize` applies, in three stages.  Placeholders come
# before the letter rules so that glued-word splitting never cuts a URL in
# two, and glued words are split before teh marbuta and alef maksura lose the
# shape that reveals them.  The first two rules look at more than one
# character at a time (the engine applies them to the whole batch's text);
# every other cleaning rule maps each character on its own.
STRING_RULES = (farsi_yeh_to_yeh, compose_arabic)
_CLEANING_RULES = (*STRING_RULES, remove_invisible, arclean)
_PATTERN_RULES = (replace_emails, replace_urls, replace_handles, replace_phones)
_LETTER_RULES = (
    dediac_ar,
    normalize_alef_ar,
    split_glued_words,
    normalize_alef_maksura_ar,
    normalize_teh_marbuta_ar,
    lowercase_latin,
    collapse_whitespace,
)
#: Every rule, in the order :func:`normalize` applies them.
RULES = (*_CLEANING_RULES, *_PATTERN_RULES, *_LETTER_RULES)


def normalize(text: str) -> str:
    """Normalize one Arabic news text for classification.

    >>> normalize("أعلنت الأممُ المتحدة ـــ اليوم، عبر www.un.org")
    'اعلنت الامم المتحده اليوم, عبر xurlx'
    """
    if not isinstance(text, str):
        from newsclf._errors import InputTypeError, describe

        raise InputTypeError(f"normalize() expected a str, got {describe(text)}")
    return normalize_many([text])[0]


def normalize_many(texts: list[str]) -> list[str]:
    """Normalize a batch of texts: ``[normalize(t) for t in texts]``, faster.

    The texts are joined by line breaks (line breaks inside a text become
    spaces first) and each rule runs once over the whole batch: no rule
    matches across a line break, so texts cannot leak into each other
    (tests/test_normalize.py checks the equality on arbitrary batches).
    """
    if not texts:
        return []
    return normalize_joined(join_lines(texts)).split("\n")


def join_lines(texts: list[str]) -> str:
    """The texts joined by line breaks, one per line: line breaks inside a
    text become spaces first (skipped when a quick check finds none)."""
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1 or _LINE_BREAK_RE.search(joined.replace("\n", " ")):
        joined = "\n".join([_LINE_BREAK_RE.sub(" ", t) for t in texts])
    return joined


def normalize_joined(joined: str) -> str:
    """Normalize each line of ``joined`` (one text per line), line breaks kept."""
    for rule in _CLEANING_RULES:
        joined = rule(joined)
    joined = _apply_pattern_rules(joined)
    for rule in _LETTER_RULES:
        joined = rule(joined)
    return joined


def _apply_pattern_rules(joined: str) -> str:
    """The four pattern rules, in order, on just the lines that may need them:
    their regexes are slow to scan, and few news paragraphs hold a URL."""
    parts, done = [], 0
    for hint in _PATTERN_HINT_RE.finditer(joined):
        if hint.start() < done:
            continue  # that line is already done
        start = joined.rfind("\n", 0, hint.start()) + 1
        end = joined.find("\n", hint.end())
        end = len(joined) if end < 0 else end
        line = joined[start:end]
        for rule in _PATTERN_RULES:
            line = rule(line)
        parts += [joined[done:start], line]
        done = end
    return "".join([*parts, joined[done:]]) if parts else joined
