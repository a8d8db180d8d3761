"""The ``newsclf`` command.

Every input record yields exactly one output record, in order.  A record
that cannot be classified (see :mod:`newsclf._records`: invalid JSON or
UTF-8, a malformed CSV row, a missing or non-string text field) yields an
*error record* with its line and the reason; processing goes on, and a
one-line summary goes to stderr at the end.

Exit status:

- 0: every record was classified;
- 1: some records failed (each gave an error record);
- 2: the command could not run: a usage error, a missing or unreadable
  file, a bad model, an output that cannot be written.  One line on
  stderr says why; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import stat
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from newsclf._argtypes import Parser, fraction, integer, jobs
from newsclf._errors import NewsclfError
from newsclf._records import (
    FORMATS,
    MAX_ARTICLE,
    Record,
    UsageError,
    Writer,
    article_contexts,
    articles,
    check_inputs,
    classify_jsonl_block,
    input_format,
    invalid_utf8,
    looks_like_records,
    raw_blocks,
    read_lines,
    read_records,
    write_results,
)

if TYPE_CHECKING:
    from newsclf._model import Classifier

__all__ = ["main"]

T = TypeVar("T")

#: Records read, classified and written per batch: output is flushed after
#: each, so memory stays constant and ``| head`` sees results early.
BATCH = 1024
EXIT_STATUS = """exit status:
  0  every record classified
  1  some records failed: each gave an error record (line and reason)
  2  could not run: usage error, missing file, bad model, I/O error"""
_EXAMPLES = {
    "classify": "examples:\n  newsclf classify examples/article-ar.txt\n"
    "  newsclf classify --input-format jsonl --text-field body < feed.jsonl > labeled.jsonl",
    "strip": "example:\n  newsclf strip article.txt > article.clean.txt",
    "explain": 'example:\n  newsclf explain "اشترك الآن واحصل على شهر مجاني"',
    "info": "example:\n  newsclf info --model models/newsclf-ar",
    "train": "example:\n  newsclf train --data labeled.jsonl --out models/mine",
    "evaluate": "example:\n  newsclf evaluate --data test.jsonl --plots report/",
    "serve": "example:\n  newsclf serve --port 8000",
}


class _Progress(Protocol):
    def update(self, n: int) -> object: ...
    def close(self) -> object: ...


def _default_model() -> str:
    from newsclf._model import bundled_model_path

    return str(bundled_model_path())


def _load_model(path: str | None) -> Classifier:
    from newsclf import load

    try:
        return load(path)
    except NewsclfError as e:
        raise UsageError(f"cannot load model: {e}") from e


def _check_writable(folder: str | os.PathLike[str]) -> None:
    """Fail now, before any long work, when nothing can be written in
    ``folder`` (or, while it does not exist, in the folder it would be made in)."""
    where = Path(folder).absolute()
    while not where.exists():
        where = where.parent
    try:
        os.rmdir(tempfile.mkdtemp(dir=where, prefix=".newsclf-check-"))
    except OSError as e:
        raise UsageError(f"cannot write in {where}: {e.strerror}") from None


def _check_not_reading_the_output(paths: Sequence[str]) -> None:
    """Refuse an input that is the file stdout writes to (``classify f >> f``
    would read its own output, on and on), as ``cat`` does."""
    try:
        out = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return  # no file descriptor (a library caller's stream)
    if not stat.S_ISREG(out.st_mode):
        return
    for path in paths:
        try:
            st = os.fstat(sys.stdin.fileno()) if path == "-" else os.stat(path)
        except (OSError, ValueError, AttributeError):
            continue
        if os.path.samestat(st, out):
            raise UsageError(
                f"{'stdin' if path == '-' else path}: input file is the output file "
                "(classify would read its own output); write the output elsewhere"
            )


def _progress(args: argparse.Namespace, paths: Sequence[str]) -> _Progress | None:
    show = args.progress
    if show is None:
        show = sys.stderr.isatty() and all(p != "-" for p in paths)
    if not show:
        return None
    from tqdm import tqdm

    bar: _Progress = tqdm(unit=" records", file=sys.stderr, dynamic_ncols=True)
    return bar


# --- commands --------------------------------------------------------------


def cmd_classify(args: argparse.Namespace) -> int:
    from newsclf._parallel import check_n_jobs

    paths = args.files or ["-"]
    check_inputs(paths)
    args.jobs = check_n_jobs(args.jobs)  # at most the CPUs, on every path
    fields = {"--text-field": args.text_field, "--article-field": args.article_field}
    given = [option for option, value in fields.items() if value is not None]
    if given and all(input_format(p, args.input_format) == "text" for p in paths):
        raise UsageError(
            f"{given[0]} names a field of records, but the input is read as text "
            "(stdin and files without a .jsonl/.csv/.tsv name are): add --input-format jsonl "
            "(or csv, tsv)"
        )
    _check_not_reading_the_output(paths)
    clf = _load_model(args.model)
    out = sys.stdout
    fmt = args.format or ("table" if out.isatty() else "jsonl")
    writer = Writer(out, fmt, colour=fmt == "table" and out.isatty(), several=len(paths) > 1)
    bar = _progress(args, paths)
    parallel_jsonl = (
        args.jobs > 1
        and fmt == "jsonl"
        and args.article_field is None
        and all(input_format(p, args.input_format) == "jsonl" for p in paths)
    )
    try:
        if parallel_jsonl:
            total, failed, first_error = _classify_jsonl_in_workers(clf, args, paths, writer, bar)
        else:
            total, failed, first_error = _classify_records(clf, args, paths, writer, bar)
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    if writer.collisions:
        keys = sorted({key for key, _ in writer.collisions})
        names = sorted({name for _, name in writer.collisions})
        print(
            f"newsclf: input already had fields {keys}; newsclf's are in {names}",
            file=sys.stderr,
        )
    if failed:
        print(
            f"newsclf: {failed} of {total} records failed (first: {first_error})", file=sys.stderr
        )
        return 1
    return 0


def _classify_records(
    clf: Classifier,
    args: argparse.Namespace,
    paths: Sequence[str],
    writer: Writer,
    bar: _Progress | None,
) -> tuple[int, int, str]:
    """Read, classify and write every record, whole articles at a time (each
    paragraph read with its article); ``(records, failed, first error)``."""
    refused: list[UsageError] = []
    suspects: list[str] = []
    columns: list[str] = []
    read = read_records(paths, args.input_format, _text_field(args), suspects, columns)
    records = _until_refused(read, refused)
    cut: list[str] = []
    groups = articles(records, args.article_field, cut)
    # With --jobs N, each chunk holds 4N model batches for the N processes.
    chunk = args.batch_size * (1 if args.jobs == 1 else 4 * args.jobs)
    total = failed = 0
    first_error = ""
    field_seen = args.article_field is None
    while batch_groups := _take_records(groups, chunk):
        batch = [r for g in batch_groups for r in g]
        field_seen = field_seen or any(r.is_text or args.article_field in r.fields for r in batch)
        contexts = [c for g in batch_groups for c in article_contexts(g)]
        good = [i for i, r in enumerate(batch) if r.text is not None]
        preds = clf.classify_many(
            [batch[i].text or "" for i in good],
            contexts=[contexts[i] for i in good],
            threshold=args.threshold,
            batch_size=args.batch_size,
            n_jobs=args.jobs,
        )
        bad, first = write_results(writer, batch, preds)
        failed, first_error = failed + bad, first_error or first
        total += len(batch)
        writer.out.flush()
        if bar is not None:
            bar.update(len(batch))
    if not field_seen and total:
        print(
            f"newsclf: warning: no record has the field {args.article_field!r} "
            "(--article-field): each was read alone, without its article",
            file=sys.stderr,
        )
    writer.declare(columns)
    if cut:
        _warn_long_articles(len(cut), cut[0])
    for suspect in suspects:
        _warn_read_as_text(suspect, "add --input-format jsonl (or csv, tsv)")
    _raise_refused(refused, total, failed, first_error)
    return total, failed, first_error


def _warn_read_as_text(suspect: str, way_out: str) -> None:
    print(
        f"newsclf: warning: {suspect} was read as a text article, one paragraph per line: "
        f"for records, {way_out}",
        file=sys.stderr,
    )


def _warn_long_articles(count: int, first: str) -> None:
    print(
        f"newsclf: warning: {count} article(s) hold more than {MAX_ARTICLE} paragraphs "
        f"(first: {first}): each was read in runs of {MAX_ARTICLE}",
        file=sys.stderr,
    )


def _until_refused(items: Iterator[T], refused: list[UsageError]) -> Iterator[T]:
    """``items`` until an input is refused as a whole (not UTF-8 text, a bad
    CSV header): the error goes into ``refused``, raised by
    :func:`_raise_refused` once everything read before it is written --
    whatever ``--jobs``."""
    try:
        yield from items
    except UsageError as e:
        refused.append(e)


def _raise_refused(
    refused: list[UsageError], written: int, failed: int = 0, first_error: str = ""
) -> None:
    """Raise the refusal of an input, saying what was written before it (and
    how many of those records failed: the summary line it replaces)."""
    if not refused:
        return
    if not written:
        raise refused[0]
    before = "the record before it was" if written == 1 else f"the {written} records before it were"
    failures = f"; {failed} of them failed (first: {first_error})" if failed else ""
    raise UsageError(f"{refused[0]} ({before} written{failures})")


def _text_field(args: argparse.Namespace) -> str:
    """The records' text field: ``--text-field`` (``""`` included), else ``text``."""
    return "text" if args.text_field is None else str(args.text_field)


def _take_records(groups: Iterator[list[Record]], size: int) -> list[list[Record]]:
    """Whole articles from ``groups`` until they hold at least ``size`` records."""
    taken: list[list[Record]] = []
    count = 0
    while count < size and (group := next(groups, None)) is not None:
        taken.append(group)
        count += len(group)
    return taken


def _classify_jsonl_in_workers(
    clf: Classifier,
    args: argparse.Namespace,
    paths: Sequence[str],
    writer: Writer,
    bar: _Progress | None,
) -> tuple[int, int, str]:
    """``--jobs N`` on JSONL in and out: N - 1 workers split, parse, classify
    and format blocks of raw bytes; this process reads and writes, and does
    the same whenever it would otherwise wait."""
    from newsclf._parallel import tune_allocator

    tune_allocator()  # this process is newsclf's own: it works as a worker does
    path, digest = clf._artifact_ref()
    refused: list[UsageError] = []
    tasks = (
        (path, digest, source, first, block, _text_field(args), args.threshold)
        for source, first, block in _until_refused(raw_blocks(paths), refused)
    )
    total = failed = 0
    first_error = ""
    pool = clf._pool(args.jobs, (path, digest))
    for text, n, bad, first, collisions in pool.map_ordered(
        classify_jsonl_block, tasks, local=classify_jsonl_block
    ):
        writer.out.write(text)
        writer.out.flush()
        writer.collisions |= collisions
        total, failed = total + n, failed + bad
        first_error = first_error or first
        if bar is not None:
            bar.update(n)
    _raise_refused(refused, total, failed, first_error)
    return total, failed, first_error


def cmd_strip(args: argparse.Namespace) -> int:
    from newsclf._paragraphs import article_context, split_paragraphs

    path = args.file or "-"
    check_inputs([path])
    if (fmt := input_format(path, None)) != "text":
        raise UsageError(
            f"strip reads an article (text), and {path} is named as {fmt.upper()} records: "
            "classify them with 'newsclf classify' and keep those whose label is not boilerplate"
        )
    clf = _load_model(args.model)
    if "boilerplate" not in clf.labels:
        raise UsageError(
            f"the model has no 'boilerplate' label (its labels: {', '.join(clf.labels)}), "
            "so strip cannot tell which paragraphs to remove"
        )
    lines = read_lines(path)
    first = next(((n, line) for n, line in enumerate(lines, 1) if line.strip()), None)
    if first is not None and (what := looks_like_records(first[1])):
        _warn_read_as_text(
            f"{path} (line {first[0]} looks like {what})",
            "classify them: newsclf classify --input-format jsonl (or csv, tsv)",
        )
    # A line is usually one paragraph; one holding a paragraph separator
    # (U+2029, a form feed ...) is several, each classified.
    per_line = [split_paragraphs(line) for line in lines]
    paras = [p for ps in per_line for p in ps]
    # As classify reads a text input: in runs of at most MAX_ARTICLE paragraphs.
    runs = [paras[start : start + MAX_ARTICLE] for start in range(0, len(paras), MAX_ARTICLE)]
    contexts = [c for run in runs for c in [article_context(run)] * len(run)]
    if len(runs) > 1:
        _warn_long_articles(1, path)
    preds = clf.classify_many(paras, contexts=contexts, threshold=args.threshold)
    dropped = [
        p.label == "boilerplate" and not (args.keep_uncertain and p.uncertain) for p in preds
    ]
    if dropped and all(dropped):
        # One paragraph of news followed by its boilerplate tail, scraped onto one
        # line, can read as boilerplate as a whole: never remove it all in silence.
        print(
            f"newsclf: warning: every paragraph of {path} ({len(dropped)}) was boilerplate: "
            "the output is empty; if news and boilerplate share a line, put each paragraph "
            "on a line of its own",
            file=sys.stderr,
        )
    previous_blank, done = True, 0
    for line, ps in zip(lines, per_line, strict=True):
        kept = [p for p, d in zip(ps, dropped[done : done + len(ps)], strict=True) if not d]
        done += len(ps)
        if ps and not kept:
            continue  # all boilerplate
        if len(kept) < len(ps):  # the paragraphs kept, each on a line ending as this one
            ending = line[len(line.rstrip("\r\n")) :] or "\n"
            line = "".join(p + ending for p in kept)
        blank = not line.strip()
        if blank and previous_blank:
            continue  # a removed paragraph leaves no run of blank lines behind
        sys.stdout.write(line if line.endswith(("\n", "\r")) else line + "\n")
        previous_blank = blank
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    text = args.text if args.text is not None else "".join(read_lines("-"))
    if invalid_utf8(text):
        raise UsageError("the text is not valid UTF-8")
    if args.article == "-" and args.text is None:
        raise UsageError("stdin cannot hold both the text and its article: give the text")
    context = None
    if args.article is not None:  # the paragraph read in its article, as classify reads it
        from newsclf._paragraphs import article_text

        context = article_text("".join(read_lines(args.article)), args.title)
    elif args.title is not None:
        raise UsageError("--title is the title of an article: give --article too")
    clf = _load_model(args.model)
    result = clf.explain(text, context=context, top=args.top, threshold=args.threshold)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, allow_nan=False))
        return 0
    from newsclf import normalize

    label = result["label"]
    uncertain = "  (uncertain)" if result["uncertain"] else ""
    print(f"label: {label}  score: {result['score']:.3f}{uncertain}")
    print("scores: " + "  ".join(f"{lab} {p:.3f}" for lab, p in result["scores"].items()))
    print(f"normalized: {normalize(text)}")
    print(f"n-grams pushing towards {label}:")
    for name, value in result["features"][label]:
        print(f"  {value:+.3f}  {name}")
    if not result["features"][label] and args.top > 0:
        print("  (none: no known n-gram in the text; the scores are the model's prior)")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from newsclf._artifact import read_metadata
    from newsclf._evaluate import format_metrics

    try:  # the metadata only: no array is read
        meta = read_metadata(args.model or _default_model())
    except NewsclfError as e:
        raise UsageError(f"cannot load model: {e}") from e
    if args.json:
        print(json.dumps(meta, ensure_ascii=False, indent=2))
        return 0
    m, td = meta["metrics"], meta["training_data"]
    try:  # informational fields a hand-edited artifact may hold in another form
        lines = [
            f"model:      {meta['name']} (format {meta['format_version']}, "
            f"created {meta['created']})",
            f"labels:     {', '.join(meta['labels'])}",
            f"threshold:  {meta['uncertainty_threshold']}",
            f"data:       {td.get('n_train')} train / {td.get('n_test')} held out, "
            f"sha256 {str(td.get('sha256', ''))[:16]}…",
            *([format_metrics(m, detail="brief", title="held-out:  ")] if m else []),
            "versions:   " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        ]
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise UsageError(
            f"the model's metadata is not in the form newsclf writes ({type(e).__name__}: {e}); "
            "see it whole with --json"
        ) from None
    print("\n".join(lines))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from newsclf._features import convert_legacy

    out = convert_legacy(args.old, args.new, trust_pickle=args.trust_pickle)
    print(f"wrote {out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from newsclf._train import run

    _check_writable(Path(args.out).parent)  # before fitting, not after
    return run(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from newsclf._data import read_records as read_labeled
    from newsclf._evaluate import format_metrics

    if args.plots:
        _check_writable(args.plots)
    clf = _load_model(args.model)
    records = [
        r
        for path in args.data
        for r in read_labeled(
            path, text_field=args.text_field, label_field=args.label_field, splits=False
        )
    ]
    report = clf.evaluate(records, threshold=args.threshold, n_errors=args.errors)
    metrics = report.to_dict()
    if args.plots:
        metrics["plots"] = [str(p) for p in report.plots(args.plots)]
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False, indent=2))
        return 0
    print(format_metrics(metrics, detail="full"))
    return 0


# --- parser ---------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    return int(importlib.import_module("newsclf._serve").run(args))


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    fmt = argparse.RawDescriptionHelpFormatter
    parser = Parser(
        prog="newsclf",
        description="Say what each paragraph of Arabic news is about, with the bundled model "
        "('newsclf info' lists its labels) or one you train.",
        epilog="Run 'newsclf COMMAND --help' for each command's options and an example.\n\n"
        + EXIT_STATUS,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"newsclf {version('newsclf')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help_, description=help_, formatter_class=fmt, epilog=_EXAMPLES.get(name)
        )

    def model_opts(p: argparse.ArgumentParser, threshold: bool = True) -> None:
        p.add_argument("--model", metavar="PATH", help="trained artifact (default: bundled)")
        if threshold:
            p.add_argument(
                "--threshold",
                type=fraction(),
                default=None,
                help="uncertainty cut (default: the model's own)",
            )

    p = add("classify", "Classify paragraphs of articles (text) or records (JSONL/CSV/TSV).")
    p.add_argument("files", nargs="*", metavar="FILE", help="input files; '-' or none: stdin")
    p.add_argument(
        "--input-format",
        choices=FORMATS,
        help="default: from the file name (.jsonl/.ndjson, .csv, .tsv, else text); stdin is text",
    )
    p.add_argument(
        "--text-field", default=None, help="field holding the text in records (default: text)"
    )
    p.add_argument(
        "--article-field",
        default=None,
        metavar="FIELD",
        help="records: consecutive records with the same FIELD value (e.g. doc_id) are one "
        f"article, each read with the others, in runs of at most {MAX_ARTICLE} (default: each "
        "record alone; a text input is one article)",
    )
    p.add_argument(
        "--format",
        choices=["jsonl", "csv", "table"],
        help="default: table on a terminal, jsonl otherwise",
    )
    p.add_argument("--batch-size", type=integer(1), default=BATCH, help=argparse.SUPPRESS)
    p.add_argument(
        "--jobs",
        type=jobs,
        default=1,
        metavar="N",
        help="processes scoring batches: this one and N-1 workers (default 1; -1: every CPU)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal and the input is files)",
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
    p.add_argument("--top", type=integer(0), default=10, help="how many n-grams")
    p.add_argument(
        "--article",
        metavar="FILE",
        help="the text's whole article (a text file, one paragraph per line): the text is "
        "read in it, as classify_article and /v1/articles read an article's paragraphs "
        "(the whole file, however long)",
    )
    p.add_argument("--title", help="the article's title (with --article)")
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
    p.epilog = _EXAMPLES["train"]
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
    p.add_argument("--errors", type=integer(0), default=15, help="how many worst errors to list")
    p.add_argument("--json", action="store_true")
    model_opts(p)
    p.set_defaults(func=cmd_evaluate)

    p = add("convert", "Convert a format-1 (pickle) artifact into a data-only one.")
    p.add_argument("old", metavar="OLD", help="format-1 artifact directory (model.joblib)")
    p.add_argument("new", metavar="NEW", help="where to write the converted artifact")
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="required: converting unpickles OLD/model.joblib, which runs code from it",
    )
    p.set_defaults(func=cmd_convert)

    if importlib.util.find_spec("newsclf._serve") is not None:
        p = add("serve", "Serve the classifier over HTTP, with a page for analysts.")
        importlib.import_module("newsclf._serve").add_arguments(p)
        p.set_defaults(func=cmd_serve)
    return parser


def _stdout_failed() -> bool:
    """Whether stdout cannot be written; if so, it is pointed at /dev/null so
    that Python's own flush at exit does not fail again, with a traceback."""
    try:
        sys.stdout.flush()
        return False
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return True


def _one_line_warning(
    message: Warning | str, category: type[Warning], *args: object, **kwargs: object
) -> None:
    """Python warnings of the library, as the command's other warnings: one line."""
    print(f"newsclf: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``newsclf`` command; returns the exit status (see the module docstring)."""
    if sys.stderr is None:  # started with fd 2 closed: messages go nowhere, never to stdout
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 -- for the life of the process
    args = build_parser().parse_args(argv)
    if sys.stdout is None:  # started with fd 1 closed
        if args.command != "serve":
            print(
                "newsclf: error: stdout is closed: redirect it (e.g. > out.jsonl)", file=sys.stderr
            )
            return 2
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 -- the server writes nothing there
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            status = int(args.func(args))
        sys.stdout.flush()
        return status
    except (UsageError, NewsclfError) as e:
        message = str(e)
    except BrokenPipeError:
        # The reader went away (| head): stop quietly.
        _stdout_failed()
        return 0
    except OSError as e:
        if _stdout_failed():
            message = f"cannot write the output: {e.strerror or e}"
        elif e.filename:
            message = f"{e.filename}: {e.strerror}"
        else:
            message = f"I/O error: {e.strerror or e}"
    except KeyboardInterrupt:
        return 130
    print(f"newsclf: error: {message}", file=sys.stderr)
    return 2
