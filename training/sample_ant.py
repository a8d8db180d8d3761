"""Draw the ANT paragraphs we label (issue 3).

The draw is a reproducible *sampling* step only: keyword hints decide which
paragraphs are worth showing to a labeler so that the rarer classes get
enough examples.  They never decide a label: every label in
``training/data/ant_labels.jsonl`` was given by a reader following
``../shared/labeling-guide.md``.

Usage::

    python training/sample_ant.py --corpus ../shared/corpora/ant-v2.1.jsonl.gz --out DIR

writes ``DIR/pool.jsonl`` (id, doc_id, para, sha, outlet, category, title,
text).  ``DIR`` must be outside the repository: the text is never committed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

from newsclf._data import short_hash

SEED = 20261129
HINTS = {
    "military": re.compile(
        r"عسكري|الجيش|جيش|قوات|صاروخ|صواريخ|غارة|غارات|قصف|دبابات|طائرات حربية|مقاتلات|"
        r"أسلحة|سلاح|ذخيرة|مناورات|البحرية|سفن حربية|مسيرة|هجوم|معارك|اشتباكات|الدفاع"
    ),
    "diplomacy": re.compile(
        r"وزير الخارجية|وزيرة الخارجية|محادثات|مفاوضات|قمة|سفير|سفارة|عقوبات|مجلس الأمن|"
        r"اتفاق|معاهدة|زيارة|الأمم المتحدة|دبلوماسي|العلاقات|مبعوث|وساطة|نظيره|الاتحاد الأوروبي"
    ),
    "humanitarian": re.compile(
        r"لاجئ|نازح|النازحين|مساعدات|إنساني|الإنسانية|مستشفى|مستشفيات|مجاعة|الغذاء|"
        r"الصليب الأحمر|يونيسف|المفوضية|مدنيين|المدنيين|الكوليرا|وباء|زلزال|فيضانات|إغاثة|أطفال"
    ),
    "boilerplate": re.compile(
        r"اقرأ أيضا|اقرأ أيضاً|للمزيد|إشعارات|تطبيق|نقلا عن|نقلاً عن|حقوق النشر|جميع الحقوق|"
        r"الصورة|تابعونا|تابعوا|اشترك|بقلم|تعبر عن رأي|لا تعكس|لمتابعة|اضغط هنا|شاهد|فيديو|"
        r"أ ف ب|رويترز|وكالات"
    ),
}
# Short lines matching these are offered to the labelers whatever their article.
FURNITURE = re.compile(
    r"اقرأ أيضا|اقرأ أيضاً|للمزيد|إشعارات|^\*?نقلا عن|^\*?نقلاً عن|تابعونا|تابعوا|اشترك|بقلم|"
    r"حقوق النشر|الحقوق محفوظة|"
    r"تعبر عن رأي|لا تعكس|لمتابعة|اضغط هنا|^شاهد|أ ف ب|^الصورة|^المصدر|^فيديو"
)
# Sections where our topics live get most of the draw.
SECTION_WEIGHT = {"internationalNews": 0.44, "middleEast": 0.42}
OTHER_SECTIONS_SHARE = 0.14


def reference_row(d: dict, i: int) -> dict:
    """A drawn paragraph: its reference, context and text (for the labelers)."""
    text = d["paragraphs"][i]
    return {
        "id": f"{d['doc_id']}#{i}",
        "doc_id": d["doc_id"],
        "para": i,
        "sha": short_hash(text),
        "outlet": d["outlet"],
        "category": d["category"],
        "title": d["title"],
        "text": text,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="../shared/corpora/ant-v2.1.jsonl.gz")
    ap.add_argument("--out", required=True)
    ap.add_argument("--articles", type=int, default=1500)
    ap.add_argument("--per-article", type=int, default=3)
    ap.add_argument(
        "--top-up",
        metavar="POOL",
        help="second round: skip every paragraph and article of POOL and draw only "
        "paragraphs hinted military, humanitarian or diplomacy (the classes round one left short)",
    )
    args = ap.parse_args()
    rng = random.Random(SEED)

    with gzip.open(args.corpus, "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    # The corpus repeats articles across sections: keep the first copy only.
    seen_articles: set[str] = set()
    unique = []
    for d in docs:
        key = short_hash("\n".join(d["paragraphs"]))
        if key not in seen_articles:
            seen_articles.add(key)
            unique.append(d)

    # Lines shared by several distinct articles are publisher furniture far
    # more often than news: offer every distinct one to the labelers.
    line_docs: Counter[str] = Counter()
    for d in unique:
        for p in set(d["paragraphs"]):
            line_docs[p] += 1

    if args.top_up:
        top_up(unique, args, rng)
        return

    by_outlet_section: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for d in unique:
        by_outlet_section[(d["outlet"], d["category"])].append(d)
    outlets = sorted({d["outlet"] for d in unique})

    chosen: list[dict] = []
    per_outlet = args.articles // len(outlets)
    for outlet in outlets:
        sections = sorted(s for (o, s) in by_outlet_section if o == outlet)
        others = [s for s in sections if s not in SECTION_WEIGHT]
        for section in sections:
            share = SECTION_WEIGHT.get(section, OTHER_SECTIONS_SHARE / max(len(others), 1))
            pool = by_outlet_section[(outlet, section)]
            n = min(len(pool), round(per_outlet * share))
            chosen.extend(rng.sample(pool, n))

    taken_text: set[str] = set()
    rows = []

    def take(d: dict, i: int) -> None:
        text = d["paragraphs"][i]
        if text in taken_text or not re.search(r"\w", text):
            return
        taken_text.add(text)
        rows.append(reference_row(d, i))

    for d in chosen:
        paras = d["paragraphs"]
        idx = list(range(len(paras)))
        rng.shuffle(idx)
        # Prefer one paragraph per hinted class, then fill at random.
        picked: list[int] = []
        for rx in HINTS.values():
            for i in idx:
                if i not in picked and rx.search(paras[i]) and len(picked) < args.per_article:
                    picked.append(i)
                    break
        for i in idx:
            if len(picked) >= args.per_article:
                break
            if i not in picked:
                picked.append(i)
        for i in sorted(picked):
            take(d, i)

    # Furniture lines: repeated across >= 3 distinct articles, or short and hinted.
    for d in unique:
        for i, p in enumerate(d["paragraphs"]):
            if p in taken_text or len(p) > 400:
                continue
            if (line_docs[p] >= 3 and len(p) < 120) or (len(p) < 120 and FURNITURE.search(p)):
                take(d, i)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "pool.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} paragraphs from {len({r['doc_id'] for r in rows})} articles")
    print(Counter(r["outlet"] for r in rows))
    print(Counter(r["category"] for r in rows))


def top_up(unique: list[dict], args: argparse.Namespace, rng: random.Random) -> None:
    with open(args.top_up, encoding="utf-8") as f:
        prior = [json.loads(line) for line in f]
    used_docs = {r["doc_id"] for r in prior}
    used_text = {r["text"] for r in prior}
    focus = (HINTS["military"], HINTS["humanitarian"], HINTS["military"], HINTS["diplomacy"])
    pool = [d for d in unique if d["category"] in SECTION_WEIGHT and d["doc_id"] not in used_docs]
    rng.shuffle(pool)
    rows, taken = [], set(used_text)
    for d in pool[: args.articles]:
        for rx in focus:
            hits = [i for i, p in enumerate(d["paragraphs"]) if rx.search(p) and p not in taken]
            if hits:
                i = rng.choice(hits)
                text = d["paragraphs"][i]
                taken.add(text)
                rows.append(reference_row(d, i))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "pool2.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} paragraphs from {len({r['doc_id'] for r in rows})} articles")
    print(Counter(r["outlet"] for r in rows))


if __name__ == "__main__":
    main()
