"""Labeled data: the readers of JSONL/CSV/TSV/Parquet (as robust as the
CLI's), and ANT corpus references resolved from the JSONL file or the XML
layout alike."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from strategies import CORPUS, ROOT

import newsclf
from newsclf._data import (
    iter_ant_articles,
    read_records,
    record_list,
    resolve_ant_references,
    short_hash,
)

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
    """The ANT corpus as a JSONL file and in its XML folder layout gives the same articles: ids,
    outlets and paragraphs."""

    def key(docs):
        return sorted((d["doc_id"], d["outlet"], d["paragraphs"]) for d in docs)

    assert key(iter_ant_articles(jsonl_corpus)) == key(iter_ant_articles(xml_corpus))


def test_references_resolve_and_hash_mismatch_fails(jsonl_corpus: Path, xml_corpus: Path) -> None:
    """A paragraph reference resolves to its text, article and outlet in either layout; a wrong
    hash, paragraph index or document id is a DataError."""
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
    """A missing corpus is a DataError that names where the corpus comes from
    (``antcorpus.multisource.data``)."""
    with pytest.raises(newsclf.DataError, match=r"antcorpus\.multisource\.data"):
        list(iter_ant_articles(tmp_path / "absent.jsonl.gz"))


ANT_FILES = (
    "ant_labels.jsonl",
    "ant_annotations.jsonl",
    "ant_articles.jsonl",
    "ant_article_annotations.jsonl",
)


@pytest.mark.parametrize("name", ANT_FILES)
def test_committed_data_holds_references_not_ant_text(name: str) -> None:
    """training/data keeps ANT paragraphs as (doc_id, index, hash) only."""
    with open(ROOT / "training" / "data" / name, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert rows and all("text" not in r and len(r["sha"]) == 12 for r in rows)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.exists(), reason=f"ANT corpus not found at {CORPUS}")
@pytest.mark.parametrize(
    ("name", "at_least"), [("ant_labels.jsonl", 4000), ("ant_articles.jsonl", 9000)]
)
def test_every_committed_reference_resolves_against_the_corpus(name: str, at_least: int) -> None:
    """Every committed ANT reference resolves against the corpus to a text with its article
    context."""
    with open(ROOT / "training" / "data" / name, encoding="utf-8") as f:
        refs = [json.loads(line) for line in f]
    rows = resolve_ant_references(refs, CORPUS)
    assert len(rows) == len(refs) >= at_least
    assert all(r["text"] and r["context"] for r in rows)


# --- labeled data readers ----------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".tsv", ".parquet"])
def test_read_records_formats(tmp_path: Path, suffix: str) -> None:
    """JSONL, CSV, TSV and Parquet files give the same records, with ``doc_id`` as the group."""
    rows = [
        {"text": "اشترك الآن", "label": "boilerplate", "doc_id": "d1"},
        {"text": "قصف مدفعي", "label": "military", "doc_id": "d2"},
    ]
    path = tmp_path / f"data{suffix}"
    if suffix == ".jsonl":
        path.write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
        )
    elif suffix in (".csv", ".tsv"):
        sep = "," if suffix == ".csv" else "\t"
        lines = [sep.join(rows[0])] + [sep.join(r.values()) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        import datasets

        datasets.Dataset.from_list(rows).to_parquet(str(path))
    got = read_records(path)
    assert [(r["text"], r["label"], r["group"]) for r in got] == [
        ("اشترك الآن", "boilerplate", "d1"),
        ("قصف مدفعي", "military", "d2"),
    ]


def test_class_label_ids_are_read_as_their_names(tmp_path: Path) -> None:
    """Regression: a Hugging Face dataset whose label column is a ClassLabel
    (the usual case) was refused ("label field 'label' is int"), from a
    saved folder, a Parquet file (``.PARQUET`` in capitals was refused
    outright) or a Dataset passed to ``train``/``evaluate``.  Now its ids
    are read as their names."""
    import datasets

    names = ["boilerplate", "military"]
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)}
    )
    ds = datasets.Dataset.from_dict(
        {"text": ["اشترك الآن", "قصف مدفعي", "تابعونا", "غارة جوية"], "label": [0, 1, 0, 1]},
        features=features,
    )
    ds.save_to_disk(str(tmp_path / "folder"))
    ds.to_parquet(str(tmp_path / "data.PARQUET"))
    expected = [(t, names[i]) for t, i in zip(ds["text"], ds["label"], strict=True)]
    for path in (tmp_path / "folder", tmp_path / "data.PARQUET"):
        assert [(r["text"], r["label"]) for r in read_records(path)] == expected
    assert [r["label"] for r in record_list(ds)] == [names[i] for i in ds["label"]]
    # Ids that are not labels' ids are refused with a hint, as before.
    (tmp_path / "ids.jsonl").write_text('{"text": "a", "label": 3}\n', encoding="utf-8")
    with pytest.raises(newsclf.DataError, match="ids of a ClassLabel"):
        read_records(tmp_path / "ids.jsonl")
    (tmp_path / "none.jsonl").write_text('{"text": "a", "label": -1}\n', encoding="utf-8")
    with pytest.raises(newsclf.DataError, match="-1: a ClassLabel's 'no label'"):
        read_records(tmp_path / "none.jsonl")
    # A list of ids (an acceptable column) is read as its names too.
    features["acceptable"] = datasets.Sequence(datasets.ClassLabel(names=names))
    listed = ds.add_column("acceptable", [[1], [], [1], [0]], feature=features["acceptable"])
    listed.save_to_disk(str(tmp_path / "listed"))
    got = read_records(tmp_path / "listed")
    assert [r["acceptable"] for r in got] == [["military"], [], ["military"], ["boilerplate"]]


@pytest.mark.parametrize("context", [5, ["a"], {"a": 1}])
def test_a_context_that_is_not_text_is_a_data_error(clf, context: object) -> None:
    """Regression: a non-string ``context`` gave ``X[0] must be a str`` from
    training (naming neither field nor record) and was silently ignored by
    evaluate.  Now both name the record and the field."""
    records = [{"text": "قصف", "label": "military", "context": context}] * 4
    with pytest.raises(newsclf.DataError, match=r"record 0: field 'context' is .*expected a str"):
        newsclf.train(records)
    with pytest.raises(newsclf.DataError, match=r"record 0: field 'context' is .*expected a str"):
        clf.evaluate(records)


def test_pandas_missing_values_are_missing_everywhere(clf) -> None:
    """Regression: pandas' NA (records from a DataFrame with nullable
    columns: ``df.to_dict("records")``) was an article id named ``<NA>``,
    joining every such record into one article, and a ``context`` of NA was
    a DataError in training and evaluation, while datasets and Dask read it
    as missing.  NA, NaT and a NaN of any float type are now missing on
    every path: the record is its own article, read alone."""
    pd = pytest.importorskip("pandas")
    import numpy as np

    from newsclf._data import article_id, check_context
    from newsclf._records import is_article_id

    for value in (None, float("nan"), np.float32("nan"), pd.NA, pd.NaT):
        assert not is_article_id(value)
        assert article_id({"group": value}) is None
        assert check_context("record 0", value) is None
    text = "قصفت المدفعية مواقع المسلحين"
    alone = clf.evaluate([{"text": text, "label": "military"}])
    na = clf.evaluate([{"text": text, "label": "military", "context": pd.NA}])
    assert na.to_dict() == alone.to_dict()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "a", "label": "x"}\n{oops\n', r":2: invalid JSON"),
        (
            b'{"text": 3, "label": "x"}\n',
            r":1: text field 'text' is a number \(3\), expected a string",
        ),
        # Regression (issue-9 note): JSON values were named by Python types (NoneType, dict).
        (b'{"text": null, "label": "x"}\n', r":1: text field 'text' is null, expected a string"),
        (b'{"text": {"a": 1}, "label": "x"}\n', r":1: text field 'text' is an object, expected"),
        (b'{"text": true, "label": "x"}\n', r":1: text field 'text' is a boolean \(true\), "),
        (b'{"label": "x"}\n', r":1: missing text field 'text' .*--text-field"),
        (b'{"text": "a"}\n', r":1: missing label field 'label' .*--label-field"),
        (b'{"text": "a", "label": 3}\n', r":1: label field 'label' is a number \(3\)"),
        # Regression (review): a file's labels had only the old empty-label rule.
        (b'{"text": "a", "label": "\\u200b"}\n', r":1: the label in field 'label' is empty"),
        (b'{"text": "a", "label": "x\\ny"}\n', r":1: the label in field 'label', .*, holds a"),
        (b'{"text": "a", "label": "x"}\n\xff\n', r":2: invalid UTF-8"),
        (b'[{"text": "a", "label": "x"}]\n', r":1: expected a JSON object, found an array"),
        # JSON that Python reads but JSON does not allow: DataError, not ValueError
        (b'{"text": "a", "label": "x", "n": NaN}\n', r":1: invalid JSON: NaN"),
        (b'{"text": "a", "label": "x", "n": ' + b"9" * 5000 + b"}\n", r":1: .*5000 digits"),
        (b'{"text": "a", "label": "x", "n": ' + b"[" * 100_000 + b"}\n", r":1: .*nested"),
    ],
)
def test_bad_data_is_a_data_error(tmp_path: Path, content: bytes, message: str) -> None:
    """Invalid JSON, a missing or non-string text or label field, invalid UTF-8, a non-object line
    and JSON that Python reads but JSON forbids are each a DataError naming the line."""
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(newsclf.DataError, match=message):
        read_records(path)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    """A data file that does not exist is a DataError saying so."""
    with pytest.raises(newsclf.DataError, match="no such file"):
        read_records(tmp_path / "absent.jsonl")


ROWS = [("اشترك الآن", "boilerplate"), ("قصف مدفعي", "military")]


def _write(path: Path, sep: str | None, *, bom: bool = False) -> Path:
    if sep is None:
        body = "".join(
            json.dumps({"text": t, "label": lab}, ensure_ascii=False) + "\n" for t, lab in ROWS
        )
    else:
        body = "".join(f"{t}{sep}{lab}\n" for t, lab in [("text", "label"), *ROWS])
    path.write_text(("\ufeff" if bom else "") + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "sep"), [("d.jsonl", None), ("d.csv", ","), ("d.tsv", "\t")])
def test_utf8_bom_is_dropped(tmp_path: Path, name: str, sep: str | None) -> None:
    """Regression: a BOM broke JSONL line 1 and renamed the CSV/TSV header to '\\ufefftext'."""
    got = read_records(_write(tmp_path / name, sep, bom=True))
    assert [(r["text"], r["label"]) for r in got] == ROWS


def test_gzipped_data_with_a_bom(tmp_path: Path) -> None:
    """A gzipped CSV file starting with a UTF-8 byte-order mark reads as the plain file does."""
    raw = _write(tmp_path / "d.csv", ",", bom=True).read_bytes()
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(raw))
    assert [(r["text"], r["label"]) for r in read_records(path)] == ROWS


def test_csv_field_of_one_megabyte(tmp_path: Path) -> None:
    """Regression: a field over 128 KiB raised _csv.Error (1 MB paragraphs are promised)."""
    big = "قصف " * 250_000
    path = tmp_path / "d.csv"
    path.write_text(f'text,label\n"{big}",military\nok,boilerplate\n', encoding="utf-8")
    assert [(r["text"], r["label"]) for r in read_records(path)] == [
        (big, "military"),
        ("ok", "boilerplate"),
    ]


def test_csv_stray_quote_is_a_data_error_naming_its_line(tmp_path: Path) -> None:
    """Regression: one stray quote merged every following row into one field, silently."""
    rows = ["text,label", "أول,a", '"ثان,b', *[f"سطر {i},a" for i in range(3, 13)]]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(newsclf.DataError, match=r"d\.csv:3: invalid CSV.*must end with"):
        read_records(path)


def test_csv_legitimate_quoting_still_reads(tmp_path: Path) -> None:
    """CSV fields with doubled quotes, commas and line breaks inside quotes read as written."""
    path = tmp_path / "d.csv"
    path.write_text('text,label\n"a ""quoted"", word",x\n"two\nlines",y\n', encoding="utf-8")
    assert [(r["text"], r["label"]) for r in read_records(path)] == [
        ('a "quoted", word', "x"),
        ("two\nlines", "y"),
    ]


@pytest.mark.parametrize("sep", [",", "\t"])
def test_ragged_row_is_a_data_error(tmp_path: Path, sep: str) -> None:
    """Regression: extra columns went under a None key, silently."""
    path = tmp_path / ("d.csv" if sep == "," else "d.tsv")
    path.write_text(f"text{sep}label\na{sep}x\nb{sep}y{sep}extra\n", encoding="utf-8")
    with pytest.raises(newsclf.DataError, match=r":3: expected 2 fields as in the header, found 3"):
        read_records(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("d.csv", "text,label\nقصف,\n"),
        ("d.tsv", "text\tlabel\nقصف\t \n"),
        ("d.jsonl", '\n{"text": "قصف", "label": ""}\n'),
    ],
)
def test_empty_label_says_what_to_do(tmp_path: Path, name: str, content: str) -> None:
    """Regression: a '' label gave "expected string fields ..., found str and str"."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(newsclf.DataError, match=r":2: the label .* is empty; give every record"):
        read_records(path)


@pytest.mark.parametrize("name", ["d.jsonl", "d.csv", "d.tsv"])
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_refused_with_the_command_that_converts_it(
    tmp_path: Path, name: str, encoding: str
) -> None:
    """Regression: UTF-16 gave a UnicodeDecodeError-style message that did not say why."""
    path = _write(tmp_path / name, {"d.jsonl": None, "d.csv": ",", "d.tsv": "\t"}[name])
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    with pytest.raises(newsclf.DataError, match=r"not UTF-8 text.*UTF-16.*iconv"):
        read_records(path)


def test_unreadable_gzip_is_a_data_error(tmp_path: Path) -> None:
    """A ``.gz`` file that is not gzip is a DataError saying it cannot be read."""
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(newsclf.DataError, match="cannot read it"):
        read_records(path)
