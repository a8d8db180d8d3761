"""The project's own labeled data, as records ready for training.

``training/data/ant_labels.jsonl`` holds our labels on ANT corpus paragraphs
as references (doc_id, paragraph index, text hash); the text is read from the
corpus at training time.  ``training/data/original.jsonl`` holds paragraphs
we wrote ourselves, with their text.  Both carry a fixed ``split``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from newsclf._data import resolve_ant_references

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "training" / "data"
ANT_LABELS = DATA / "ant_labels.jsonl"
ANT_ANNOTATIONS = DATA / "ant_annotations.jsonl"
ANT_ARTICLES = DATA / "ant_articles.jsonl"
ANT_ARTICLE_ANNOTATIONS = DATA / "ant_article_annotations.jsonl"
ORIGINAL = DATA / "original.jsonl"
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "ant-v2.1.jsonl.gz"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def original_records() -> list[dict[str, Any]]:
    """Our own paragraphs: text, label, split, group = writing batch."""
    return [{**r, "group": r["batch"], "source": "original"} for r in read_jsonl(ORIGINAL)]


def ant_records(corpus: Path = DEFAULT_CORPUS) -> list[dict[str, Any]]:
    """Our labels on ANT paragraphs (``source`` "ant"), then on every
    paragraph of whole ANT articles (``source`` "article"), resolved against
    the corpus: each record carries its article as ``context``."""
    rows = [{**r, "source": "ant"} for r in read_jsonl(ANT_LABELS)]
    rows += [{**r, "source": "article"} for r in read_jsonl(ANT_ARTICLES)]
    return resolve_ant_references(rows, corpus)


def project_records(corpus: Path = DEFAULT_CORPUS) -> list[dict[str, Any]]:
    """Every project record: ANT (real) first, then original."""
    return ant_records(corpus) + original_records()
