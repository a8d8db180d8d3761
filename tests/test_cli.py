"""The newsclf command: in-process through ``newsclf._cli.main`` (fast), plus two end-to-end
runs of the installed entry point for what only a real process shows (exit-time flushing,
a pipe closed by ``head``)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from newsclf import _cli

EXE = shutil.which("newsclf", path=os.path.dirname(sys.executable)) or shutil.which("newsclf")
ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (
    "وزير الخارجية يستقبل نظيره التركي ويبحثان تعزيز العلاقات الثنائية\n\n"
    "قصفت المدفعية الثقيلة مواقع المسلحين قرب الحدود\n"
    "• اشترك الآن واحصل على شهر مجاني من التغطية الحصرية\n\n"
    "حذر برنامج الأغذية العالمي من خطر المجاعة على ملايين النازحين\n"
)
LABELS = ["diplomacy", "military", "boilerplate", "humanitarian"]
#: Every command with an example in its help (serve only when newsclf._serve is there).
COMMANDS = [c for c in _cli._EXAMPLES if c != "serve" or importlib.util.find_spec("newsclf._serve")]


@dataclass
class Result:
    status: int
    out: str
    err: str

    def rows(self) -> list[dict]:
        return [json.loads(line, parse_constant=_refuse) for line in self.out.splitlines()]


def _refuse(name: str) -> None:
    raise AssertionError(f"non-standard JSON in the output: {name}")


Run = Callable[..., Result]


@pytest.fixture
def cli(capsys, monkeypatch, model_dir: Path) -> Run:
    """``newsclf ARGS`` in this process, with the fixture model as the default model."""
    load = _cli._load_model
    monkeypatch.setattr(_cli, "_load_model", lambda path: load(path or str(model_dir)))
    monkeypatch.setattr(_cli, "_default_model", lambda: str(model_dir))

    def run(*args: str, stdin: bytes | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        status = _cli.main(list(args))
        got = capsys.readouterr()
        got.out.encode("utf-8")  # valid UTF-8: no lone surrogate reached the output
        return Result(status, got.out, got.err)

    return run


def jsonl_file(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


# --- help ---------------------------------------------------------------------


@pytest.fixture
def help_of(capsys) -> Callable[..., str]:
    def get(*command: str) -> str:
        with pytest.raises(SystemExit) as e:
            _cli.main([*command, "--help"])
        assert e.value.code == 0
        return capsys.readouterr().out

    return get


def test_help_lists_the_exit_status_and_examples(help_of: Callable[..., str]) -> None:
    """The top-level help explains exit statuses 0, 1 and 2, and each command's help shows an
    example of that command."""
    top = help_of()
    assert "0  every record classified" in top and "1  some records failed" in top
    assert "2  could not run" in top
    for command in COMMANDS:
        text = help_of(command)
        assert "example" in text and f"\n  newsclf {command} " in text


def test_help_examples_work_as_written(
    cli: Run,
    help_of: Callable[..., str],
    tmp_path: Path,
    monkeypatch,
    model_dir: Path,
    records: list[dict],
) -> None:
    """Every example in ``COMMAND --help`` runs as printed, in a folder holding its files.
    Regression: the classify example read JSONL from stdin as text and ignored --text-field."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "article-ar.txt", tmp_path / "examples")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "newsclf-ar").symlink_to(model_dir)
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    jsonl_file(
        tmp_path / "feed.jsonl", [{"id": i, "body": r["text"]} for i, r in enumerate(records[:5])]
    )
    labeled = [r for r in records[::4] if r["label"] in LABELS]  # in scope: no threshold search
    jsonl_file(tmp_path / "labeled.jsonl", labeled)
    jsonl_file(
        tmp_path / "test.jsonl", [*records[1::8], {"text": "فاز الفريق بالمباراة", "label": "none"}]
    )
    for command in COMMANDS:
        for line in help_of(command).splitlines():
            if not line.strip().startswith("newsclf "):
                continue
            words = shlex.split(line)[1:]
            stdin = None
            if "<" in words:
                at = words.index("<")
                stdin = Path(words[at + 1]).read_bytes()
                words[at : at + 2] = []
            if ">" in words:
                words = words[: words.index(">")]
            if command == "serve":  # would serve forever: parsing is what is checked
                _cli.build_parser().parse_args(words)
                continue
            got = cli(*words, stdin=stdin)
            assert got.status == 0, (line, got.err)
            assert got.out.strip(), line
            if "feed.jsonl" in line:
                rows = got.rows()
                assert [r["id"] for r in rows] == list(range(5)) and all("label" in r for r in rows)
    assert (tmp_path / "models" / "mine" / "metadata.json").is_file()
    assert (tmp_path / "report" / "reliability.png").is_file()
    ev = cli("evaluate", "--data", "test.jsonl", "--model", "models/mine")
    assert "macro-F1" in ev.out and "out-of-scope" in ev.out and "coverage" in ev.out
    ev = cli("evaluate", "--data", "labeled.jsonl", "--model", "models/mine", "--json")
    assert json.loads(ev.out)["n"] == len(labeled)


# --- classify ---------------------------------------------------------------------


def test_classify_article_file(cli: Run, tmp_path: Path) -> None:
    """A text article gives one record per paragraph, in order, with label and scores."""
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    got = cli("classify", str(path))
    assert got.status == 0 and got.err == "", got.err
    rows = got.rows()
    assert [r["index"] for r in rows] == [0, 1, 2, 3] and [r["label"] for r in rows] == LABELS
    assert rows[2]["text"] == "اشترك الآن واحصل على شهر مجاني من التغطية الحصرية"
    assert rows[0]["file"] == str(path)
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-6 for r in rows)


def test_classify_stdin_as_table_and_csv(cli: Run) -> None:
    """An article on stdin is classified paragraph by paragraph: as a table, uncertain scores are
    marked ``?`` and the marker is explained; as CSV, each row has its label and file ``-``."""
    got = cli("classify", "--format", "table", "--threshold", "0.99", stdin=ARTICLE.encode())
    lines = got.out.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["¶0", "¶1", "¶2", "¶3"]
    assert all("?" in line for line in lines[:4])
    assert lines[4].startswith("? uncertain") and len(lines) == 5  # the marker is explained
    got = cli("classify", "--format", "csv", stdin=ARTICLE.encode())
    rows = list(csv.DictReader(io.StringIO(got.out)))
    assert [r["label"] for r in rows] == LABELS and rows[0]["file"] == "-"


def test_stdin_honours_input_format_and_text_field(cli: Run) -> None:
    """Regression: `classify --text-field body < feed.jsonl` classified raw JSON lines as text."""
    feed = '{"id": 1, "body": "قصفت المدفعية مواقع المسلحين"}\n'.encode()
    got = cli("classify", "--input-format", "jsonl", "--text-field", "body", stdin=feed)
    assert got.status == 0 and got.rows()[0]["id"] == 1 and got.rows()[0]["label"] == "military"
    got = cli("classify", "--text-field", "body", stdin=feed)
    assert got.status == 2 and got.out == "" and "--input-format jsonl" in got.err
    # Regression: --article-field on text (one article already) was silently ignored.
    got = cli("classify", "--article-field", "id", stdin=feed)
    assert got.status == 2 and got.out == "" and "--article-field names a field" in got.err
    feed = "\ufeffid,body\n1,قصفت المدفعية مواقع المسلحين\n".encode()
    got = cli("classify", "--input-format", "csv", "--text-field", "body", stdin=feed)
    assert got.status == 0 and got.rows()[0]["id"] == "1"


def test_jsonl_records_errors_and_passthrough(cli: Run, tmp_path: Path) -> None:
    """Malformed records yield error records in place; the rest pass through; exit 1 at the end."""
    lines = [
        json.dumps(
            {"id": 1, "text": "اشترك الآن في نشرتنا", "extra": {"k": [1]}}, ensure_ascii=False
        ).encode(),
        b"{not json",
        json.dumps({"id": 3, "body": "no text field"}).encode(),
        json.dumps({"id": 4, "text": 42}).encode(),
        b'{"id": 5, "text": "\xff\xfe broken"}',
        json.dumps({"id": 6, "text": "قصف مدفعي", "label": "gold"}, ensure_ascii=False).encode(),
        b"[1, 2]",
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    got = cli("classify", str(path))
    assert got.status == 1
    rows = got.rows()
    assert len(rows) == len(lines)
    assert rows[0]["id"] == 1 and rows[0]["extra"] == {"k": [1]}
    assert rows[0]["label"] == "boilerplate"
    assert rows[1] == {"line": 2, "error": rows[1]["error"]} and "invalid JSON" in rows[1]["error"]
    assert rows[2]["id"] == 3 and "missing text field" in rows[2]["error"]
    assert rows[3]["id"] == 4 and "is a number (" in rows[3]["error"]
    assert rows[4]["line"] == 5 and "invalid UTF-8" in rows[4]["error"]
    assert rows[5]["label"] == "gold" and rows[5]["newsclf_label"] == "military"
    assert "expected a JSON object" in rows[6]["error"]
    assert "5 of 7 records failed" in got.err and "newsclf_label" in got.err


def test_hostile_records_each_give_one_error_record(cli: Run, tmp_path: Path) -> None:
    """Regression: these raised a traceback and lost the batch, or wrote non-standard JSON or
    invalid UTF-8.  Now: one record per line, in order, standard JSON in UTF-8, exit 1."""
    good = '{"text": "قصفت المدفعية مواقع المسلحين"}'
    hostile = [
        '{"text": "x", "n": ' + "1" * 5000 + "}",
        "[" * 100_000,
        '{"text": "abc \\ud800 def"}',
        '{"text": "\\udc80"}',
        '{"text": "x", "v": NaN}',
        '{"text": "x", "v": Infinity}',
        '{"text": "x", "line": "L1", "error": "theirs", "file": "f"}',
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(x for h in hostile for x in (h, good)) + "\n", encoding="utf-8")
    got = cli("classify", str(path), str(tmp_path / "in.jsonl"))
    rows = got.rows()
    assert got.status == 1 and len(rows) == 4 * len(hostile)
    assert all(r["label"] == "military" for r in rows[1::2])
    errors = [r.get("error") for r in rows[0:12:2]]
    assert all(e and "invalid JSON" in e for e in errors), errors
    assert rows[0]["file"] == str(path) and rows[0]["line"] == 1
    theirs = rows[12]  # a good record whose own fields are newsclf's names
    assert theirs["line"] == "L1" and theirs["error"] == "theirs" and "label" in theirs


def test_csv_and_tsv_records_keep_their_columns(cli: Run, tmp_path: Path) -> None:
    """CSV and TSV records are classified with ``--text-field`` and keep their columns; without it
    each record is an error naming its columns, and stderr points to ``--text-field``."""
    for ext, sep in (("csv", ","), ("tsv", "\t")):
        path = tmp_path / f"in.{ext}"
        path.write_text(
            f"id{sep}body\n7{sep}اشترك الآن\n8{sep}قصف مدفعي للمواقع\n", encoding="utf-8"
        )
        got = cli("classify", str(path), "--text-field", "body")
        assert got.status == 0, got.err
        assert [(r["id"], r["label"]) for r in got.rows()] == [
            ("7", "boilerplate"),
            ("8", "military"),
        ]
        got = cli("classify", str(path))
        assert got.status == 1 and "(the record has 'id', 'body')" in got.rows()[0]["error"]
        assert "--text-field" in got.err


def test_csv_output_keeps_every_record_and_field(cli: Run, tmp_path: Path) -> None:
    """Regressions: --format csv took its header from the first row and
    dropped later keys; and the column of a prediction was chosen record by
    record, so ``label`` held the gold label of one row and the prediction
    of another.  Now, as one record has a ``label``, every prediction is in
    ``newsclf_label``."""
    path = tmp_path / "m.jsonl"
    rows = [
        "{oops",
        json.dumps({"text": "قصفت المدفعية مواقع المسلحين"}, ensure_ascii=False),
        json.dumps({"id": "a2", "text": 42}),
        json.dumps({"id": "a3", "text": "اشترك الآن", "label": "gold"}, ensure_ascii=False),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    got = cli("classify", "--format", "csv", str(path))
    assert got.status == 1
    out = list(csv.DictReader(io.StringIO(got.out)))
    assert len(out) == 4
    assert out[0]["line"] == "1" and "invalid JSON" in out[0]["error"]
    assert out[1]["label"] == "" and out[1]["newsclf_label"] == "military"
    assert json.loads(out[1]["scores"])["military"] > 0.5
    assert out[2]["id"] == "a2" and out[2]["text"] == "42" and "is a number (42)" in out[2]["error"]
    assert out[3]["label"] == "gold" and out[3]["newsclf_label"] == "boilerplate"
    assert {"uncertain", "score", "newsclf_label"} <= set(out[0])


def test_classify_with_jobs_matches_one_process(cli: Run, tmp_path: Path) -> None:
    """``classify --jobs 2`` on a text article gives the same records as one process."""
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE * 50, encoding="utf-8")
    one = cli("classify", str(article))
    two = cli("classify", str(article), "--jobs", "2", "--batch-size", "16")
    assert two.status == 0, two.err
    assert two.rows() == one.rows() and len(one.rows()) == 200


def test_progress_bar_only_when_asked_in_a_pipe(cli: Run, tmp_path: Path) -> None:
    """When stderr is not a terminal, ``classify`` writes nothing there unless ``--progress`` asks
    for the progress bar."""
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    assert cli("classify", str(path)).err == ""
    assert "records" in cli("classify", str(path), "--progress").err


# --- could not run: exit 2, one line, no traceback ------------------------------------


def test_missing_file_folder_utf16_and_bad_model_exit_2(cli: Run, tmp_path: Path) -> None:
    """A UTF-16 file, a missing file, a folder as input, a folder that is not a model, or missing
    training data each end with exit status 2 and a one-line error saying so."""
    utf16 = tmp_path / "utf16.txt"
    utf16.write_text(ARTICLE, encoding="utf-16")
    for args, message in [
        (["classify", str(utf16)], "not UTF-8 text"),
        (["classify", str(tmp_path / "absent.txt")], "absent.txt: no such file"),
        (["classify", str(tmp_path)], "is a directory"),
        (["strip", str(tmp_path)], "is a directory"),
        (["classify", "--model", str(tmp_path), "-"], "cannot load model"),
        (["train", "--data", "/nonexistent.jsonl", "--out", str(tmp_path / "m")], "no such file"),
    ]:
        got = cli(*args, stdin=b"x")
        assert got.status == 2 and message in got.err and got.err.count("\n") == 1, got.err


def test_full_disk_is_one_line_and_exit_2(cli: Run, monkeypatch, tmp_path: Path) -> None:
    """Output to a full disk ends with exit status 2 and a one-line "No space left on device"
    error."""
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE * 100, encoding="utf-8")
    with open("/dev/full", "w", encoding="utf-8") as full:
        monkeypatch.setattr(sys, "stdout", full)
        got = cli("classify", str(path))
    assert got.status == 2 and "No space left on device" in got.err and got.err.count("\n") == 1


@pytest.mark.parametrize("where", ["proc", "file", "read-only"])
def test_train_and_plots_check_their_folder_before_any_work(
    cli: Run, monkeypatch, tmp_path: Path, where: str
) -> None:
    """Regression: training into a read-only folder failed only after fitting."""
    import newsclf._evaluate
    import newsclf._train

    if where == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = {"proc": Path("/proc"), "file": tmp_path / "f", "read-only": tmp_path / "ro"}[where]
    if where == "file":
        folder.write_text("")
    elif where == "read-only":
        folder.mkdir(mode=0o555)

    def too_late(*args: object, **kwargs: object) -> int:
        raise AssertionError("the folder is checked before any work")

    monkeypatch.setattr(newsclf._train, "run", too_late)
    monkeypatch.setattr(newsclf._evaluate, "evaluate", too_late)
    got = cli("train", "--data", "x.jsonl", "--out", str(folder / "models" / "m"))
    assert got.status == 2 and f"cannot write in {folder}" in got.err, got.err
    got = cli("evaluate", "--data", "x.jsonl", "--plots", str(folder / "report"))
    assert got.status == 2 and f"cannot write in {folder}" in got.err, got.err


# --- strip, explain, info, train, serve ---------------------------------------------------


def test_strip_removes_boilerplate_and_keeps_breaks(cli: Run, tmp_path: Path) -> None:
    """``strip`` removes the boilerplate paragraph and prints the rest of the article as it was,
    blank lines included."""
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    got = cli("strip", str(path))
    assert got.status == 0
    assert got.out == (
        "وزير الخارجية يستقبل نظيره التركي ويبحثان تعزيز العلاقات الثنائية\n\n"
        "قصفت المدفعية الثقيلة مواقع المسلحين قرب الحدود\n\n"
        "حذر برنامج الأغذية العالمي من خطر المجاعة على ملايين النازحين\n"
    )


def test_strip_keeps_news_sharing_a_line_with_boilerplate(cli: Run, tmp_path: Path) -> None:
    """Regression: a line holding two paragraphs (split at U+2029 or a form
    feed, as classify splits it) was kept or dropped by its first one alone,
    so news after boilerplate on that line was lost."""
    boilerplate = "اشترك الآن في نشرتنا البريدية لتصلك آخر الأخبار"
    news = "وصلت قافلة مساعدات إنسانية تحمل الغذاء والدواء إلى المدينة المحاصرة"
    assert news not in ARTICLE  # else the test could not tell
    for separator in ("\u2029", "\f"):
        path = tmp_path / "a.txt"
        path.write_text(f"{ARTICLE}{boilerplate}{separator}{news}\n", encoding="utf-8")
        got = cli("strip", str(path))
        assert got.status == 0 and got.out.endswith(f"\n{news}\n") and boilerplate not in got.out


def test_strip_keeps_the_line_ends_of_a_line_it_rewrites(cli: Run, tmp_path: Path) -> None:
    """Regression (review): the paragraphs kept from a line were written with
    LF line ends in a CR file."""
    boilerplate = "اشترك الآن في نشرتنا البريدية لتصلك آخر الأخبار"
    news = "وصلت قافلة مساعدات إنسانية تحمل الغذاء والدواء إلى المدينة المحاصرة"
    path = tmp_path / "a.txt"
    path.write_bytes(f"{ARTICLE.replace(chr(10), chr(13))}{boilerplate}\u2029{news}\r".encode())
    got = cli("strip", str(path))
    assert got.status == 0 and got.out.endswith(f"\r{news}\r") and "\n" not in got.out


def test_strip_warns_when_it_removes_every_paragraph(cli: Run, tmp_path: Path) -> None:
    """Regression (MT audit): an article scraped onto one line, news and its
    boilerplate tail, read as boilerplate as a whole, and strip printed
    nothing, with status 0 and not a word.  It still prints what it keeps
    (nothing), but says so; an article with news left says nothing."""
    path = tmp_path / "a.txt"
    path.write_text("اشترك الآن في نشرتنا البريدية\n© جميع الحقوق محفوظة\n", encoding="utf-8")
    got = cli("strip", str(path))
    assert (got.status, got.out) == (0, "")
    assert got.err.count("\n") == 1 and "every paragraph" in got.err and str(path) in got.err
    path.write_text(ARTICLE, encoding="utf-8")
    assert cli("strip", str(path)).err == ""


def test_strip_threshold_and_keep_uncertain(cli: Run, tmp_path: Path) -> None:
    """At --threshold 1 every paragraph is uncertain: --keep-uncertain keeps
    the boilerplate, without it the boilerplate still goes."""
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    stripped = cli("strip", str(path)).out
    assert cli("strip", str(path), "--threshold", "1").out == stripped
    kept = cli("strip", str(path), "--threshold", "1", "--keep-uncertain").out
    assert "اشترك الآن" in kept and "اشترك الآن" not in stripped


def test_jobs_keep_the_threshold(cli: Run, tmp_path: Path) -> None:
    """--jobs N on JSONL applies --threshold as one process does."""
    path = jsonl_file(tmp_path / "in.jsonl", [{"text": p} for p in ARTICLE.splitlines() if p])
    one = cli("classify", str(path), "--threshold", "0.99", "--jobs", "1").out
    assert one == cli("classify", str(path), "--threshold", "0.99", "--jobs", "2").out
    assert any(json.loads(line)["uncertain"] for line in one.splitlines())
    # Regression (scale audit): --jobs -1 was refused, while n_jobs=-1 means every CPU.
    assert one == cli("classify", str(path), "--threshold", "0.99", "--jobs", "-1").out


def test_the_command_line_reads_paragraphs_with_their_article(
    cli: Run, tmp_path: Path, context_dir: Path, context_clf
) -> None:
    """With a context model, a text input and --article-field records give
    classify_article's scores, which differ from each paragraph alone."""
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    expected = [p.score for p in context_clf.classify_article(ARTICLE)]
    alone = [p.score for p in context_clf.classify_many(newsclf_split(ARTICLE))]
    assert expected != alone
    text = cli("classify", str(path), "--model", str(context_dir)).out
    assert [json.loads(line)["score"] for line in text.splitlines()] == expected
    feed = jsonl_file(tmp_path / "f.jsonl", [{"doc": 1, "text": p} for p in newsclf_split(ARTICLE)])
    rows = cli("classify", str(feed), "--article-field", "doc", "--model", str(context_dir)).out
    assert [json.loads(line)["score"] for line in rows.splitlines()] == expected


def test_article_ids_never_join_two_inputs_or_blank_ids(
    cli: Run, tmp_path: Path, context_dir: Path, context_clf
) -> None:
    """An article never spans two input files, and records with a null or
    blank id are each their own article, as in training (both were read as
    one article: the last of one file with the first of the next; all the
    id-less records in a row)."""
    paras = newsclf_split(ARTICLE)
    alone = [p.score for p in context_clf.classify_many(paras[:2])]
    one = jsonl_file(tmp_path / "one.jsonl", [{"doc": 1, "text": paras[0]}])
    two = jsonl_file(tmp_path / "two.jsonl", [{"doc": 1, "text": paras[1]}])
    out = cli("classify", str(one), str(two), "--article-field", "doc", "--model", str(context_dir))
    assert [json.loads(line)["score"] for line in out.out.splitlines()] == alone
    for blank in (None, "", " "):
        feed = jsonl_file(tmp_path / "b.jsonl", [{"doc": blank, "text": p} for p in paras[:2]])
        out = cli("classify", str(feed), "--article-field", "doc", "--model", str(context_dir))
        assert [json.loads(line)["score"] for line in out.out.splitlines()] == alone, blank


def newsclf_split(text: str) -> list[str]:
    from newsclf import split_paragraphs

    return split_paragraphs(text)


@pytest.mark.parametrize("name", ["a.jsonl", "a.csv", "a.tsv"])
def test_strip_refuses_records(cli: Run, tmp_path: Path, name: str) -> None:
    """Regression: strip read records as text lines, deleting JSON lines and
    cutting quoted CSV fields."""
    path = tmp_path / name
    path.write_text('{"text": "اشترك الآن"}\n', encoding="utf-8")
    got = cli("strip", str(path))
    assert got.status == 2 and got.out == "" and "newsclf classify" in got.err


def test_info_on_hand_edited_metadata_is_a_one_line_error(
    cli: Run, tmp_path: Path, model_dir: Path
) -> None:
    """Regression: metrics or training data of another form gave a traceback."""
    import shutil

    cases = (("accuracy", "high", 2), ("per_label", [1], 2), ("sha256", 5, 0))
    for field, value, status in cases:
        copy = tmp_path / field
        shutil.copytree(model_dir, copy)
        meta = json.loads((copy / "metadata.json").read_text(encoding="utf-8"))
        meta["training_data" if field == "sha256" else "metrics"][field] = value
        (copy / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
        got = cli("info", "--model", str(copy))
        assert got.status == status, got.err
        if status == 2:
            assert got.err.count("\n") == 1 and "not in the form newsclf writes" in got.err


def test_small_things_the_audit_found(cli: Run, tmp_path: Path, model_dir: Path) -> None:
    """Regressions: the table printed control characters (ANSI escapes) of
    the input to the terminal; explain --top 0 said the text had no known
    n-gram; --text-field "" meant "text"; convert of a format-2 model asked
    to trust a pickle it does not have; a file as --model was "found none"."""
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "قصف \\u001b[31mأحمر\\r"}\n', encoding="utf-8")
    table = cli("classify", str(path), "--format", "table").out
    assert "\x1b" not in table and "\r" not in table and "أحمر" in table
    assert "no known n-gram" not in cli("explain", "--top", "0", "قصف المدفعية").out
    path.write_text('{"": "قصف المدفعية", "text": 5}\n', encoding="utf-8")
    assert cli("classify", str(path), "--text-field", "").status == 0
    got = cli("convert", str(model_dir), str(tmp_path / "new"))
    assert got.status == 2 and "format_version 1" in got.err and "trust" not in got.err
    assert "found a file" in cli("info", "--model", str(path)).err
    fake = tmp_path / "fake"  # format_version true is not 1 (review)
    fake.mkdir()
    (fake / "metadata.json").write_text('{"format_version": true}', encoding="utf-8")
    (fake / "model.joblib").write_bytes(b"not a pickle")
    got = cli("convert", str(fake), str(tmp_path / "n"), "--trust-pickle")
    assert got.status == 2 and "expected format_version 1 in metadata.json, found True" in got.err


def test_strip_fails_closed_without_a_boilerplate_label(
    cli: Run, tmp_path: Path, records: list[dict]
) -> None:
    """Regression: with such a model strip printed the input unchanged and exited 0."""
    from newsclf._train import train

    rows = [r for r in records[::3] if r["label"] in {"military", "diplomacy", "humanitarian"}]
    model = train(rows, seed=0, log=lambda message: None).save(tmp_path / "m")
    got = cli("strip", "--model", str(model), stdin=ARTICLE.encode())
    assert got.status == 2 and got.out == "" and "no 'boilerplate' label" in got.err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["classify", "--jobs", "0"],
            "argument --jobs: expected a positive integer, or -1 for every CPU, got '0'",
        ),
        (["classify", "--threshold", "nan"], "expected a number in [0, 1], got 'nan'"),
        (["classify", "--threshold", "x"], "expected a number in [0, 1], got 'x'"),
        (["evaluate", "--errors", "-1"], "expected an integer >= 0, got '-1'"),
        (["train", "--test-size", "1"], "a number in [0, 1), got '1'"),
        (["train", "--min-df", "2.5"], "expected an integer >= 1, got '2.5'"),
    ],
)
def test_bad_option_values_are_a_one_line_usage_error(
    cli: Run, capsys, args: list[str], expected: str
) -> None:
    """What was expected and what was given, in one line (exit 2): argparse's
    own usage error printed its whole usage block first."""
    required = ["--data", "d.jsonl", "--out", "m"] if args[0] == "train" else []
    with pytest.raises(SystemExit) as e:
        cli(*args, *required)
    assert e.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(f"{expected} (see 'newsclf {args[0]} --help')")


def test_explain_and_info(cli: Run, capsys) -> None:
    """``explain --json`` gives the label and at most ``--top`` n-grams pushing towards it,
    ``explain`` reads stdin, ``--top -1`` is a usage error, and ``info`` shows the labels as JSON
    and as text."""
    got = cli("explain", "--json", "--top", "3", "اشترك الآن واحصل على شهر مجاني")
    result = json.loads(got.out)
    assert result["label"] == "boilerplate"
    top = result["features"]["boilerplate"]
    assert 0 < len(top) <= 3 and all(value > 0 for _, value in top)
    got = cli("explain", stdin="قصفت المدفعية الثقيلة مواقع المسلحين".encode())
    assert got.out.startswith("label: military") and "n-grams pushing towards military" in got.out
    with pytest.raises(SystemExit) as e:
        cli("explain", "--top", "-1", "نص")
    assert e.value.code == 2
    # Regression (MT audit): a pasted bullet line ("-عاجل") read as an unknown
    # option, and the message did not say how to pass it.
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli("explain", "-عاجل")
    assert "goes after '--'" in capsys.readouterr().err
    assert cli("explain", "--", "-عاجل").out.startswith("label: ")
    info = json.loads(cli("info", "--json").out)
    assert info["labels"] == sorted(LABELS)
    assert "labels:" in cli("info").out


def test_train_streaming(cli: Run, tmp_path: Path, records: list[dict]) -> None:
    """``train --streaming`` writes a model and reports its held-out macro-F1, and ``classify`` runs
    with that model."""
    data = jsonl_file(tmp_path / "train.jsonl", records)
    out = str(tmp_path / "s")
    got = cli("train", "--data", str(data), "--out", out, "--streaming", "--epochs", "2")
    assert got.status == 0, got.err
    assert "held-out macro-F1" in got.out
    assert cli("classify", "--model", out, stdin=ARTICLE.encode()).status == 0


def test_serve_is_dispatched_to_newsclf_serve(cli: Run, monkeypatch) -> None:
    """`newsclf serve` exists when newsclf._serve does; its options and run() are that module's."""
    serve = types.ModuleType("newsclf._serve")
    serve.__spec__ = ModuleSpec("newsclf._serve", None)
    serve.add_arguments = lambda p: p.add_argument("--port", type=int, default=8000)
    serve.run = lambda args: 7 if args.port == 9 else 0
    monkeypatch.setitem(sys.modules, "newsclf._serve", serve)
    assert cli("serve", "--port", "9").status == 7


# --- end to end: the installed entry point ------------------------------------------------


def test_entry_point_full_disk_quietly_exits_2(model_dir: Path, tmp_path: Path) -> None:
    """Python flushes stdout once more at exit: a full disk must not end in a traceback there."""
    assert EXE, "the newsclf entry point is not installed"
    assert subprocess.run([EXE, "--version"], capture_output=True).stdout.startswith(b"newsclf ")
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [EXE, "classify", "--model", str(model_dir), str(path)],
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            timeout=120,
        )
    assert proc.returncode == 2
    assert (
        proc.stderr.decode() == "newsclf: error: cannot write the output: No space left on device\n"
    )


def test_head_on_an_endless_stream_ends_quietly(model_dir: Path) -> None:
    """`... | newsclf classify | head -n 1` stops after a batch or so: the input never ends,
    so reading it all would never finish (no wall-clock bound asserted)."""
    row = shlex.quote(
        json.dumps({"text": "قصفت المدفعية الثقيلة مواقع المسلحين"}, ensure_ascii=False)
    )
    proc = subprocess.run(
        f"yes {row} | '{EXE}' classify --input-format jsonl --model '{model_dir}' | head -n 1",
        shell=True,
        capture_output=True,
        timeout=120,
    )
    assert json.loads(proc.stdout)["label"] == "military"
    assert proc.stderr == b""


def test_jobs_2_on_jsonl_equals_jobs_1(cli: Run, tmp_path: Path, records: list[dict]) -> None:
    """--jobs 2 on JSONL (parsing and formatting in the workers) gives --jobs 1's output,
    error records included, in order."""
    rows = [{"id": i, "text": r["text"]} for i, r in enumerate(records[:9000])]
    path = jsonl_file(tmp_path / "in.jsonl", rows)
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"id": "bad", "text": 3}\n{oops\n')
    one, two = cli("classify", str(path)), cli("classify", str(path), "--jobs", "2")
    assert one.status == two.status == 1
    assert one.out == two.out and len(one.out.splitlines()) == len(rows) + 2
    assert one.err == two.err


def _classify_in_a_new_process(
    model_dir: Path, jobs: str, *paths: Path, timeout: float = 300
) -> subprocess.CompletedProcess[bytes]:
    """``newsclf classify PATHS --jobs JOBS`` as users run it: a new process."""
    return subprocess.run(
        [EXE, "classify", *map(str, paths), "--model", str(model_dir), "--jobs", jobs],
        capture_output=True,
        timeout=timeout,
    )


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the worker in /proc")
def test_a_worker_killed_mid_run_loses_no_record(model_dir: Path) -> None:
    """Regression (scale audit): killing ``classify --jobs 2``'s worker (the
    OOM killer) printed loky's traceback, exited 1 (the status of bad
    records) and had written a third of the records.  Now every record is
    written, in order, with one warning line, and the status is 0."""
    import signal
    import threading

    line = json.dumps({"text": "قصفت المدفعية مواقع المسلحين"}, ensure_ascii=False)
    block = (line + "\n").encode("utf-8") * 100_000  # several blocks of records
    run = subprocess.Popen(
        [EXE, "classify", "--input-format", "jsonl", "--model", str(model_dir), "--jobs", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert run.stdin and run.stdout and run.stderr
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.extend(run.stdout))  # type: ignore[arg-type]
    reader.start()
    try:
        run.stdin.write(block)
        run.stdin.flush()
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while not workers and time.monotonic() < deadline:  # once it has written some
            time.sleep(0.1)
            children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
            commands = {int(pid): Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children}
            workers = [
                pid
                for pid, command in commands.items()
                if len(out) > 1000 and b"classify" in command and b"resource_tracker" not in command
            ]
        assert workers, "no worker was started"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        run.stdin.write(block)
        run.stdin.close()
        assert run.wait(timeout=300) == 0
    finally:
        run.kill()
        reader.join()
    err = run.stderr.read().decode()
    assert err.count("\n") == 1 and "worker process died" in err and "Traceback" not in err
    assert len(out) == 200_000 and all(b'"label": ' in row for row in out)


@pytest.mark.parametrize("stdin", [False, True])
def test_an_input_that_is_the_output_is_refused(
    tmp_path: Path, model_dir: Path, records: list[dict], stdin: bool
) -> None:
    """Regression: ``classify f.jsonl >> f.jsonl`` (or ``< f >> f``) read its
    own output and never ended.  Now it is refused, as ``cat`` refuses it:
    one line, exit 2, the file as it was."""
    path = jsonl_file(tmp_path / "f.jsonl", [{"text": r["text"]} for r in records[:3]])
    before = path.read_bytes()
    with path.open("rb") as source, path.open("ab") as out:
        done = subprocess.run(
            [EXE, "classify", *([] if stdin else [str(path)]), "--model", str(model_dir)],
            stdin=source if stdin else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.decode().count("\n") == 1
    assert "input file is the output file" in done.stderr.decode()
    assert path.read_bytes() == before


def test_jobs_2_in_a_new_process_equals_jobs_1(
    tmp_path: Path, model_dir: Path, records: list[dict]
) -> None:
    """The command as users run it, a process with no other thread, whose
    worker is forked and adopts its model: byte for byte --jobs 1's output,
    over several blocks of the file."""
    rows = [{"id": i, "text": records[i % len(records)]["text"]} for i in range(20_000)]
    path = jsonl_file(tmp_path / "in.jsonl", rows)
    assert path.stat().st_size > 4 * 2**20  # several blocks (BLOCK_BYTES: 1 MiB)
    runs = [_classify_in_a_new_process(model_dir, jobs, path) for jobs in ("1", "2")]
    assert [(r.returncode, r.stderr) for r in runs] == [(0, b""), (0, b"")]
    assert runs[0].stdout == runs[1].stdout
    assert len(runs[0].stdout.splitlines()) == len(rows)
    # A later input refused as a whole: every record read before it is
    # written, whatever --jobs (the batch being filled was lost with --jobs
    # 1, every task in flight with --jobs 2), then one line and exit 2.
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_bytes('{"text": "نص"}\n'.encode("utf-16"))
    for jobs in ("1", "2"):
        refused = _classify_in_a_new_process(model_dir, jobs, path, utf16)
        assert refused.returncode == 2, jobs
        assert refused.stderr.decode().count("\n") == 1 and b"UTF-16" in refused.stderr
        # The same records, now named by their file (several inputs).
        assert len(refused.stdout.splitlines()) == len(rows), jobs


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_gzip_and_parquet_inputs_are_named_as_such(cli: Run, tmp_path: Path, jobs: str) -> None:
    """Regression: classify called a gzip or Parquet file UTF-16 and
    suggested iconv; it now says what the file is and what to do."""
    import gzip

    import pandas as pd

    packed = tmp_path / "a.jsonl.gz"
    packed.write_bytes(gzip.compress(b'{"text": "a"}\n' * 3))
    parquet = tmp_path / "a.parquet"
    pd.DataFrame({"text": ["a"]}).to_parquet(parquet)
    for path, what in ((packed, "gzip-compressed"), (parquet, "a Parquet file")):
        got = cli("classify", str(path), "--input-format", "jsonl", "--jobs", jobs)
        assert got.status == 2 and what in got.err and "UTF-16" not in got.err, got.err
    # Regression: the hint always said --input-format jsonl (a CSV then gave
    # an invalid-JSON error per row), and xz/zstd/bzip2 were called UTF-16
    # or read as text.  The hint now follows the name inside the compressor's.
    import bz2
    import lzma

    csv_body = "id,text\n1,قصف\n".encode()
    for name, data, hint in (
        ("a.csv.gz", gzip.compress(csv_body), "zcat {} | newsclf classify --input-format csv"),
        ("a.csv.xz", lzma.compress(csv_body), "xzcat {} | newsclf classify --input-format csv"),
        ("a.tsv.bz2", bz2.compress(csv_body), "bzcat {} | newsclf classify --input-format tsv"),
        ("a.txt.zst", b"\x28\xb5\x2f\xfd" + bytes(20), "zstdcat {} | newsclf classify"),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        got = cli("classify", str(path), "--jobs", jobs)
        assert got.status == 2 and got.err.endswith(hint.format(path) + "\n"), got.err


def test_a_csv_of_no_rows_gives_its_header(cli: Run, tmp_path: Path) -> None:
    """Regression (records audit): a CSV input of a header and no rows gave a
    0-byte CSV, so a loader saw no columns (an empty shard broke a pipeline)."""
    path = tmp_path / "empty.csv"
    path.write_text("id,text,label\n", encoding="utf-8")
    got = cli("classify", str(path), "--format", "csv")
    assert got.status == 0 and got.out == "id,text,label,newsclf_label,score,scores,uncertain\r\n"


def test_a_text_input_that_looks_like_records_is_a_warning(cli: Run, tmp_path: Path) -> None:
    """Regression: JSONL named .json was read as one article, each JSON line
    a paragraph, with nothing said (exit 0)."""
    path = tmp_path / "feed.json"
    path.write_text('{"id": 1, "text": "قصف"}\n{"id": 2, "text": "هدنة"}\n', encoding="utf-8")
    got = cli("classify", str(path))
    assert got.status == 0 and len(got.out.splitlines()) == 2
    assert got.err == (
        f"newsclf: warning: {path} (line 1 looks like a JSON record) was read as a text "
        "article, one paragraph per line: for records, add --input-format jsonl (or csv, tsv)\n"
    )
    assert cli("classify", str(path), "--input-format", "jsonl").err == ""
    # Regression (MT audit): strip read it the same way without a word.
    got = cli("strip", str(path))
    assert got.status == 0 and "line 1 looks like a JSON record" in got.err
    assert "for records, classify them: newsclf classify --input-format jsonl" in got.err


def test_a_closed_stderr_neither_stops_the_run_nor_soils_stdout(
    tmp_path: Path, model_dir: Path
) -> None:
    """Regression: with fd 2 closed (some cron and daemon set-ups) classify
    wrote nothing and exited 1 (a traceback no one saw), or, with
    --no-progress, wrote its messages into the JSONL on stdout."""
    path = jsonl_file(tmp_path / "in.jsonl", [{"text": "قصف"}, {"text": None}])
    for extra in ("", "--no-progress"):
        done = subprocess.run(
            ["sh", "-c", f'"$0" classify "$1" --model "$2" {extra} 2>&-', EXE, path, model_dir],
            stdout=subprocess.PIPE,
            timeout=120,
        )
        lines = done.stdout.decode().splitlines()
        assert done.returncode == 1 and len(lines) == 2, (extra, done)
        assert all(line.startswith("{") for line in lines)


def test_deep_records_are_error_records_with_jobs_2(tmp_path: Path, model_dir: Path) -> None:
    """Regression: with --jobs 2 a record about 990 levels deep was read,
    then could not be written back (a RecursionError traceback, no output);
    --jobs 1 gave an error record.  Now both give the same output."""
    # 987-988: where the old code failed here (it depends on the stack depth).
    deep = '{"text": "a", "x": ' + "[" * 987 + "]" * 987 + "}"
    path = tmp_path / "deep.jsonl"
    path.write_text(deep + '\n{"text": "قصف"}\n', encoding="utf-8")
    runs = [_classify_in_a_new_process(model_dir, jobs, path, timeout=120) for jobs in ("1", "2")]
    assert runs[0].stdout == runs[1].stdout and b"Traceback" not in runs[1].stderr
    assert [r.returncode for r in runs] == [1, 1]
    assert b"levels deep" in runs[1].stdout.splitlines()[0]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_nul_byte_is_a_record_error_but_in_line_one_refuses_the_file(
    cli: Run, tmp_path: Path, jobs: str
) -> None:
    """Regression: one NUL byte anywhere refused the whole file as not text,
    after --jobs 1 had written part of the output and --jobs 2 none.  A NUL
    byte in a later line is that record's error, with --jobs 2 too (it reads
    raw bytes in blocks; CRLF and lone CR line ends here); in line 1, as in
    UTF-16 without a byte-order mark, the file is refused."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b'{"text": "\xd9\x82\xd8\xb5\xd9\x81"}\r\n{"text": "a"}\r{"text": "b\x00"}\n{"text": "c"}\n'
    )
    result = cli("classify", str(path), "--jobs", jobs)
    assert result.status == 1, result.err
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert [r.get("line") for r in rows] == [None, None, 3, None]
    assert "control character" in rows[2]["error"] and rows[3]["label"]
    path.write_bytes(b'{"text": "b\x00"}\n{"text": "a"}\n')
    result = cli("classify", str(path), "--jobs", jobs)
    assert result.status == 2 and result.out == ""
    assert result.err.startswith(f"newsclf: error: {path}: not UTF-8 text")
    assert "Traceback" not in result.err


def test_a_broken_record_stays_in_its_article_and_a_missing_field_is_named(
    cli: Run, tmp_path: Path, clf
) -> None:
    """Regressions: with --article-field, a line that could not be read cut
    its article in two, changing every other record's score; and a field no
    record has was silently ignored (each record read alone)."""
    records = [{"doc": "d1", "text": p.text} for p in clf.classify_article(ARTICLE)]
    good = jsonl_file(tmp_path / "good.jsonl", records)
    lines = good.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([*lines[:2], "{oops", *lines[2:]]) + "\n", encoding="utf-8")
    expected = [
        json.loads(r)["score"]
        for r in cli("classify", str(good), "--article-field", "doc").out.splitlines()
    ]
    result = cli("classify", str(bad), "--article-field", "doc")
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert result.status == 1 and rows[2]["line"] == 3 and "error" in rows[2]
    assert [r["score"] for r in rows if "score" in r] == expected
    missing = cli("classify", str(good), "--article-field", "nosuch")
    assert missing.status == 0 and "no record has the field 'nosuch'" in missing.err
    assert "warning" not in cli("classify", str(good), "--article-field", "doc").err


def test_jobs_are_capped_at_the_cpus(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: JSONL in and out started N - 1 workers for any --jobs N
    (--jobs 99999 ran the machine out of memory); now at most the CPUs."""
    from newsclf import _model

    started: list[int] = []
    pool = _model.Classifier._pool
    monkeypatch.setattr(
        # Never more than 2 here, whatever the code under test asks for.
        _model.Classifier,
        "_pool",
        lambda self, n, ref: started.append(n) or pool(self, min(n, 2), ref),
    )
    path = jsonl_file(tmp_path / "in.jsonl", [{"text": "قصف"}] * 10)
    assert cli("classify", str(path), "--jobs", "99999").status == 0
    assert started and max(started) <= os.cpu_count()


def test_text_article_is_read_with_its_article(cli: Run, tmp_path: Path, clf) -> None:
    """A text input is one article: each paragraph is read with the others, as
    classify_article reads it; --article-field groups records the same way."""
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    rows = [json.loads(line) for line in cli("classify", str(path)).out.splitlines()]
    expected = clf.classify_article(ARTICLE)
    assert [r["score"] for r in rows] == [p.score for p in expected]
    records = [{"doc": "d1", "text": p.text} for p in expected]
    feed = jsonl_file(tmp_path / "feed.jsonl", records)
    grouped = cli("classify", str(feed), "--article-field", "doc").out.splitlines()
    assert [json.loads(line)["score"] for line in grouped] == [p.score for p in expected]


def test_convert_needs_trust_and_converts(cli: Run, tmp_path: Path, clf) -> None:
    """``convert`` refuses a format-1 model without ``--trust-pickle`` (exit 2, no traceback), and
    with it writes a format-2 model."""
    import hashlib

    import joblib

    old = tmp_path / "old"
    old.mkdir()
    joblib.dump(clf.pipeline, old / "model.joblib")
    digest = hashlib.sha256((old / "model.joblib").read_bytes()).hexdigest()
    meta = {"format_version": 1, "model_sha256": digest, "name": "old"}
    (old / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    refused = cli("convert", str(old), str(tmp_path / "new"))
    assert refused.status == 2 and "trust" in refused.err and "Traceback" not in refused.err
    assert cli("convert", str(old), str(tmp_path / "new"), "--trust-pickle").status == 0
    info = cli("info", "--json", "--model", str(tmp_path / "new"))
    assert json.loads(info.out)["format_version"] == 2


def _format_1(folder: Path, model: object, **meta: object) -> Path:
    import hashlib

    import joblib

    folder.mkdir()
    joblib.dump(model, folder / "model.joblib")
    digest = hashlib.sha256((folder / "model.joblib").read_bytes()).hexdigest()
    meta = {"format_version": 1, "model_sha256": digest, "name": "old", **meta}
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def test_convert_refuses_what_it_cannot_write_in_one_line(cli: Run, tmp_path: Path, clf) -> None:
    """``convert`` of a pickle that is not a newsclf Pipeline, or with metadata
    the loader refuses, or onto a folder of other files: one line, exit 2,
    nothing written or lost (a traceback and exit 1; an artifact written
    that did not load; the folder replaced)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from newsclf import Classifier, InputTypeError

    plain = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(
        ["aa bb", "cc dd"], ["x", "y"]
    )
    cases = {
        "dict": _format_1(tmp_path / "dict", {"not": "a pipeline"}),
        "plain": _format_1(tmp_path / "plain", plain),
        "threshold": _format_1(tmp_path / "threshold", clf.pipeline, uncertainty_threshold=2),
    }
    for name, old in cases.items():
        got = cli("convert", str(old), str(tmp_path / f"new-{name}"), "--trust-pickle")
        assert got.status == 2 and "Traceback" not in got.err, (name, got.err)
        assert len(got.err.strip().splitlines()) == 1, (name, got.err)
        assert not (tmp_path / f"new-{name}").exists(), name
    good = _format_1(tmp_path / "good", clf.pipeline)
    stuff = tmp_path / "stuff"
    stuff.mkdir()
    (stuff / "metadata.json").write_text("{}")
    (stuff / "notes.txt").write_text("keep me")
    got = cli("convert", str(good), str(stuff), "--trust-pickle")
    assert got.status == 2 and "not a newsclf model" in got.err
    assert (stuff / "notes.txt").read_text() == "keep me"
    with pytest.raises(InputTypeError, match="newsclf featurizers"):
        Classifier.from_pipeline(plain, {})


def test_closed_stdin_or_stdout_is_one_line_and_exit_2(tmp_path: Path, model_dir: Path) -> None:
    """Regression: with fd 0 or fd 1 closed, classify, strip and explain
    died with an AttributeError traceback (exit 1)."""
    path = tmp_path / "a.txt"
    path.write_text("قصفت المدفعية مواقع المسلحين\n", encoding="utf-8")
    runs = {
        "classify <&-": ("classify", "<&-", "stdin is closed"),
        "strip <&-": ("strip", "<&-", "stdin is closed"),
        "explain <&-": ("explain", "<&-", "stdin is closed"),
        "classify FILE >&-": (f'classify "{path}"', ">&-", "stdout is closed"),
    }
    for name, (command, redirect, message) in runs.items():
        done = subprocess.run(
            ["sh", "-c", f'"$0" {command} --model "$1" {redirect}', EXE, model_dir],
            stderr=subprocess.PIPE,
            timeout=120,
        )
        err = done.stderr.decode()
        assert done.returncode == 2 and err.count("\n") == 1 and message in err, (name, err)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_several_inputs_name_their_files_and_a_refusal_counts_failures(
    cli: Run, tmp_path: Path, jobs: str
) -> None:
    """Regressions: with --jobs 1, a file refused for a NUL starting line 2
    had its line 1 written first (--jobs 2 wrote nothing of it); the summary
    and the table named a failed record by its line only, not its file; and
    a later refusal replaced the summary, hiding the records that failed
    before it ("the 1 records" too)."""
    one = tmp_path / "one.jsonl"
    one.write_text('{"text": "قصف"}\n{oops\n', encoding="utf-8")
    nul = tmp_path / "nul.jsonl"
    nul.write_bytes('{"text": "قصف"}\n\x00{"text": "x"}\n'.encode())
    got = cli("classify", str(one), str(nul), "--jobs", jobs)
    assert got.status == 2 and len(got.out.splitlines()) == 2
    assert (
        got.err.count("\n") == 1 and "(the 2 records before it were written; 1 of them" in got.err
    )
    assert f"first: {one}, line 2: invalid JSON" in got.err
    got = cli("classify", str(one), str(one), "--format", "table", "--jobs", jobs)
    assert got.status == 1 and got.out.count(f"== {one}\n") == 2
    assert f"2 of 4 records failed (first: {one}, line 2:" in got.err
    single = cli("classify", str(nul), "--jobs", jobs)
    assert single.out == "" and "(the" not in single.err


def test_the_same_input_twice_is_two_inputs_and_long_articles_are_said(
    cli: Run, tmp_path: Path, context_dir: Path
) -> None:
    """Regressions: a file given twice was keyed by its name, so the last
    article of the first copy and the first of the second were read as one;
    an article of more than MAX_ARTICLE records was silently read in runs.
    (A model that reads context, so that joining articles changes scores.)"""
    rows = [
        {"doc_id": "X", "text": "قصفت المدفعية مواقع المسلحين"},
        {"doc_id": "Y", "text": "وزعت المنظمة مساعدات على النازحين"},
        {"doc_id": "X", "text": "بحث وزير الخارجية وقف إطلاق النار"},
    ]
    path = jsonl_file(tmp_path / "p.jsonl", rows)
    args = ["--article-field", "doc_id", "--model", str(context_dir)]
    once = cli("classify", str(path), *args).rows()
    twice = cli("classify", str(path), str(path), *args).rows()
    assert [r["score"] for r in twice] == [r["score"] for r in once] * 2
    from newsclf._records import MAX_ARTICLE

    long = [{"doc_id": "D", "text": f"قصف {i}"} for i in range(MAX_ARTICLE + 1)]
    got = cli(
        "classify", str(jsonl_file(tmp_path / "long.jsonl", long)), "--article-field", "doc_id"
    )
    assert got.status == 0
    assert f'(first: doc_id "D"): each was read in runs of {MAX_ARTICLE}' in got.err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_jsonl_lines_of_other_blanks_are_errors_not_skipped(
    cli: Run, tmp_path: Path, jobs: str
) -> None:
    """Regression: a JSONL line of a no-break space, U+3000, \\x1c or \\x0b
    was skipped unseen (str.strip() blanks); only JSON's whitespace is."""
    path = tmp_path / "b.jsonl"
    path.write_text('{"text": "a"}\n\u00a0\n\u3000\n\x1c\n\x0b\n \t\r\n{"text": "b"}\n', "utf-8")
    got = cli("classify", str(path), "--jobs", jobs)
    assert got.status == 1 and [r.get("line") for r in got.rows() if "error" in r] == [2, 3, 4, 5]
    assert len(got.rows()) == 6


def test_classify_and_strip_read_a_long_text_article_alike(
    cli: Run, tmp_path: Path, context_dir: Path, context_clf
) -> None:
    """Regression: classify read a text article in runs of 500 paragraphs,
    while strip, classify_article and /v1/articles read it whole: their
    scores differed on the same file, silently.  Now an article of up to
    MAX_ARTICLE paragraphs (one model batch) is read whole everywhere, and
    a longer one in runs by classify and strip alike, with a warning."""
    from newsclf._records import MAX_ARTICLE

    lines = ["قصفت المدفعية مواقع المسلحين", "تابعونا على منصات التواصل", "وصلت قافلة مساعدات"]
    model = ["--model", str(context_dir)]
    for n in (600, MAX_ARTICLE + 1):
        path = tmp_path / f"long{n}.txt"
        path.write_text("".join(f"{lines[i % 3]} {i}\n" for i in range(n)), "utf-8")
        classified, stripped = cli("classify", str(path), *model), cli("strip", str(path), *model)
        kept = [r["text"] + "\n" for r in classified.rows() if r["label"] != "boilerplate"]
        assert "".join(kept) == stripped.out
        warned = f"(first: {path}): each was read in runs of"
        assert all(
            got.status == 0 and (warned in got.err) == (n > MAX_ARTICLE)
            for got in (classified, stripped)
        )
        if n <= MAX_ARTICLE:
            whole = context_clf.classify_article(path.read_text("utf-8"))
            assert [r["score"] for r in classified.rows()] == [p.score for p in whole]
    # Each article cut is counted, also the same file given twice.
    assert "2 article(s) hold more than" in cli("classify", str(path), str(path), *model).err


def test_explain_reads_the_text_in_its_article(cli: Run, tmp_path: Path, context_dir: Path) -> None:
    """Regression (cross-surface audit): explain on the command line could not
    see a paragraph's article, so its label and score differed from
    classify's on the same article.  With --article (and --threshold) it
    gives classify's answer, and the n-grams behind it."""
    lines = ["وقالت الوزارة إن الاجتماع تناول التطورات الأخيرة", "قصفت المدفعية مواقع المسلحين"]
    article = tmp_path / "article.txt"
    article.write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = ["--model", str(context_dir), "--threshold", "0.97"]
    row = cli("classify", str(article), *model).rows()[0]
    explained = json.loads(
        cli("explain", lines[0], "--article", str(article), "--json", *model).out
    )
    assert {k: explained[k] for k in ("label", "score", "uncertain")} == {
        k: row[k] for k in ("label", "score", "uncertain")
    }
    alone = json.loads(cli("explain", lines[0], "--json", *model).out)
    assert alone["score"] != row["score"]
