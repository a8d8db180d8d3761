"""The newsclf command, driven as a user drives it: the installed entry point in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXE = shutil.which("newsclf", path=os.path.dirname(sys.executable)) or shutil.which("newsclf")
ARTICLE = (
    "وزير الخارجية يستقبل نظيره التركي ويبحثان تعزيز العلاقات الثنائية\n\n"
    "قصفت المدفعية الثقيلة مواقع المسلحين قرب الحدود\n"
    "• اشترك الآن واحصل على شهر مجاني من التغطية الحصرية\n\n"
    "حذر برنامج الأغذية العالمي من خطر المجاعة على ملايين النازحين\n"
)


def run(
    *args: str, stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    assert EXE, "the newsclf entry point is not installed"
    return subprocess.run([EXE, *args], input=stdin, capture_output=True, timeout=timeout)


def jsonl(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode("utf-8").splitlines()]


def test_version_and_help() -> None:
    assert run("--version").stdout.decode().startswith("newsclf ")
    for command in ("classify", "strip", "explain", "info", "train", "evaluate"):
        out = run(command, "--help")
        assert out.returncode == 0
        assert "example" in out.stdout.decode()


def test_classify_article_file(tmp_path: Path) -> None:
    """A text article gives one record per paragraph, in order, with label and scores."""
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    out = run("classify", str(path))
    assert out.returncode == 0, out.stderr
    rows = jsonl(out.stdout)
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    assert [r["label"] for r in rows] == ["diplomacy", "military", "boilerplate", "humanitarian"]
    assert rows[2]["text"] == "اشترك الآن واحصل على شهر مجاني من التغطية الحصرية"
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-6 for r in rows)


def test_classify_stdin_and_table_and_csv() -> None:
    out = run("classify", "--format", "table", stdin=ARTICLE.encode())
    assert out.returncode == 0 and len(out.stdout.decode().splitlines()) == 4
    out = run("classify", "--format", "csv", stdin=ARTICLE.encode())
    rows = list(csv.DictReader(io.StringIO(out.stdout.decode())))
    assert [r["label"] for r in rows][2] == "boilerplate" and len(rows) == 4


def test_jsonl_records_errors_and_passthrough(tmp_path: Path) -> None:
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
    out = run("classify", str(path))
    assert out.returncode == 1
    rows = jsonl(out.stdout)
    assert len(rows) == len(lines)
    assert (
        rows[0]["id"] == 1 and rows[0]["extra"] == {"k": [1]} and rows[0]["label"] == "boilerplate"
    )
    assert rows[1] == {"line": 2, "error": rows[1]["error"]} and "invalid JSON" in rows[1]["error"]
    assert rows[2]["id"] == 3 and "missing text field" in rows[2]["error"]
    assert rows[3]["id"] == 4 and "is int" in rows[3]["error"]
    assert rows[4]["line"] == 5 and "invalid UTF-8" in rows[4]["error"]
    assert rows[5]["label"] == "gold" and rows[5]["newsclf_label"] == "military"
    assert "expected a JSON object" in rows[6]["error"]
    assert "5 of 7 records failed" in out.stderr.decode()


def test_csv_and_tsv_records_keep_their_columns(tmp_path: Path) -> None:
    for ext, sep in (("csv", ","), ("tsv", "\t")):
        path = tmp_path / f"in.{ext}"
        path.write_text(
            f"id{sep}body\n7{sep}اشترك الآن\n8{sep}قصف مدفعي للمواقع\n", encoding="utf-8"
        )
        out = run("classify", str(path), "--text-field", "body")
        assert out.returncode == 0, out.stderr
        rows = jsonl(out.stdout)
        assert [(r["id"], r["label"]) for r in rows] == [("7", "boilerplate"), ("8", "military")]


def test_missing_file_and_bad_model_exit_2(tmp_path: Path) -> None:
    out = run("classify", str(tmp_path / "absent.txt"))
    assert out.returncode == 2 and b"no such file" in out.stderr
    out = run("classify", "--model", str(tmp_path), stdin=b"x")
    assert out.returncode == 2 and b"cannot load model" in out.stderr
    assert b"Traceback" not in out.stderr


def test_head_on_a_large_stream_terminates_promptly(tmp_path: Path) -> None:
    """`newsclf classify big.jsonl | head -n 1` ends soon, quietly, without reading it all."""
    path = tmp_path / "big.jsonl"
    row = json.dumps({"text": "قصفت المدفعية الثقيلة مواقع المسلحين"}, ensure_ascii=False)
    path.write_text((row + "\n") * 300_000, encoding="utf-8")
    start = time.monotonic()
    proc = subprocess.run(
        f"'{EXE}' classify '{path}' | head -n 1", shell=True, capture_output=True, timeout=120
    )
    elapsed = time.monotonic() - start
    assert json.loads(proc.stdout)["label"] == "military"
    assert b"Traceback" not in proc.stderr and b"Error" not in proc.stderr
    assert elapsed < 60  # a generous bound: reading everything first would take far longer


def test_strip_removes_boilerplate_and_keeps_breaks(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    out = run("strip", str(path))
    assert out.returncode == 0
    assert out.stdout.decode() == (
        "وزير الخارجية يستقبل نظيره التركي ويبحثان تعزيز العلاقات الثنائية\n\n"
        "قصفت المدفعية الثقيلة مواقع المسلحين قرب الحدود\n\n"
        "حذر برنامج الأغذية العالمي من خطر المجاعة على ملايين النازحين\n"
    )


def test_explain_and_info() -> None:
    out = run("explain", "--json", "اشترك الآن واحصل على شهر مجاني")
    result = json.loads(out.stdout)
    assert result["label"] == "boilerplate"
    assert result["features"] and all(value > 0 for _, value in result["features"])
    info = json.loads(run("info", "--json").stdout)
    assert info["labels"] == ["boilerplate", "diplomacy", "humanitarian", "military"]


def test_train_then_evaluate(tmp_path: Path, records: list[dict]) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    out = run("train", "--data", str(data), "--out", str(tmp_path / "m"), timeout=300)
    assert out.returncode == 0, out.stderr
    assert b"held-out macro-F1" in out.stdout
    ev = run("evaluate", "--data", str(data), "--model", str(tmp_path / "m"), "--json")
    assert ev.returncode == 0
    assert json.loads(ev.stdout)["n"] == len(records)


@pytest.mark.parametrize("args", [["train", "--data", "/nonexistent.jsonl", "--out", "/tmp/x"]])
def test_train_bad_data_exit_2(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2 and b"no such file" in out.stderr


def test_evaluate_writes_plots(tmp_path: Path, records: list[dict]) -> None:
    data = tmp_path / "test.jsonl"
    rows = [*records[:150], {"text": "فاز الفريق بالمباراة", "label": "none"}]
    data.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    out = run("evaluate", "--data", str(data), "--plots", str(tmp_path / "report"))
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "macro-F1" in text and "out-of-scope" in text and "coverage" in text
    assert (tmp_path / "report" / "reliability.png").is_file()


def test_train_streaming_and_classify_with_jobs(tmp_path: Path, records: list[dict]) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    out = run(
        "train",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "s"),
        "--streaming",
        "--epochs",
        "2",
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE * 50, encoding="utf-8")
    one = run("classify", str(article), "--model", str(tmp_path / "s"))
    two = run(
        "classify",
        str(article),
        "--model",
        str(tmp_path / "s"),
        "--jobs",
        "2",
        "--batch-size",
        "16",
    )
    assert two.returncode == 0, two.stderr
    assert jsonl(two.stdout) == jsonl(one.stdout) and len(jsonl(one.stdout)) == 200


def test_progress_bar_only_when_asked_in_a_pipe(tmp_path: Path) -> None:
    """In a pipe stderr stays quiet unless --progress asks for a bar."""
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    assert run("classify", str(path)).stderr == b""
    assert b"records" in run("classify", str(path), "--progress").stderr


def test_csv_output_keeps_every_record_and_field(tmp_path: Path, capsys, model_dir: Path) -> None:
    """Regression: --format csv took its header from the first row and dropped later keys."""
    from newsclf._cli import main

    path = tmp_path / "m.jsonl"
    rows = [
        "{oops",
        json.dumps({"text": "قصفت المدفعية مواقع المسلحين"}, ensure_ascii=False),
        json.dumps({"id": "a2", "text": 42}),
        json.dumps({"id": "a3", "text": "اشترك الآن", "label": "gold"}, ensure_ascii=False),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["classify", "--format", "csv", "--model", str(model_dir), str(path)]) == 1
    got = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(got) == 4
    assert got[0]["line"] == "1" and "invalid JSON" in got[0]["error"]
    assert got[1]["label"] == "military" and json.loads(got[1]["scores"])["military"] > 0.5
    assert got[2]["id"] == "a2" and got[2]["text"] == "42" and "is int" in got[2]["error"]
    assert got[3]["label"] == "gold" and got[3]["newsclf_label"] == "boilerplate"
    assert {"uncertain", "score", "newsclf_label"} <= set(got[0])
