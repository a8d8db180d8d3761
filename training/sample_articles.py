"""Draw the whole ANT articles whose every paragraph we label (issue 9).

Whole articles, drawn at random, are what users run newsclf on: most of
their paragraphs are about none of our labels.  The draw is seeded and
reproducible:

- the corpus is deduplicated by article content (it repeats articles across
  sections), and articles already in ``training/data/ant_labels.jsonl`` (the
  paragraph-level rounds) are left out, so no paragraph gets two histories;
- ``--monitoring`` articles from internationalNews and middleEast (what a
  monitoring feed follows) and ``--other`` from the other sections (sport,
  economy, technology, culture), uniformly within each group;
- the fixed split is the project's (a hash of the doc id, 18% test).

Usage::

    python -m training.sample_articles --out DIR [--labelers 6] [--double 0.1]

writes ``DIR/articles.jsonl`` (doc_id, outlet, category, title, split,
paragraphs with their text) and, for the labelers, ``DIR/slice_K.jsonl``:
labeler K's articles, a random tenth of them also in another labeler's
slice (for agreement), in random order.  ``DIR`` must be outside the
repository: the text is never committed.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

from newsclf._data import iter_ant_articles, short_hash
from training.ingest_labels import ant_split
from training.project_data import ANT_LABELS, DEFAULT_CORPUS, read_jsonl

SEED = 20261201
MONITORING = ("internationalNews", "middleEast")


def draw(corpus: Path, n_monitoring: int, n_other: int, seed: int = SEED) -> list[dict]:
    """The drawn articles, monitoring sections first, each in draw order."""
    labeled = {r["doc_id"] for r in read_jsonl(ANT_LABELS)}
    seen: set[str] = set()
    pools: dict[bool, list[dict]] = {True: [], False: []}
    for d in iter_ant_articles(corpus):
        key = short_hash("\n".join(d["paragraphs"]))
        if key in seen or not d["paragraphs"]:
            continue
        seen.add(key)
        if d["doc_id"] not in labeled:
            pools[d["category"] in MONITORING].append(d)
    rng = random.Random(seed)
    chosen = rng.sample(pools[True], n_monitoring) + rng.sample(pools[False], n_other)
    return [{**d, "split": ant_split(d["doc_id"])} for d in chosen]


def slices(articles: list[dict], labelers: int, double: float, seed: int = SEED) -> list[list[str]]:
    """Doc ids per labeler: a disjoint share each, plus a ``double`` share of
    the next labeler's articles, shuffled in so repeats are not recognisable."""
    rng = random.Random(seed + 1)
    ids = [d["doc_id"] for d in articles]
    rng.shuffle(ids)
    own = [ids[k::labelers] for k in range(labelers)]
    out = []
    for k in range(labelers):
        nxt = own[(k + 1) % labelers]
        extra = rng.sample(nxt, round(len(nxt) * double))
        mine = own[k] + extra
        rng.shuffle(mine)
        out.append(mine)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--monitoring", type=int, default=780)
    ap.add_argument("--other", type=int, default=330)
    ap.add_argument("--labelers", type=int, default=6)
    ap.add_argument("--double", type=float, default=0.1)
    args = ap.parse_args()
    articles = draw(args.corpus, args.monitoring, args.other)
    args.out.mkdir(parents=True, exist_ok=True)
    by_id = {d["doc_id"]: d for d in articles}
    with open(args.out / "articles.jsonl", "w", encoding="utf-8") as f:
        for d in articles:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    for k, ids in enumerate(slices(articles, args.labelers, args.double), 1):
        with open(args.out / f"slice_{k}.jsonl", "w", encoding="utf-8") as f:
            for doc_id in ids:
                d = by_id[doc_id]
                row = {k2: d[k2] for k2 in ("doc_id", "outlet", "category", "title")}
                row["paragraphs"] = d["paragraphs"]
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    n_par = sum(len(d["paragraphs"]) for d in articles)
    print(f"{len(articles)} articles, {n_par} paragraphs")
    print(Counter(d["category"] for d in articles))
    print(Counter(d["split"] for d in articles))


if __name__ == "__main__":
    main()
