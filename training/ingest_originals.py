"""Add a writer's original paragraphs to ``training/data/original.jsonl``.

    python -m training.ingest_originals --file DIR/orig_w4.jsonl [--drop-kind machine-translated]

Each line of the file is ``{batch, label, kind, acceptable, text}``, written
for the project (see the data card).  ``--drop-kind`` first removes every
committed original whose kind contains that string (issue 9 replaced the
unrealistic machine-translation-style paragraphs this way).  Near-duplicates
of a kept paragraph (character n-gram cosine >= 0.9) are dropped; the split
is the project's (every fifth batch is test).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from training.ingest_labels import (
    LABELS,
    clean_acceptable,
    near_duplicate_free,
    original_split,
    read_jsonl,
    write_jsonl,
)
from training.project_data import ORIGINAL


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, required=True)
    ap.add_argument("--drop-kind", default=None)
    args = ap.parse_args()
    kept = read_jsonl(ORIGINAL)
    if args.drop_kind:
        dropped = [r for r in kept if args.drop_kind in r["kind"]]
        kept = [r for r in kept if args.drop_kind not in r["kind"]]
        print(f"dropped {len(dropped)} originals of kind *{args.drop_kind}*")
    writer = args.file.stem.split("_")[-1].upper()
    counts: Counter[str] = Counter()
    new = []
    for r in read_jsonl(args.file):
        if r.get("label") not in LABELS or not str(r.get("text", "")).strip():
            raise SystemExit(f"{args.file}: bad row {r!r:.100}")
        counts[r["batch"]] += 1
        new.append(
            {
                "id": f"{r['batch']}-{counts[r['batch']]:02d}",
                "batch": r["batch"],
                "text": r["text"].strip(),
                "label": r["label"],
                "acceptable": clean_acceptable(r["label"], r.get("acceptable")),
                "kind": r.get("kind", ""),
                "author": f"agent-{writer}",
                "split": original_split(r["batch"]),
            }
        )
    rows = kept + new
    keep = near_duplicate_free([r["text"] for r in rows])
    print(f"dropped {len(rows) - len(keep)} near-duplicates")
    rows = [rows[i] for i in keep]
    write_jsonl(ORIGINAL, rows)
    print(f"{len(rows)} originals: {Counter((r['split'], r['label']) for r in rows)}")


if __name__ == "__main__":
    main()
