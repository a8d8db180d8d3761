"""Fold labeling-round outputs into the committed data files.

    python training/ingest_labels.py --work DIR

``DIR`` (outside the repository) holds what the labeling rounds produced:
``pool*.jsonl`` (the drawn ANT paragraphs, text included), ``slice_K.jsonl``
/ ``labels_K.jsonl`` (what annotator K read and decided),
``adjudication.jsonl`` (the third reading of double-labeled paragraphs whose
two labels differ) and ``orig_wK.jsonl`` (paragraphs writer K wrote).

Writes, under ``training/data/``: ``ant_annotations.jsonl`` (every
annotation, by reference only), ``ant_labels.jsonl`` (one final label per
distinct paragraph, by reference only) and ``original.jsonl``.  No ANT text
is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

from training.project_data import ANT_ANNOTATIONS, ANT_LABELS, ORIGINAL, read_jsonl

LABELS = {"military", "diplomacy", "humanitarian", "boilerplate", "none"}
#: Share of ANT articles in the fixed test split (by a hash of the doc id).
ANT_TEST_PERCENT = 18
#: Original writing batches in the fixed test split: every fifth batch.
ORIGINAL_TEST_EVERY = 5


def ant_split(doc_id: str) -> str:
    bucket = int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "test" if bucket < ANT_TEST_PERCENT else "train"


def original_split(batch: str) -> str:
    number = int(re.search(r"b(\d+)$", batch).group(1))  # type: ignore[union-attr]
    return "test" if number % ORIGINAL_TEST_EVERY == 0 else "train"


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")


def clean_acceptable(label: str, acceptable: object) -> list[str]:
    if not isinstance(acceptable, list):
        return []
    return sorted({a for a in acceptable if a in LABELS and a != label})


#: Two paragraphs at or above this cosine similarity (character 3-5-grams,
#: TF-IDF) count once: the later one is dropped.
NEAR_DUPLICATE = 0.9


def near_duplicate_free(texts: list[str]) -> list[int]:
    """Indices of ``texts`` to keep so that no two kept ones are near-duplicates."""
    from training.similarity import similarity_matrix

    sim = similarity_matrix(texts)
    keep: list[int] = []
    for i in range(len(texts)):
        if all(sim[i, j] < NEAR_DUPLICATE for j in keep):
            keep.append(i)
    return keep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args()
    work = args.work

    pool = {}
    for f in sorted(work.glob("pool*.jsonl")):
        for r in read_jsonl(f):
            pool[r["id"]] = r

    annotations = []
    for labels_file in sorted(work.glob("labels_*.jsonl"), key=lambda p: int(p.stem.split("_")[1])):
        k = labels_file.stem.split("_")[1]
        slice_ids = [r["id"] for r in read_jsonl(work / f"slice_{k}.jsonl")]
        rows = read_jsonl(labels_file)
        if [r["id"] for r in rows] != slice_ids[: len(rows)]:
            raise SystemExit(f"{labels_file}: ids do not follow slice_{k}.jsonl")
        for r in rows:
            if r["label"] not in LABELS:
                raise SystemExit(f"{labels_file}: bad label {r['label']!r} for {r['id']}")
            src = pool[r["id"]]
            annotations.append(
                {
                    "doc_id": src["doc_id"],
                    "para": src["para"],
                    "sha": src["sha"],
                    "label": r["label"],
                    "acceptable": clean_acceptable(r["label"], r.get("acceptable")),
                    "annotator": f"agent-L{k}",
                }
            )

    adjudicated = {}
    adj_file = work / "adjudication.jsonl"
    if adj_file.exists():
        for r in read_jsonl(adj_file):
            adjudicated[r["id"]] = r

    by_ref: dict[str, list[dict]] = {}
    for a in annotations:
        by_ref.setdefault(f"{a['doc_id']}#{a['para']}", []).append(a)
    final = []
    for ref, anns in by_ref.items():
        first = anns[0]
        labels = {a["label"] for a in anns}
        row = {k: first[k] for k in ("doc_id", "para", "sha")}
        if len(labels) == 1:
            row["label"] = first["label"]
            row["acceptable"] = sorted(set().union(*(a["acceptable"] for a in anns)) - labels)
            row["annotator"] = "+".join(a["annotator"] for a in anns)
        elif ref in adjudicated:
            adj = adjudicated[ref]
            row["label"] = adj["label"]
            others = {a["label"] for a in anns} | set(adj.get("acceptable", []))
            row["acceptable"] = clean_acceptable(adj["label"], sorted(others))
            row["annotator"] = "+".join(a["annotator"] for a in anns) + "+adjudicated"
        else:  # not yet adjudicated: the first reading stands, the second is acceptable
            row["label"] = first["label"]
            row["acceptable"] = clean_acceptable(first["label"], [a["label"] for a in anns[1:]])
            row["annotator"] = first["annotator"]
        row["split"] = ant_split(row["doc_id"])
        final.append(row)
    final.sort(key=lambda r: (r["doc_id"], r["para"]))

    originals = []
    for f in sorted(work.glob("orig_w*.jsonl")):
        writer = f.stem.split("_")[1].upper()
        counts: dict[str, int] = {}
        for r in read_jsonl(f):
            if r.get("label") not in LABELS - {"none"} or not str(r.get("text", "")).strip():
                continue
            batch = r["batch"]
            counts[batch] = counts.get(batch, 0) + 1
            originals.append(
                {
                    "id": f"{batch}-{counts[batch]:02d}",
                    "batch": batch,
                    "text": r["text"].strip(),
                    "label": r["label"],
                    "acceptable": clean_acceptable(r["label"], r.get("acceptable")),
                    "kind": r.get("kind", ""),
                    "author": f"agent-{writer}",
                    "split": original_split(batch),
                }
            )

    kept = near_duplicate_free([r["text"] for r in originals])
    print(f"dropped {len(originals) - len(kept)} near-duplicate originals")
    originals = [originals[i] for i in kept]

    write_jsonl(
        ANT_ANNOTATIONS, sorted(annotations, key=lambda a: (a["doc_id"], a["para"], a["annotator"]))
    )
    write_jsonl(ANT_LABELS, final)
    write_jsonl(ORIGINAL, originals)
    print(
        f"{len(annotations)} annotations, {len(final)} ANT paragraphs, {len(originals)} originals"
    )


if __name__ == "__main__":
    main()
