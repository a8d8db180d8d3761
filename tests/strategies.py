"""Hypothesis strategies for Arabic news text, shared by the test modules."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "ant-v2.1.jsonl.gz"

ARABIC_LETTERS = "".join(chr(c) for c in range(0x0621, 0x064B) if c not in range(0x063B, 0x0641))
DIACRITICS = "".join(chr(c) for c in range(0x064B, 0x0653)) + "\u0670"
EXTRAS = (
    "\u0640"  # tatweel
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"  # Arabic-Indic and Persian digits
    "،؛؟«»“”‘’–—…٪"  # Arabic and typographic punctuation
    "\u200b\u200c\u200d\u200e\u200f\u202b\u202c\u2066\u2069\ufeff\u00a0"  # invisible
    "ةىأإآ"  # letters the rules care about
    "\u06cc\u0653\u0654\u0655"  # Farsi yeh; combining madda and hamzas (decomposed text)
)
LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?@#/-_'\"()"

arabic_words = st.text(alphabet=ARABIC_LETTERS + DIACRITICS + "\u0640", min_size=1, max_size=12)
latin_words = st.text(alphabet=LATIN, min_size=1, max_size=10)
specials = st.sampled_from(
    [
        "https://www.example-news.com/ar/2026/ملف",
        "www.example.org",
        "www.موقع",
        "WWW.",
        "x.Co",
        "0791234567",
        "٠٧٩ ١٢٣ ٤٥٦٧",
        "info@example-news.com",
        "@ExampleNewsAr",
        "+971 4 555 1234",
        "00962-6-5551234",
        "قويةبما",
        "أوكرانياالذي",
        "The Telegraph",
        "والجيش",
        "بالصواريخ",
        "للأمم",
        "الج\u06ccش",  # Farsi yeh inside a word
        "طاي\u0654رات مو\u0654تمر",  # decomposed: hamza as a combining mark (NFD)
    ]
)
separators = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", "، ", ". ", "\u200c", ""])

#: Text that looks like (noisy, machine-translated) Arabic news.
news_text = st.lists(
    st.one_of(arabic_words, arabic_words, latin_words, specials, st.text(EXTRAS, max_size=3)),
    max_size=30,
).flatmap(
    lambda words: st.lists(separators, min_size=len(words), max_size=len(words)).map(
        lambda seps: "".join(w + s for w, s in zip(words, seps, strict=True))
    )
)

#: Any Unicode at all, including lone surrogates and control characters.
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=200)

#: The bytes of an input file: a byte-order mark or not, then lines of UTF-8
#: and of bytes that are not, every line end, NUL bytes; or any bytes at all.
file_bytes = st.one_of(
    st.builds(
        bytes.__add__,
        st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]),
        st.lists(
            st.sampled_from([b"\n", b"\r", b"\r\n", b"\x00", b"\xd8", b"\xff", b'{"t": 1}'])
            | news_text.map(str.encode),
            max_size=20,
        ).map(b"".join),
    ),
    st.binary(max_size=200),
)

#: A batch of texts, empty strings included.
text_batches = st.lists(st.one_of(news_text, any_text, st.just(""), st.just("   ")), max_size=8)


#: A small batch of one paragraph per label and an empty text, repeated: what the
#: scaling and integration tests classify in workers and compare with one process.
SAMPLE_TEXTS = [
    "قصفت المدفعية الثقيلة مواقع المسلحين قرب الحدود",
    "استقبل وزير الخارجية نظيره التركي وبحثا العلاقات الثنائية",
    "حذر برنامج الأغذية العالمي من خطر المجاعة",
    "اشترك الآن واحصل على شهر مجاني",
    "",
] * 40
