"""Fold the whole-article labeling round (issue 9) into the committed data.

    python -m training.ingest_articles --work DIR

``DIR`` (outside the repository) holds what ``training.sample_articles``
drew (``articles.jsonl``, ``slice_K.jsonl``), what annotator K decided
(``labels_K.jsonl``: one line per article, a label per paragraph, and
``acceptable`` labels by paragraph index) and the third reading of the
paragraphs the two readers of a double-labeled article disagreed on
(``adjudication_articles.jsonl``).

Writes ``training/data/ant_articles.jsonl`` (one final label per paragraph
of every drawn article, by reference) and
``training/data/ant_article_annotations.jsonl`` (every annotation).  No ANT
text is written.  Prints the agreement on the double-labeled articles.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from newsclf._data import short_hash
from training.ingest_labels import LABELS, clean_acceptable, read_jsonl, write_jsonl
from training.project_data import ANT_ARTICLE_ANNOTATIONS, ANT_ARTICLES


def cohen_kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa of two readers' labels."""
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    return (observed - expected) / (1 - expected)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    work = ap.parse_args().work
    articles = {d["doc_id"]: d for d in read_jsonl(work / "articles.jsonl")}
    annotations = []
    for labels_file in sorted(work.glob("labels_*.jsonl")):
        k = labels_file.stem.split("_")[1]
        for row in read_jsonl(labels_file):
            doc = articles[row["doc_id"]]
            if len(row["labels"]) != len(doc["paragraphs"]) or set(row["labels"]) - LABELS:
                raise SystemExit(f"{labels_file}: bad labels for {row['doc_id']}")
            for i, label in enumerate(row["labels"]):
                annotations.append(
                    {
                        "doc_id": row["doc_id"],
                        "para": i,
                        "sha": short_hash(doc["paragraphs"][i]),
                        "label": label,
                        "acceptable": clean_acceptable(
                            label, row.get("acceptable", {}).get(str(i))
                        ),
                        "annotator": f"agent-A{k}",
                    }
                )
    adjudicated = {
        (r["doc_id"], r["para"]): r for r in read_jsonl(work / "adjudication_articles.jsonl")
    }
    by_ref: dict[tuple[str, int], list[dict]] = {}
    for a in annotations:
        by_ref.setdefault((a["doc_id"], a["para"]), []).append(a)
    final, pairs = [], []
    for ref, anns in by_ref.items():
        row = {k: anns[0][k] for k in ("doc_id", "para", "sha")}
        labels = [a["label"] for a in anns]
        if len(anns) == 2:
            pairs.append((labels[0], labels[1]))
        who = "+".join(a["annotator"] for a in anns)
        if len(set(labels)) == 1:
            row["label"] = labels[0]
            row["acceptable"] = sorted(set().union(*(a["acceptable"] for a in anns)) - {labels[0]})
            row["annotator"] = who
        else:
            adj = adjudicated.get(ref)
            if adj is None:
                raise SystemExit(f"{ref}: readers disagree ({labels}) and no adjudication")
            row["label"] = adj["label"]
            row["acceptable"] = clean_acceptable(adj["label"], [*labels, *adj["acceptable"]])
            row["annotator"] = who + "+adjudicated"
        row["split"] = articles[ref[0]]["split"]
        final.append(row)
    final.sort(key=lambda r: (r["doc_id"], r["para"]))
    annotations.sort(key=lambda a: (a["doc_id"], a["para"], a["annotator"]))
    write_jsonl(ANT_ARTICLES, final)
    write_jsonl(ANT_ARTICLE_ANNOTATIONS, annotations)
    agree = sum(a == b for a, b in pairs)
    print(f"{len(final)} paragraphs of {len(articles)} articles; {len(annotations)} annotations")
    print(
        f"double-labeled: {len(pairs)} paragraphs, raw agreement {agree / len(pairs):.3f}, "
        f"kappa {cohen_kappa(pairs):.3f}, {len(pairs) - agree} adjudicated"
    )
    print(Counter((r["split"], r["label"]) for r in final))


if __name__ == "__main__":
    main()
