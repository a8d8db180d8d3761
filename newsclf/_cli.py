"""The ``newsclf`` command.

Every input record yields exactly one output record, in order.  A record
that cannot be classified (invalid JSON or UTF-8, a missing or non-string
text field) yields an *error record* with its line number and the reason;
processing goes on and the exit status is 1 at the end, with a one-line
summary on stderr.  Usage errors, missing files and bad models exit with 2.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from newsclf._errors import NewsclfError

__all__ = ["main"]

#: Records read, classified and written per batch: output is flushed after
#: each, so memory stays constant and ``| head`` sees results early.
BATCH = 1024
RESULT_KEYS = ("label", "score", "scores", "uncertain")
_INVALID_UTF8_RE = re.compile("[\udc80-\udcff]")
_COLOURS = {
    "military": "\033[31m",
    "diplomacy": "\033[34m",
    "humanitarian": "\033[32m",
    "boilerplate": "\033[90m",
}
_EXAMPLES = {
    "classify": "examples:\n  newsclf classify examples/article-ar.txt\n"
    "  newsclf classify --text-field body < feed.jsonl > labeled.jsonl",
    "strip": "example:\n  newsclf strip article.txt > article.clean.txt",
    "explain": 'example:\n  newsclf explain "اشترك الآن واحصل على شهر مجاني"',
    "info": "example:\n  newsclf info --model models/newsclf-ar",
    "evaluate": "example:\n  newsclf evaluate --data test.jsonl --plots report/",
}


class UsageError(Exception):
    """A problem with the command line or its files: exit status 2."""


# --- reading records ------------------------------------------------------


@dataclass
class Record:
    """One input record: where it came from and either a text or an error."""

    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    error: str | None = None
    source: str | None = None
    is_text: bool = False  # from a plain-text article (one record per paragraph)


def _open_input(path: str) -> IO[str]:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape")
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    return open(path, encoding="utf-8", errors="surrogateescape", newline="")


def _input_format(path: str, forced: str | None) -> str:
    if forced:
        return forced
    name = path.lower()
    for ext, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".csv", "csv"), (".tsv", "tsv")):
        if name.endswith(ext):
            return fmt
    return "text"


def _invalid_utf8(value: str) -> bool:
    return _INVALID_UTF8_RE.search(value) is not None


def _read_text(f: IO[str], source: str) -> Iterator[Record]:
    """One record per non-blank line: each line of an article is a paragraph."""
    from newsclf._paragraphs import split_paragraphs

    index = 0
    for line_no, line in enumerate(f, 1):
        if _invalid_utf8(line):
            yield Record(
                line_no,
                {"index": index},
                error="invalid UTF-8 byte sequence",
                source=source,
                is_text=True,
            )
            index += 1
            continue
        for para in split_paragraphs(line):
            yield Record(line_no, {"index": index}, text=para, source=source, is_text=True)
            index += 1


def _read_jsonl(f: IO[str], text_field: str, source: str) -> Iterator[Record]:
    for line_no, line in enumerate(f, 1):
        if not line.strip():
            continue
        if _invalid_utf8(line):
            yield Record(line_no, error="invalid UTF-8 byte sequence", source=source)
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield Record(line_no, error=f"invalid JSON: {e.msg} at column {e.colno}", source=source)
            continue
        if not isinstance(obj, dict):
            yield Record(
                line_no, error=f"expected a JSON object, found {type(obj).__name__}", source=source
            )
            continue
        yield _with_text(Record(line_no, obj, source=source), text_field)


def _read_delimited(f: IO[str], text_field: str, delimiter: str, source: str) -> Iterator[Record]:
    reader = csv.DictReader(f, delimiter=delimiter)
    for row in reader:
        line_no = reader.line_num
        if any(_invalid_utf8(str(v)) for v in row.values() if v is not None):
            yield Record(line_no, error="invalid UTF-8 byte sequence", source=source)
            continue
        yield _with_text(Record(line_no, dict(row), source=source), text_field)


def _with_text(rec: Record, text_field: str) -> Record:
    value = rec.fields.get(text_field)
    if text_field not in rec.fields:
        rec.error = f"missing text field {text_field!r}"
    elif not isinstance(value, str):
        rec.error = f"text field {text_field!r} is {type(value).__name__}, expected a string"
    else:
        rec.text = value
    return rec


def _records(paths: Sequence[str], args: argparse.Namespace) -> Iterator[Record]:
    for path in paths:
        fmt = _input_format(path, args.input_format)
        source = None if path == "-" else path
        with _open_input(path) as f:
            if fmt == "text":
                yield from _read_text(f, source or "-")
            elif fmt == "jsonl":
                yield from _read_jsonl(f, args.text_field, source or "-")
            else:
                yield from _read_delimited(
                    f, args.text_field, "\t" if fmt == "tsv" else ",", source or "-"
                )


def _batched(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- writing results ------------------------------------------------------


class _Writer:
    """Writes result dicts as JSONL, CSV or a terminal table.

    JSONL and the table stream out as they come.  CSV needs its header
    first, and records may differ in their keys (an error record has
    ``line`` and ``error``, another record an extra field): so CSV rows go
    to a temporary spool file while the union of all keys is collected, and
    :meth:`close` writes the header that covers every key, then every row.
    Memory stays constant; nothing is dropped.
    """

    def __init__(self, out: IO[str], fmt: str, colour: bool) -> None:
        self.out, self.fmt, self.colour = out, fmt, colour
        self._keys: dict[str, None] = {}
        self._spool: IO[str] | None = None

    def write(self, row: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.out.write(_dumps(row) + "\n")
        elif self.fmt == "csv":
            if self._spool is None:
                import tempfile

                self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")
            self._keys.update(dict.fromkeys(row))
            self._spool.write(_dumps(row) + "\n")
        else:
            self.out.write(self._table_row(row) + "\n")

    def close(self) -> None:
        """Write what is spooled (CSV); nothing to do for the other formats."""
        if self._spool is None:
            return
        spool, self._spool = self._spool, None
        writer = csv.DictWriter(self.out, fieldnames=list(self._keys), restval="")
        writer.writeheader()
        spool.seek(0)
        for line in spool:
            row = json.loads(line)
            writer.writerow(
                {
                    k: _dumps(v) if isinstance(v, dict | list) else v
                    for k, v in row.items()
                }
            )
        spool.close()

    def _table_row(self, row: dict[str, Any]) -> str:
        where = f"{row.get('line', '')}" if "index" not in row else f"¶{row['index']}"
        if "error" in row:
            return f"{where:>6}  ERROR {row['error']}"
        label = str(row.get("label", row.get("newsclf_label", "")))
        score = row.get("score", row.get("newsclf_score", 0.0))
        flag = "?" if row.get("uncertain", row.get("newsclf_uncertain")) else " "
        shown = f"{label:<12}"
        if self.colour:
            shown = f"{_COLOURS.get(label, '')}{shown}\033[0m"
        text = str(row.get("text", ""))
        if len(text) > 90:
            text = text[:89] + "…"
        # Arabic is left as is: the terminal's own bidi algorithm renders it.
        return f"{where:>6}  {shown} {score:.2f}{flag}  {text}"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _result_row(rec: Record, pred: Any, collisions: set[str]) -> dict[str, Any]:
    is_text = rec.is_text
    row: dict[str, Any] = {}
    if rec.source is not None and is_text:
        row["file"] = rec.source
    row.update(rec.fields)
    if is_text and rec.text is not None:
        row["text"] = rec.text
    if rec.error is not None:
        row["line"] = rec.line
        row["error"] = rec.error
        return row
    result = pred.to_dict()
    for key in RESULT_KEYS:
        target = key if key not in rec.fields or is_text else f"newsclf_{key}"
        if target != key:
            collisions.add(key)
        row[target] = result[key]
    return row


# --- commands --------------------------------------------------------------


def _load_model(path: str | None) -> Any:
    from newsclf._model import load

    try:
        return load(path)
    except NewsclfError as e:
        raise UsageError(f"cannot load model: {e}") from e


def _progress(args: argparse.Namespace, paths: Sequence[str]) -> Any:
    show = args.progress
    if show is None:
        show = sys.stderr.isatty() and all(p != "-" for p in paths)
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(unit=" records", file=sys.stderr, dynamic_ncols=True)


def cmd_classify(args: argparse.Namespace) -> int:
    paths = args.files or ["-"]
    for p in paths:
        if p != "-" and not os.path.isfile(p):
            raise UsageError(f"{p}: no such file")
    clf = _load_model(args.model)
    out = sys.stdout
    fmt = args.format or ("table" if out.isatty() else "jsonl")
    writer = _Writer(out, fmt, colour=fmt == "table" and out.isatty())
    bar = _progress(args, paths)
    collisions: set[str] = set()
    # With --jobs N, each chunk holds 4N model batches for the N workers.
    chunk = args.batch_size * (1 if args.jobs == 1 else 4 * args.jobs)
    try:
        total, failed, first_error = _classify_batches(
            clf, args, paths, chunk, writer, bar, collisions
        )
    finally:
        writer.close()
        out.flush()
    if bar is not None:
        bar.close()
    if collisions:
        print(
            f"newsclf: input already had fields {sorted(collisions)}; results are in "
            f"{sorted('newsclf_' + k for k in collisions)}",
            file=sys.stderr,
        )
    if failed:
        print(
            f"newsclf: {failed} of {total} records failed (first: {first_error})", file=sys.stderr
        )
        return 1
    return 0


def _classify_batches(
    clf: Any,
    args: argparse.Namespace,
    paths: Sequence[str],
    chunk: int,
    writer: _Writer,
    bar: Any,
    collisions: set[str],
) -> tuple[int, int, str]:
    """Classify and write every record; ``(records, failed, first error)``."""
    total = failed = 0
    first_error = ""
    out = writer.out
    for batch in _batched(_records(paths, args), chunk):
        good = [r for r in batch if r.error is None]
        preds = iter(
            clf.classify_many(
                [r.text for r in good],
                threshold=args.threshold,
                batch_size=args.batch_size,
                n_jobs=args.jobs,
            )
        )
        for rec in batch:
            pred = next(preds) if rec.error is None else None
            if rec.error is not None:
                failed += 1
                first_error = first_error or f"line {rec.line}: {rec.error}"
            writer.write(_result_row(rec, pred, collisions))
        total += len(batch)
        out.flush()
        if bar is not None:
            bar.update(len(batch))
    return total, failed, first_error


def cmd_strip(args: argparse.Namespace) -> int:
    from newsclf._paragraphs import split_paragraphs

    path = args.file or "-"
    clf = _load_model(args.model)
    with _open_input(path) as f:
        lines = f.readlines()
    bad = [i + 1 for i, line in enumerate(lines) if _invalid_utf8(line)]
    if bad:
        raise UsageError(f"{path}: invalid UTF-8 byte sequence on line {bad[0]}")
    paras = [(i, p[0]) for i, line in enumerate(lines) if (p := split_paragraphs(line))]
    preds = clf.classify_many([p for _, p in paras], threshold=args.threshold)
    drop = set()
    for (i, _), pred in zip(paras, preds, strict=True):
        if pred.label == "boilerplate" and not (args.keep_uncertain and pred.uncertain):
            drop.add(i)
    previous_blank = True
    for i, line in enumerate(lines):
        if i in drop:
            continue
        blank = not line.strip()
        if blank and previous_blank:
            continue  # a removed paragraph leaves no run of blank lines behind
        sys.stdout.write(line if line.endswith("\n") else line + "\n")
        previous_blank = blank
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from newsclf._evaluate import top_features

    text = args.text if args.text is not None else sys.stdin.read()
    clf = _load_model(args.model)
    pred = clf.classify(text, threshold=args.threshold)
    (top,) = top_features(clf, [text], [clf.labels.index(pred.label)], k=args.top)
    if args.json:
        print(json.dumps({**pred.to_dict(), "features": top}, ensure_ascii=False))
        return 0
    from newsclf._normalize import normalize

    print(
        f"label: {pred.label}  score: {pred.score:.3f}{'  (uncertain)' if pred.uncertain else ''}"
    )
    print("scores: " + "  ".join(f"{lab} {p:.3f}" for lab, p in pred.scores.items()))
    print(f"normalized: {normalize(text)}")
    print(f"n-grams pushing towards {pred.label}:")
    for name, value in top:
        print(f"  {value:+.3f}  {name}")
    if not top:
        print("  (none: no known n-gram in the text; the scores are the model's prior)")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    clf = _load_model(args.model)
    meta = dict(clf.metadata)
    if args.json:
        print(json.dumps(meta, ensure_ascii=False, indent=2))
        return 0
    m, td = meta["metrics"], meta["training_data"]
    print(
        f"model:      {meta['name']} (format {meta['format_version']}, created {meta['created']})"
    )
    print(f"labels:     {', '.join(meta['labels'])}")
    print(f"threshold:  {meta['uncertainty_threshold']}")
    print(
        f"data:       {td.get('n_train')} train / {td.get('n_test')} held out, "
        f"sha256 {td.get('sha256', '')[:16]}…"
    )
    if m:
        print(
            f"held-out:   macro-F1 {m['macro_f1']:.3f}, accuracy {m['accuracy']:.3f}, "
            f"ECE {m['ece']:.3f}"
        )
        for source, s in m.get("by_source", {}).items():
            print(f"  {source:10s} macro-F1 {s['macro_f1']:.3f}, n={s['n']}")
    print("versions:   " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from newsclf._train import run

    return run(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from newsclf._data import read_records
    from newsclf._evaluate import evaluate, write_plots

    clf = _load_model(args.model)
    records = [
        r
        for path in args.data
        for r in read_records(path, text_field=args.text_field, label_field=args.label_field)
    ]
    report = evaluate(clf, records, threshold=args.threshold, n_errors=args.errors)
    if args.plots:
        report["plots"] = [str(p) for p in write_plots(report, args.plots)]
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(_format_report(report))
    return 0


def _format_report(report: dict[str, Any]) -> str:
    out = [f"{report['n']} paragraphs with the model's labels"]
    line = f"accuracy {report['accuracy']:.3f}  macro-F1 {report['macro_f1']:.3f}  "
    line += f"ECE {report['ece']:.3f}"
    if "acceptable_accuracy" in report:
        line += f"  acceptable accuracy {report['acceptable_accuracy']:.3f}"
    out.append(line)
    for lab, s in report["per_label"].items():
        out.append(
            f"  {lab:14s} P {s['precision']:.3f}  R {s['recall']:.3f}  F1 {s['f1']:.3f}  "
            f"n={s['support']}"
        )
    labels = report["confusion"]["labels"]
    out.append("confusion (rows: true, columns: predicted):")
    out.append(" " * 16 + " ".join(f"{lab[:10]:>10}" for lab in labels))
    for lab, row in zip(labels, report["confusion"]["matrix"], strict=True):
        out.append(f"  {lab:14s}" + " ".join(f"{v:>10}" for v in row))
    for key in ("by_source", "by_outlet"):
        for name, s in report.get(key, {}).items():
            out.append(
                f"  {key[3:]} {name:12s} macro-F1 {s['macro_f1']:.3f}  "
                f"accuracy {s['accuracy']:.3f}  n={s['n']}"
            )
    oos = report["out_of_scope"]
    out.append(
        f"threshold {report['threshold']}: {report['uncertain_share']:.1%} of in-scope "
        f"paragraphs uncertain"
        + (
            f"; {oos['uncertain_share']:.1%} of {oos['n']} out-of-scope {oos['labels']} flagged"
            if oos["n"]
            else ""
        )
    )
    out.append("  threshold  coverage  accuracy-covered  out-of-scope-flagged")
    for c in report["coverage_curve"]:
        out.append(
            f"  {c['threshold']:9.2f}  {c['coverage']:8.3f}  {c['accuracy_covered']:16.3f}  "
            f"{c['out_of_scope_flagged']:20.3f}"
        )
    if report["errors"]:
        out.append("most confident errors (true -> predicted, score, n-grams behind it):")
        for e in report["errors"]:
            feats = ", ".join(f"{n} {v:+.2f}" for n, v in e["features"])
            out.append(f"  {e['label']} -> {e['predicted']} {e['score']:.2f}  [{feats}]")
            out.append(f"      {e['text'][:150]}")
    for p in report.get("plots", []):
        out.append(f"wrote {p}")
    return "\n".join(out)


# --- parser ---------------------------------------------------------------


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return n


def _threshold(value: str) -> float:
    t = float(value)
    if not 0.0 <= t <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value}")
    return t


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(
        prog="newsclf",
        description="Say what each paragraph of Arabic news is about: military, diplomacy, "
        "humanitarian or boilerplate.",
        epilog="Run 'newsclf COMMAND --help' for each command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"newsclf {version('newsclf')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help_, description=help_, formatter_class=fmt, epilog=_EXAMPLES.get(name)
        )

    def model_opts(p: argparse.ArgumentParser, threshold: bool = True) -> None:
        p.add_argument("--model", metavar="PATH", help="trained artifact (default: bundled)")
        if threshold:
            p.add_argument(
                "--threshold",
                type=_threshold,
                default=None,
                help="uncertainty cut (default: the model's own)",
            )

    p = add("classify", "Classify paragraphs of articles (text) or records (JSONL/CSV/TSV).")
    p.add_argument("files", nargs="*", metavar="FILE", help="input files; '-' or none: stdin")
    p.add_argument(
        "--input-format",
        choices=["text", "jsonl", "csv", "tsv"],
        help="default: from the extension; stdin is text",
    )
    p.add_argument("--text-field", default="text", help="field holding the text (records)")
    p.add_argument(
        "--format",
        choices=["jsonl", "csv", "table"],
        help="default: table on a terminal, jsonl otherwise",
    )
    p.add_argument("--batch-size", type=_positive, default=BATCH, help=argparse.SUPPRESS)
    p.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        metavar="N",
        help="worker processes scoring batches (default 1)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    model_opts(p)
    p.set_defaults(func=cmd_classify)

    p = add("strip", "Print an article without its boilerplate paragraphs.")
    p.add_argument("file", nargs="?", metavar="FILE", help="article text; '-' or none: stdin")
    p.add_argument(
        "--keep-uncertain",
        action="store_true",
        help="keep boilerplate paragraphs the model is unsure of",
    )
    model_opts(p)
    p.set_defaults(func=cmd_strip)

    p = add("explain", "Show a prediction and the n-grams that pushed it there.")
    p.add_argument("text", nargs="?", help="the text (default: stdin)")
    p.add_argument("--top", type=int, default=10, help="how many n-grams")
    p.add_argument("--json", action="store_true")
    model_opts(p)
    p.set_defaults(func=cmd_explain)

    p = add("info", "Show a model's labels, versions, data hash and held-out metrics.")
    p.add_argument("--json", action="store_true")
    model_opts(p, threshold=False)
    p.set_defaults(func=cmd_info)

    from newsclf._train import build_parser as train_parser

    p = add("train", "Train a model on labeled paragraphs.")
    train_parser(p)
    p.epilog = "example:\n  newsclf train --data labeled.jsonl --out models/mine"
    p.set_defaults(func=cmd_train)

    p = add("evaluate", "Score a model on labeled paragraphs.")
    p.add_argument(
        "--data",
        nargs="+",
        required=True,
        metavar="FILE",
        help="labeled JSONL/CSV/TSV/Parquet; labels the model lacks (e.g. none) "
        "measure out-of-scope behaviour",
    )
    p.add_argument("--text-field", default="text")
    p.add_argument("--label-field", default="label")
    p.add_argument(
        "--plots", metavar="DIR", help="write confusion.png, reliability.png and coverage.png there"
    )
    p.add_argument("--errors", type=int, default=15, help="how many worst errors to list")
    p.add_argument("--json", action="store_true")
    model_opts(p)
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``newsclf`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as e:
        print(f"newsclf: error: {e}", file=sys.stderr)
        return 2
    except NewsclfError as e:
        print(f"newsclf: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, without a traceback
        # when Python flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
