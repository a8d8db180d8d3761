"""Apply a re-reading of labels (issue 9's audit of ``boilerplate`` labels).

    python -m training.apply_audit --audit DIR/audit_bp_out.jsonl

Each line of the audit names a paragraph of ``training/data/ant_labels.jsonl``
(``doc_id``, ``para``) and the label a reviewer gave it after re-reading it
in its article, with ``acceptable`` labels.  Changed labels are written back
with ``+audit`` added to the annotator; unchanged ones are left as they are.
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
    audit = {(r["doc_id"], r["para"]): r for r in read_jsonl(ap.parse_args().audit)}
    rows = read_jsonl(ANT_LABELS)
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
        raise SystemExit(f"{len(audit)} audited paragraphs are not in {ANT_LABELS.name}")
    write_jsonl(ANT_LABELS, rows)
    print(f"{sum(changes.values())} labels changed: {dict(changes)}")


if __name__ == "__main__":
    main()
