"""Train the bundled model on the project's data.

    uv run python -m training.train [--corpus PATH] [--out models/newsclf-ar]

Reads ``training/data/`` (ANT references resolved against the corpus, plus
our original paragraphs), trains on the fixed train split only, scores the
fixed test split -- real (ANT) and original text separately -- and writes
the artifact.  Users training on their own data want ``newsclf train``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from newsclf._artifact import write_artifact
from newsclf._errors import NewsclfError
from newsclf._model import BUNDLED_MODEL
from newsclf._train import summary, train
from training.project_data import DEFAULT_CORPUS, ROOT, project_records


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="ANT corpus path")
    ap.add_argument("--out", type=Path, default=ROOT / "models" / BUNDLED_MODEL)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--C", type=float, default=10.0)
    args = ap.parse_args(argv)
    try:
        records = project_records(args.corpus)
        result = train(
            records,
            seed=args.seed,
            C=args.C,
            name=BUNDLED_MODEL,
            description=(
                "newsclf project data (training/data): our labels on ANT v2.1 paragraphs "
                "(Chouigui et al., AICCSA 2017) plus original paragraphs written for the "
                "project; fixed train split only"
            ),
        )
    except NewsclfError as e:
        print(f"training.train: error: {e}", file=sys.stderr)
        return 2
    out = write_artifact(result.pipeline, args.out, metadata=result.metadata)
    print(summary(out, result.metadata))
    by_source = result.metadata["metrics"].get("by_source", {})
    for source, m in by_source.items():
        print(
            f"  {source:9s} held-out macro-F1 {m['macro_f1']:.3f}  accuracy {m['accuracy']:.3f}"
            f"  n={m['n']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
