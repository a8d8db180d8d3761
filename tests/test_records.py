"""Record reading and writing (newsclf._records): every input record gives one record, nothing
is lost, the output is always standard JSON in valid UTF-8.  No model needed: fast."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import file_bytes

from newsclf._model import Prediction
from newsclf._records import (
    FIELD_LIMIT,
    Record,
    UsageError,
    Writer,
    _blocks,
    _lines,
    _text,
    block_lines,
    check_inputs,
    read_records,
    result_row,
)

ARTICLE = "قصفت المدفعية مواقع المسلحين\n\n• اشترك الآن\n"
PRED = Prediction(
    label="military", score=0.9, scores={"military": 0.9, "other": 0.1}, uncertain=False
)


def read(tmp_path: Path, name: str, data: bytes | str, text_field: str = "text") -> list[Record]:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return list(read_records([str(path)], None, text_field))


def outcome(records: list[Record]) -> list[tuple[int, str | None, str | None]]:
    return [(r.line, r.text, r.error) for r in records]


def test_text_gives_one_record_per_paragraph(tmp_path: Path) -> None:
    """A text file gives one record per paragraph, with its line number and paragraph index, marked
    as text."""
    recs = read(tmp_path, "a.txt", ARTICLE)
    assert outcome(recs) == [(1, "قصفت المدفعية مواقع المسلحين", None), (3, "اشترك الآن", None)]
    assert [r.fields["index"] for r in recs] == [0, 1] and all(r.is_text for r in recs)


@pytest.mark.parametrize("name", ["a.txt", "a.jsonl", "a.csv", "a.tsv"])
def test_a_utf8_byte_order_mark_is_dropped(tmp_path: Path, name: str) -> None:
    """Regression: a BOM made every CSV record fail (header '\\ufefftext') and JSONL line 1."""
    body = {
        "a.txt": "قصف\n",
        "a.jsonl": '{"text": "قصف"}\n',
        "a.csv": "text,id\nقصف,1\n",
        "a.tsv": "text\tid\nقصف\t1\n",
    }[name]
    (rec,) = read(tmp_path, name, "\ufeff" + body)
    assert rec.error is None and rec.text == "قصف"


@pytest.mark.parametrize(
    "data",
    [
        "hello\nworld\n".encode("utf-16"),
        "hello\n".encode("utf-16-le"),
        b"a\x00b\n",
        # UTF-16 without a mark whose line 1 has no NUL byte: its end does.
        "الأخبار\nقصفت المدفعية\n".encode("utf-16-le"),
        "\nقصفت المدفعية\n".encode("utf-16-le"),
        "الأخبار\r\nقصف\r\n".encode("utf-16-le"),
    ],
)
def test_utf16_and_nul_bytes_are_refused(tmp_path: Path, data: bytes) -> None:
    """Regression: UTF-16 input was classified as garbage.  The blocks that
    --jobs reads refuse it alike, also when line 1 fills the first block."""
    # Regression (MT audit): the only way out it named was iconv -f UTF-16, which
    # garbles a UTF-8 file with one stray NUL byte in line 1.
    with pytest.raises(UsageError, match=r"not UTF-8 text.*iconv.*stray NUL bytes.*tr -d"):
        read(tmp_path, "a.txt", data)
    for size in (1, 4, 1 << 20):
        with pytest.raises(UsageError, match=r"not UTF-8 text"):
            list(_blocks(io.BytesIO(data), "a.txt", size))


def test_a_field_named_twice_is_an_error_not_a_lost_value(tmp_path: Path) -> None:
    """Regression: the last of two values of one key won, the other was
    silently dropped: a JSON line naming a key twice is an error record, a
    CSV header naming a column twice refuses the file."""
    rows = read(tmp_path, "a.jsonl", '{"text": "a", "text": "b"}\n{"text": "c"}\n')
    assert rows[0].error and "'text' appears twice" in rows[0].error and rows[1].text == "c"
    with pytest.raises(UsageError, match="names 'text' twice"):
        read(tmp_path, "a.csv", "text,text\na,b\n")


def test_unreadable_records_never_make_an_article_unbounded() -> None:
    """Regression (review): unreadable records joined the record before
    them even without --article-field, and past MAX_ARTICLE."""
    from newsclf._records import MAX_ARTICLE, articles

    good = Record(1, {"doc": "d", "text": "x"}, text="x")
    bad = [Record(i, error="invalid JSON") for i in range(2, MAX_ARTICLE + 100)]
    assert [len(g) for g in articles(iter([good, *bad]), None)] == [1] * (len(bad) + 1)
    assert max(len(g) for g in articles(iter([good, *bad]), "doc")) == MAX_ARTICLE


def test_article_ids_are_compared_as_text_as_in_training() -> None:
    """Regression: --article-field compared ids as JSON values, so records
    with ``"doc": 7`` and ``"doc": "7"`` were two articles, while training
    (``str(value)``) put them in one group."""
    from newsclf._data import article_id
    from newsclf._records import articles

    recs = [Record(i, {"doc": doc, "text": "x"}, text="x") for i, doc in enumerate([7, "7", 8])]
    assert [len(g) for g in articles(iter(recs), "doc")] == [2, 1]
    assert article_id({"group": 7}) == article_id({"group": "7"}) == "7"


def test_a_long_article_is_read_in_runs_of_max_article() -> None:
    """A text input of MAX_ARTICLE + 1 paragraphs is two articles, MAX_ARTICLE
    and 1 (named in ``cut``); MAX_ARTICLE is one model batch, more than any
    real article (it was 500: a long live blog was read in pieces by classify
    and whole by strip, the library and the server)."""
    from newsclf._model import BATCH_SIZE
    from newsclf._records import MAX_ARTICLE, articles

    n = MAX_ARTICLE + 1
    recs = [Record(i, {"file": "a", "index": i}, text="x", is_text=True) for i in range(n)]
    cut: list[str] = []
    assert [len(g) for g in articles(iter(recs), None, cut)] == [MAX_ARTICLE, 1]
    assert MAX_ARTICLE == BATCH_SIZE and cut == ["a"]


def test_a_nul_byte_after_line_one_is_read(tmp_path: Path) -> None:
    """Regression: a NUL byte in any line refused the whole file; after line
    1 it is text (a paragraph), or in a JSON line that line's error."""
    assert [r.text for r in read(tmp_path, "a.txt", b"a\nb\x00c\n")] == ["a", "b\x00c"]
    rows = read(tmp_path, "a.jsonl", b'{"text": "a"}\n{"text": "b\x00"}\n')
    assert rows[0].text == "a" and rows[1].error and "control character" in rows[1].error


@settings(max_examples=300)
@given(data=file_bytes, size=st.integers(1, 40))
# Regressions: "utf-8-sig" dropped a lone "\xef" at the end of input, so one
# process read no line where the blocks read one; a mark alone is no line.
@example(data=b"\xef", size=1)
@example(data=b"\xef\xbb", size=2)
@example(data=b"\xef\xbb\xbf", size=1)
def test_blocks_hold_the_lines_one_process_reads(data: bytes, size: int) -> None:
    """`--jobs N` hands the workers blocks of raw bytes: the lines they read from
    the blocks, and their numbers, are those one process reads, for any bytes and
    any block size; a file that is not UTF-8 text is refused with the same message."""

    def from_blocks() -> list[tuple[int, str]]:
        blocks = _blocks(io.BytesIO(data), "f.jsonl", size)
        return [line for first, block in blocks for line in block_lines(first, block)]

    try:
        expected = list(_lines(_text(io.BytesIO(data)), "f.jsonl"))
    except UsageError as e:
        with pytest.raises(UsageError) as refused:
            from_blocks()
        assert str(refused.value) == str(e)
    else:
        assert from_blocks() == expected


def test_csv_stray_quote_fails_one_row_and_the_next_rows_survive(tmp_path: Path) -> None:
    """Regression: one stray `"` merged every following row into one field, exit 0."""
    rows = ["text,id", "أول,1", '"ثان,2', *[f"سطر {i},{i}" for i in range(3, 13)]]
    recs = read(tmp_path, "a.csv", "\n".join(rows) + "\n")
    assert len(recs) == 12
    assert recs[1].line == 3 and "invalid CSV" in (recs[1].error or "")
    assert [r.text for r in recs[2:]] == [f"سطر {i}" for i in range(3, 13)]
    assert [r.line for r in recs[2:]] == list(range(4, 14))


def test_csv_quote_errors_and_legitimate_quoting(tmp_path: Path) -> None:
    """Doubled quotes and quoted line breaks in CSV read as text; a row with junk after a closing
    quote is one error record at its line, and the next row is read."""
    data = 'text,id\n"a ""quoted"" word",1\n"two\nlines",2\n"closed"junk,3\nok,4\n'
    recs = read(tmp_path, "a.csv", data)
    assert outcome(recs)[:2] == [(2, 'a "quoted" word', None), (3, "two\nlines", None)]
    assert recs[2].line == 5 and "invalid CSV" in (recs[2].error or "")
    assert recs[3].text == "ok"
    # Regression (records audit): TSV's message held a raw tab.
    tsv = read(tmp_path, "a.tsv", 'text\tid\n"a"x\t1\n')
    assert tsv[0].error == "invalid TSV: '\\t' expected after '\"'"


def test_csv_field_of_one_megabyte(tmp_path: Path) -> None:
    """Regression: a field over 128 KiB killed the run (the README promises 1 MB paragraphs)."""
    big = "قصف " * 250_000
    recs = read(tmp_path, "a.csv", f'text,id\n"{big}",1\nok,2\n')
    assert [r.text for r in recs] == [big, "ok"]


def test_a_field_over_the_limit_refuses_the_file_not_made_into_rows(tmp_path: Path) -> None:
    """Regression: a quoted field over FIELD_LIMIT characters was one error
    record, and the lines of the field after it were then read as rows of
    their own: 2 records gave 181, 179 of them fragments of one text."""
    line = "a" * 100_000 + "," + "b" * 100_000
    big = "\n".join([line] * (FIELD_LIMIT // len(line) + 2))
    with pytest.raises(UsageError, match=r"a.csv, line 2: a field of more than 16,777,216"):
        read(tmp_path, "a.csv", f'id,text\n1,"{big}"\n2,ok\n')


@pytest.mark.parametrize("name,sep", [("a.csv", ","), ("a.tsv", "\t")])
def test_a_blank_line_of_a_one_column_file_is_an_empty_cell(
    tmp_path: Path, name: str, sep: str
) -> None:
    """Regression: a blank line of a one-column CSV (a spreadsheet's empty
    cell) was skipped: 3 rows in, 2 out.  Blank lines that end the file are
    not rows (pandas skips them too); with more columns a blank line is
    still skipped."""
    assert outcome(read(tmp_path, name, "text\nأول\n\nثالث\n\n\n")) == [
        (2, "أول", None),
        (3, "", None),
        (4, "ثالث", None),
    ]
    two = read(tmp_path, name, f"text{sep}id\nأول{sep}1\n\nثالث{sep}3\n")
    assert [r.text for r in two] == ["أول", "ثالث"]


@pytest.mark.parametrize(
    ("first", "what"),
    [
        ('{"id": 1, "text": "قصف"}', "a JSON record"),
        ("id,text", "a CSV header"),
        ("id\ttext", "a TSV header"),
    ],
)
def test_a_text_input_that_looks_like_records_is_said(
    tmp_path: Path, first: str, what: str
) -> None:
    """Regression: JSONL named .json (or piped in), or a TSV named .txt, was
    read as one article, one paragraph per line, with nothing said.  It is
    still read as text, and said (the CLI warns)."""
    path = tmp_path / "feed.json"
    path.write_text(f"\n{first}\nقصف\n", encoding="utf-8")
    suspects: list[str] = []
    assert len(list(read_records([str(path)], None, "text", suspects))) == 2
    assert suspects == [f"{path} (line 2 looks like {what})"]
    path.write_text("قصفت المدفعية, وقال المتحدث\n{ليس سجلا}\n", encoding="utf-8")
    suspects.clear()
    assert len(list(read_records([str(path)], None, "text", suspects))) == 2
    assert suspects == []


@pytest.mark.parametrize("name,sep", [("a.csv", ","), ("a.tsv", "\t")])
def test_ragged_rows_are_errors_not_null_keys(tmp_path: Path, name: str, sep: str) -> None:
    """Regression: extra columns went under a "null" key."""
    data = (
        sep.join(["text", "id"])
        + "\n"
        + "\n".join([sep.join(r) for r in (["a", "1", "x"], ["b"], ["c", "3"])])
    )
    recs = read(tmp_path, name, data + "\n")
    assert "expected 2 fields as in the header, found 3" in (recs[0].error or "")
    assert "found 1" in (recs[1].error or "")
    assert recs[2].fields == {"text": "c", "id": "3"} and recs[2].error is None


def test_csv_invalid_utf8_is_one_error_record(tmp_path: Path) -> None:
    """A CSV row of invalid UTF-8 is one error record at its line, and the next row is read."""
    recs = read(tmp_path, "a.csv", b"text\n\xff\xfe bad\ngood\n")
    assert [(r.line, r.error) for r in recs] == [(2, "invalid UTF-8 byte sequence"), (3, None)]


@pytest.mark.parametrize(
    "line,expected",
    [
        ('{"text": "a", "n": ' + "9" * 5000 + "}", "integer of 5000 digits"),
        ("[" * 100_000, "nested more than 200 levels deep"),
        ('{"text": "a", "x": ' + "[" * 200 + "]" * 200 + "}", "nested more than 200 levels deep"),
        ('{"text": "abc \\ud800 def"}', "lone surrogate \\ud800"),
        ('{"text": "\\udc80"}', "lone surrogate \\udc80"),
        ('{"text": "a", "x": NaN}', "NaN is not a JSON number"),
        ('{"text": "a", "x": -Infinity}', "-Infinity is not a JSON number"),
        ('{"text": "a", "x": 1e999}', "out of range"),
        ("{oops", "invalid JSON: Expecting property name"),
        # The message said "Invalid control character at at column 11".
        ('{"text": "a\x01"}', "invalid JSON: Invalid control character at column 12"),
        ("[1, 2]", "expected a JSON object, found an array"),
    ],
)
def test_jsonl_hostile_lines_become_error_records(tmp_path: Path, line: str, expected: str) -> None:
    """Regression: big integers, deep nesting and lone surrogates raised (batch lost); NaN and
    Infinity passed through as non-standard JSON.  The record after each one is read."""
    recs = read(tmp_path, "a.jsonl", line + '\n{"text": "قصف"}\n')
    assert recs[0].line == 1 and expected in (recs[0].error or ""), recs[0].error
    assert recs[1].text == "قصف"


def test_jsonl_byte_order_mark_on_a_later_line_is_dropped(tmp_path: Path) -> None:
    """Regression: files with byte-order marks joined by cat lost the second
    file's first record ("Expecting value at column 1")."""
    recs = read(tmp_path, "a.jsonl", '\ufeff{"text": "a"}\n\ufeff{"text": "b"}\n')
    assert [(r.text, r.error) for r in recs] == [("a", None), ("b", None)]


def test_jsonl_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    """A record nested :data:`MAX_DEPTH` levels deep (the object included) is read."""
    line = '{"text": "a", "x": ' + "[" * 199 + "]" * 199 + "}"
    (rec,) = read(tmp_path, "a.jsonl", line + "\n")
    assert rec.error is None and rec.text == "a"


def test_jsonl_valid_escapes_are_kept(tmp_path: Path) -> None:
    """Valid JSON escapes, a surrogate pair among them, and a large float are read as they are."""
    (rec,) = read(
        tmp_path, "a.jsonl", '{"text": "\\u0642\\u0635\\u0641 \\ud83d\\ude00", "n": 1e300}\n'
    )
    assert rec.text == "قصف 😀" and rec.fields["n"] == 1e300


def test_missing_text_field_names_the_fields_and_the_option(tmp_path: Path) -> None:
    """A JSON record without the text field is an error naming the field, the record's fields and
    ``--text-field``; with that text field named, it reads."""
    (rec,) = read(tmp_path, "a.jsonl", '{"id": 1, "body": "قصف"}\n')
    assert "missing text field 'text'" in (rec.error or "")
    assert "'id', 'body'" in (rec.error or "") and "--text-field" in (rec.error or "")
    (rec,) = read(tmp_path, "a.jsonl", '{"id": 1, "body": "قصف"}\n', text_field="body")
    assert rec.text == "قصف"


def test_several_inputs_name_their_file_in_error_records(tmp_path: Path) -> None:
    """With several inputs, an error record names its file and line; with one input, and in a
    classified record, no ``file`` field is added."""
    (tmp_path / "a.jsonl").write_text('{"text": "قصف"}\n{oops\n', encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("{oops\n", encoding="utf-8")
    paths = [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    recs = list(read_records(paths, None, "text"))
    rows = [result_row(r, PRED if r.text else None, set()) for r in recs]
    assert "file" not in rows[0]
    assert rows[1] == {"file": paths[0], "line": 2, "error": rows[1]["error"]}
    assert rows[2]["file"] == paths[1] and rows[2]["line"] == 1
    (one,) = read_records(paths[1:], None, "text")
    assert "file" not in result_row(one, None, set())


def test_result_row_never_overwrites_an_input_field() -> None:
    """Regression: an input field `line` was overwritten; newsclf's go to
    newsclf_NAME; and an input's own `newsclf_label` was overwritten: then
    newsclf_NAME_2."""
    collisions: set[tuple[str, str]] = set()
    fields: dict[str, object] = {"line": "L7", "error": "theirs", "label": "gold", "text": "x"}
    bad = Record(3, dict(fields), error="text field 'text' is int, expected a string")
    row = result_row(bad, None, collisions)
    assert row["line"] == "L7" and row["newsclf_line"] == 3
    assert row["error"] == "theirs" and row["newsclf_error"].startswith("text field")
    good = result_row(Record(4, dict(fields), text="x"), PRED, collisions)
    assert good["error"] == "theirs" and good["label"] == "gold"
    assert good["newsclf_label"] == "military" and good["score"] == 0.9
    assert collisions == {
        ("line", "newsclf_line"),
        ("error", "newsclf_error"),
        ("label", "newsclf_label"),
    }
    both = {"text": "x", "label": "gold", "newsclf_label": "kept", "newsclf_label_2": "also"}
    row = result_row(Record(5, dict(both), text="x"), PRED, collisions)
    assert {k: row[k] for k in both} == both and row["newsclf_label_3"] == "military"
    assert ("label", "newsclf_label_3") in collisions


def test_fifo_and_dev_fd_are_inputs(tmp_path: Path) -> None:
    """Regression: FIFOs and process substitution were refused as "no such file"."""
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=('{"text": "قصف"}\n',))
    writer.start()
    check_inputs([str(fifo)])
    assert [r.text for r in read_records([str(fifo)], None, "text")] == ["قصف"]
    writer.join()
    r, w = os.pipe()
    os.write(w, "قصف\n".encode())
    os.close(w)
    try:
        check_inputs([f"/dev/fd/{r}"])
        assert [x.text for x in read_records([f"/dev/fd/{r}"], None, "text")] == ["قصف"]
    finally:
        os.close(r)


def test_a_folder_is_not_a_missing_file(tmp_path: Path) -> None:
    """An input that is a folder is refused as a directory, and a missing one as no such file."""
    with pytest.raises(UsageError, match="is a directory"):
        check_inputs([str(tmp_path)])
    with pytest.raises(UsageError, match="no such file"):
        check_inputs([str(tmp_path / "absent.txt")])


def test_csv_writer_keeps_every_key_and_writes_valid_json() -> None:
    """The CSV writer's header includes keys first seen after the first row, and the scores column
    is valid JSON."""
    out = io.StringIO()
    writer = Writer(out, "csv")
    writer.write(Record(1, error="invalid JSON: x"), None)
    writer.write(Record(2, {"id": "a", "text": "قصف"}, text="قصف"), PRED)
    writer.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["error"] == "invalid JSON: x" and rows[0]["label"] == ""
    assert rows[1]["id"] == "a" and json.loads(rows[1]["scores"]) == {"military": 0.9, "other": 0.1}


def test_table_explains_the_uncertain_marker_and_colours_any_label() -> None:
    """The table marks an uncertain score with ``?`` and colours the row even for a label outside
    the built-in ones, shows an error record as ERROR, and ends by explaining ``?``."""
    out = io.StringIO()
    writer = Writer(out, "table", colour=True)
    unsure = Prediction(label="other", score=0.4, scores={"other": 0.4, "x": 0.6}, uncertain=True)
    writer.write(Record(1, {"index": 0}, text="نص", is_text=True), unsure)
    writer.write(Record(2, error="invalid JSON: x"), None)
    writer.close()
    lines = out.getvalue().splitlines()
    assert "¶0" in lines[0] and "0.40?" in lines[0] and "\033[" in lines[0]
    assert "ERROR invalid JSON: x" in lines[1]
    assert lines[-1].startswith("? uncertain")
