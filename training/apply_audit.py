"""Apply a re-reading of labels to one of the ANT label files.

    python -m training.apply_audit --audit DIR/audit_bp_out.jsonl
    python -m training.apply_audit --audit DIR/relabel.jsonl --data training/data/ant_articles.jsonl

Each line of the audit names a paragraph of the data file (default
``training/data/ant_labels.jsonl``) by ``doc_id`` and ``para``, with the
label it gets after re-reading and its ``acceptable`` labels.  Changed labels
are written back with ``+audit`` added to the annotator; unchanged ones are
left as they are.  The data card says which audits were applied and why.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from training.ingest_labels import LABELS, clean_acceptable, read_jsonl, write_jsonl
from training.project_data import ANT_LABELS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--audit", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=ANT_LABELS)
    args = ap.parse_args()
    audit = {(r["doc_id"], r["para"]): r for r in read_jsonl(args.audit)}
    rows = read_jsonl(args.data)
    changes: Counter[tuple[str, str]] = Counter()
    for row in rows:
        new = audit.pop((row["doc_id"], row["para"]), None)
        if new is None:
            continue
        if new["label"] not in LABELS:
            raise SystemExit(f"bad label {new['label']!r} for {row['doc_id']}#{row['para']}")
        if new["label"] != row["label"]:
            changes[(row["label"], new["label"])] += 1
            row["acceptable"] = clean_acceptable(new["label"], new.get("acceptable"))
            row["label"] = new["label"]
            row["annotator"] += "+audit"
    if audit:
        raise SystemExit(f"{len(audit)} audited paragraphs are not in {args.data.name}")
    write_jsonl(args.data, rows)
    print(f"{sum(changes.values())} labels changed: {dict(changes)}")


if __name__ == "__main__":
    main()
