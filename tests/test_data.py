"""ANT corpus references: resolved from the JSONL file or the XML layout alike."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from strategies import CORPUS, ROOT

import newsclf
from newsclf._data import iter_ant_articles, resolve_ant_references, short_hash

# Two tiny articles written for this test, in both corpus layouts.
ARTICLES = [
    {
        "doc_id": "SN-middleEast-1-20180301",
        "outlet": "SkyNews",
        "category": "middleEast",
        "title": "عنوان أول",
        "paragraphs": ["فقرة أولى عن القصف.", "فقرة   ثانية  عن الهدنة."],
    },
    {
        "doc_id": "BB-internationalNews-2-20180302",
        "outlet": "BBC",
        "category": "internationalNews",
        "title": "عنوان ثان",
        "paragraphs": ["يمكنكم تحميل التطبيق."],
    },
]


@pytest.fixture
def jsonl_corpus(tmp_path: Path) -> Path:
    path = tmp_path / "ant.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for a in ARTICLES:
            doc = {**a, "paragraphs": [" ".join(p.split()) for p in a["paragraphs"]]}
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path


@pytest.fixture
def xml_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "antcorpus"
    for a in ARTICLES:
        folder = root / a["outlet"] / a["category"]
        folder.mkdir(parents=True)
        body = "\n\n".join(a["paragraphs"])  # blank lines between paragraphs, as in the wild
        (folder / f"{a['doc_id']}.txt").write_text(
            f"<DOC>\n<DOCNO>{a['doc_id']}</DOCNO>\n<CAT>{a['category']}</CAT>\n"
            f"<TITLE>{a['title']}</TITLE>\n<TEXT>\n{body}\n</TEXT>\n</DOC>\n",
            encoding="utf-8",
        )
    return root


def test_both_layouts_give_the_same_paragraphs(jsonl_corpus: Path, xml_corpus: Path) -> None:
    def key(docs):
        return sorted((d["doc_id"], d["outlet"], d["paragraphs"]) for d in docs)

    assert key(iter_ant_articles(jsonl_corpus)) == key(iter_ant_articles(xml_corpus))


def test_references_resolve_and_hash_mismatch_fails(jsonl_corpus: Path, xml_corpus: Path) -> None:
    text = "فقرة ثانية عن الهدنة."
    ref = {
        "doc_id": "SN-middleEast-1-20180301",
        "para": 1,
        "sha": short_hash(text),
        "label": "diplomacy",
    }
    for corpus in (jsonl_corpus, xml_corpus):
        (row,) = resolve_ant_references([ref], corpus)
        assert row["text"] == text and row["group"] == ref["doc_id"] and row["outlet"] == "SkyNews"
    with pytest.raises(newsclf.DataError, match="differs from the recorded"):
        resolve_ant_references([{**ref, "sha": "0" * 12}], jsonl_corpus)
    with pytest.raises(newsclf.DataError, match="expected paragraph 5"):
        resolve_ant_references([{**ref, "para": 5}], jsonl_corpus)
    with pytest.raises(newsclf.DataError, match="expected document"):
        resolve_ant_references([{**ref, "doc_id": "XX-1"}], jsonl_corpus)


def test_missing_corpus_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(newsclf.DataError, match=r"antcorpus\.multisource\.data"):
        list(iter_ant_articles(tmp_path / "absent.jsonl.gz"))


def test_committed_data_holds_references_not_ant_text() -> None:
    """training/data keeps ANT paragraphs as (doc_id, index, hash) only."""
    with open(ROOT / "training" / "data" / "ant_labels.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert rows and all("text" not in r and len(r["sha"]) == 12 for r in rows)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.exists(), reason=f"ANT corpus not found at {CORPUS}")
def test_every_committed_reference_resolves_against_the_corpus() -> None:
    with open(ROOT / "training" / "data" / "ant_labels.jsonl", encoding="utf-8") as f:
        refs = [json.loads(line) for line in f]
    rows = resolve_ant_references(refs, CORPUS)
    assert len(rows) == len(refs) >= 4000
    assert all(r["text"] for r in rows)
