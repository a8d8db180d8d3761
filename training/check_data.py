"""Print the facts the data card states, from the committed data alone.

    uv run python -m training.check_data [--corpus PATH]

Counts per label x source x split, articles and outlets, inter-annotator
agreement on the double-labeled paragraphs (Cohen's kappa, overall and per
class) of both labeling rounds (sampled paragraphs; whole articles), and
the near-duplicate check of our original paragraphs -- among themselves and,
when the corpus is at hand, against every ANT paragraph.  Exits non-zero
when a target of issues 3 or 9 is not met.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from training.ingest_labels import NEAR_DUPLICATE
from training.project_data import (
    ANT_ANNOTATIONS,
    ANT_ARTICLE_ANNOTATIONS,
    ANT_ARTICLES,
    ANT_LABELS,
    DEFAULT_CORPUS,
    ORIGINAL,
    read_jsonl,
)

LABELS = ["military", "diplomacy", "humanitarian", "boilerplate", "none"]
MONITORING = ("internationalNews", "middleEast")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def whole_articles(rows: list[dict]) -> list[str]:
    """Print the whole-article round's figures; return the targets it misses."""
    docs = {r["doc_id"]: r["split"] for r in rows}
    sections = Counter(d.split("-")[1] for d in docs)
    monitoring = sum(sections[s] for s in MONITORING)
    test = sum(split == "test" for split in docs.values())
    double = {
        a["doc_id"]
        for a in read_jsonl(ANT_ARTICLE_ANNOTATIONS)
        if a["annotator"] != "" and a["para"] == 0
    }
    annotations = Counter(a["doc_id"] for a in read_jsonl(ANT_ARTICLE_ANNOTATIONS))
    per_doc = Counter(r["doc_id"] for r in rows)
    twice = sum(annotations[d] == 2 * per_doc[d] for d in double)
    print(
        f"\nwhole articles: {len(docs)} articles, {len(rows)} paragraphs (every paragraph "
        f"labeled); {monitoring} from internationalNews/middleEast, {len(docs) - monitoring} "
        f"from other sections {dict(sorted(sections.items()))}; test split {test} articles "
        f"({test / len(docs):.1%}); labeled twice: {twice} articles ({twice / len(docs):.1%})"
    )
    table(rows, "whole-article paragraphs")
    problems = []
    if len(docs) < 1000 or monitoring < 700 or len(docs) - monitoring < 300:
        problems.append("whole articles: fewer than 1,000, 700 monitoring or 300 other")
    if test / len(docs) < 0.15 or twice / len(docs) < 0.095:
        problems.append("whole articles: test split under 15% or under 10% labeled twice")
    return problems


TARGETS = {"military": 1000, "diplomacy": 1000, "humanitarian": 700, "none": 500}


def table(rows: list[dict], title: str) -> None:
    counts = Counter((r["label"], r["split"]) for r in rows)
    print(f"\n{title}")
    print(f"  {'label':14s} {'train':>6s} {'test':>6s} {'total':>6s}")
    for lab in LABELS:
        tr, te = counts[(lab, "train")], counts[(lab, "test")]
        if tr or te:
            print(f"  {lab:14s} {tr:6d} {te:6d} {tr + te:6d}")
    tr = sum(v for (_, s), v in counts.items() if s == "train")
    te = sum(v for (_, s), v in counts.items() if s == "test")
    print(f"  {'all':14s} {tr:6d} {te:6d} {tr + te:6d}")


def agreement(path: Path) -> dict[str, float]:
    by_ref: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for a in read_jsonl(path):
        by_ref[(a["doc_id"], a["para"])].append(a)
    pairs = [v for v in by_ref.values() if len(v) == 2]
    first = [p[0]["label"] for p in pairs]
    second = [p[1]["label"] for p in pairs]
    agree = sum(a == b for a, b in zip(first, second, strict=True))
    out = {
        "pairs": len(pairs),
        "raw": agree / len(pairs),
        "kappa": cohen_kappa_score(first, second),
    }
    print(f"\nagreement ({path.name}): {len(pairs)} paragraphs labeled twice, independently")
    print(f"  raw agreement {out['raw']:.3f}, Cohen's kappa {out['kappa']:.3f}")
    for lab in LABELS:
        k = cohen_kappa_score([x == lab for x in first], [x == lab for x in second])
        out[lab] = k
        n = sum(x == lab for x in first + second)
        print(f"  {lab:14s} kappa {k:.3f}  ({n} of {2 * len(pairs)} labels)")
    return out


def similarity(originals: list[dict], corpus: Path) -> None:
    import numpy as np

    from training.similarity import max_similarity_to, similarity_matrix

    texts = [r["text"] for r in originals]
    sim = similarity_matrix(texts)
    upper = np.triu(sim)
    print("\nnear-duplicates among original paragraphs (char 3-5-gram TF-IDF cosine)")
    print(
        f"  max {upper.max():.3f}; pairs >= {NEAR_DUPLICATE}: "
        f"{int((upper >= NEAR_DUPLICATE).sum())}; >= 0.8: {int((upper >= 0.8).sum())}; "
        f">= 0.7: {int((upper >= 0.7).sum())}"
    )
    if not corpus.exists():
        print(f"  (ANT corpus not at {corpus}: original-vs-ANT check skipped)")
        return
    from newsclf._data import iter_ant_articles

    ant = sorted({p for d in iter_ant_articles(corpus) for p in d["paragraphs"] if len(p) > 20})
    best = max_similarity_to(texts, ant)
    long = np.array([len(t) > 60 for t in texts])
    print(
        f"  against all {len(ant)} ANT paragraphs: median max-similarity {np.median(best):.3f}, "
        f"max {best.max():.3f}; originals longer than 60 chars >= 0.8: "
        f"{int((best[long] >= 0.8).sum())}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--no-similarity", action="store_true")
    args = ap.parse_args()
    ant = read_jsonl(ANT_LABELS)
    originals = read_jsonl(ORIGINAL)
    outlets = Counter(r["doc_id"][:2] for r in ant)
    print(
        f"ANT: {len(ant)} distinct paragraphs from {len({r['doc_id'] for r in ant})} articles; "
        f"outlets (doc id prefix) {dict(sorted(outlets.items()))}"
    )
    test_docs = {r["doc_id"] for r in ant if r["split"] == "test"}
    print(
        f"  test split: {len(test_docs)} of {len({r['doc_id'] for r in ant})} articles "
        f"({len(test_docs) / len({r['doc_id'] for r in ant}):.1%})"
    )
    print(f"  with acceptable labels: {sum(bool(r['acceptable']) for r in ant)}")
    by_outlet = Counter((r["doc_id"][:2], r["label"]) for r in ant)
    for outlet in sorted(outlets):
        counts = "/".join(str(by_outlet[(outlet, lab)]) for lab in LABELS)
        print(f"  {outlet} by label ({'/'.join(LABELS)}): {counts}")
    sections = Counter(r["doc_id"].split("-")[1] for r in ant)
    print(f"  by section: {dict(sections.most_common())}")
    table(ant, "ANT paragraphs (our labels)")
    batches = {r["batch"] for r in originals}
    test_batches = {r["batch"] for r in originals if r["split"] == "test"}
    test_share = sum(r["split"] == "test" for r in originals) / len(originals)
    print(
        f"\noriginal: {len(originals)} paragraphs in {len(batches)} batches; test split "
        f"{len(test_batches)} batches ({test_share:.1%} of paragraphs)"
    )
    table(originals, "original paragraphs")
    kinds = Counter(r["kind"].split(",")[0].strip().lower() for r in originals)
    print(f"  most common kinds: {kinds.most_common(12)}")
    print(f"  hard tie-break cases: {sum('hard' in r['kind'] for r in originals)}")
    agreement(ANT_ANNOTATIONS)
    articles = read_jsonl(ANT_ARTICLES)
    problems = whole_articles(articles)
    agreement(ANT_ARTICLE_ANNOTATIONS)
    if not args.no_similarity:
        similarity(originals, args.corpus)

    ant_counts = Counter(r["label"] for r in ant)
    orig_counts = Counter(r["label"] for r in originals)
    real_humanitarian = ant_counts["humanitarian"] + sum(
        r["label"] == "humanitarian" for r in articles
    )
    print(f"\nreal humanitarian paragraphs (both rounds): {real_humanitarian}")
    if real_humanitarian < 1500:
        problems.append(f"real humanitarian: {real_humanitarian} < 1500")
    mt = [r for r in originals if "machine-translated" in r["kind"]]
    latin_mt = sum(len(LATIN_WORD.findall(r["text"])) >= 3 for r in mt)
    latin_none = sum(r["label"] == "none" and bool(LATIN_WORD.search(r["text"])) for r in originals)
    space_comma = sum(" ," in r["text"] or " ،" in r["text"] for r in mt)
    print(
        f"machine-translated originals: {len(mt)}; with 3+ Latin words {latin_mt}; with a "
        f"space before a comma {space_comma}; out-of-scope originals with Latin words "
        f"{latin_none}"
    )
    if latin_mt > len(mt) // 20 or space_comma > len(mt) // 20 or latin_none < 50:
        problems.append(
            "machine-translated originals are not Arabic throughout, or too few "
            "out-of-scope originals hold Latin words"
        )
    problems += [
        f"ANT {lab}: {ant_counts[lab]} < {n}" for lab, n in TARGETS.items() if ant_counts[lab] < n
    ]
    if len(ant) < 4000 or len({r["doc_id"] for r in ant}) < 1200 or len(outlets) < 5:
        problems.append("ANT: fewer than 4,000 paragraphs, 1,200 articles or 5 outlets")
    problems += [
        f"original {lab}: {orig_counts[lab]} < 400" for lab in LABELS[:4] if orig_counts[lab] < 400
    ]
    if len(originals) < 1600:
        problems.append(f"original: {len(originals)} < 1600")
    print("\ntargets: " + ("all met" if not problems else "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
