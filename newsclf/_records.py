"""Records in, results out: the input and output formats of ``newsclf classify``.

Input is UTF-8 (a byte-order mark is dropped) in one of four formats: text
(an article: one record per paragraph), JSONL, CSV or TSV.  Every input
record yields exactly one :class:`Record`, holding either its text or the
reason it cannot be classified; a malformed record never stops the others:

- bytes that are not UTF-8, a line that is not a JSON object, a row whose
  quoting is broken or whose number of fields differs from the header's, a
  missing or non-string text field: an error record at the record's line.
  A CSV/TSV row with a stray quote is reported alone: the lines after its
  first are read again as rows of their own.  A blank CSV/TSV line is
  skipped, except in a one-column file: there it is an empty cell (but
  blank lines that end the file are skipped).
- a JSON object naming a key twice (one value would be lost); a CSV/TSV
  header naming a column twice, or a field over ``FIELD_LIMIT`` characters
  (its quote may never close, and its lines cannot be read again as rows),
  refuses the file.
- JSON that Python reads but JSON does not allow, or that cannot be written
  back as valid UTF-8 JSON: ``NaN``/``Infinity``, numbers out of range or
  with thousands of digits, nesting deeper than Python's recursion limit and
  lone surrogates such as ``"\\ud800"`` (no Unicode character) are error
  records too, so the output is always standard JSON in valid UTF-8.

A file that is not UTF-8 text at all (a UTF-16 byte-order mark, or NUL
bytes in its first line or starting its second, as UTF-16 without a mark
has) is refused with
:class:`UsageError`; a NUL byte further on is one record's problem, not the
file's (a JSON line holding one is an error record).

Output is JSONL, CSV or a terminal table: each result carries the input
record's fields, then newsclf's own (``label``, ``score``, ``scores``,
``uncertain``, or ``line`` and ``error`` and, with several inputs, ``file``);
one of those names that the input record already uses is written as
``newsclf_NAME`` instead (``newsclf_NAME_2``, ... when that is taken too),
so no input field is overwritten.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import sys
import tempfile
from collections import deque
from collections.abc import Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, TYPE_CHECKING

from newsclf._errors import field_names, is_missing, value_kind
from newsclf._json import DECODER, first_repeat
from newsclf._paragraphs import split_paragraphs

if TYPE_CHECKING:
    from newsclf._model import Prediction

__all__ = [
    "FORMATS",
    "Record",
    "UsageError",
    "Writer",
    "article_key",
    "check_inputs",
    "input_format",
    "invalid_utf8",
    "is_article_id",
    "looks_like_records",
    "read_lines",
    "read_records",
    "result_row",
    "write_results",
]

FORMATS = ("text", "jsonl", "csv", "tsv")
RESULT_KEYS = ("label", "score", "scores", "uncertain")
#: The largest CSV/TSV field read (Python's default, 128 KiB, is less than a
#: long paragraph); it also bounds what a stray quote can swallow.
FIELD_LIMIT = 16 * 2**20
INVALID_UTF8 = "invalid UTF-8 byte sequence"
UNCERTAIN_LEGEND = (
    "? uncertain: the score is below the threshold, or the text has no n-gram the model knows\n"
)
# Bytes that are not UTF-8 are read as lone surrogates (errors="surrogateescape").
_INVALID_UTF8_RE = re.compile("[\udc80-\udcff]")
#: Line 1 of a file, with its end (as :func:`_text` splits lines).
_LINE_ONE_RE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)?")
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
# A JSON escape of a surrogate: its string may hold a lone one.
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")
_UTF16_BOMS = ("\udcff\udcfe", "\udcfe\udcff")
_COLOURS = {
    "military": "\033[31m",
    "diplomacy": "\033[34m",
    "humanitarian": "\033[32m",
    "boilerplate": "\033[90m",
}
_OTHER_COLOUR = "\033[33m"


class UsageError(Exception):
    """A problem with the command line or its files: exit status 2."""


@dataclass
class Record:
    """One input record: its line and fields, and either its text or an error."""

    line: int
    fields: dict[str, object] = field(default_factory=dict)
    text: str | None = None
    error: str | None = None
    source: str | None = None  # the file an error record names (several inputs)
    is_text: bool = False  # a paragraph of an article: fields are file, index, text
    input: int = 0  # which input it was read from (a file may be given twice)


# --- reading -------------------------------------------------------------------


def invalid_utf8(value: str) -> bool:
    """Whether ``value`` was read from bytes that are not UTF-8."""
    return _INVALID_UTF8_RE.search(value) is not None


def input_format(path: str, forced: str | None) -> str:
    """``forced``, else the format the file name says; stdin and others are text."""
    if forced:
        return forced
    ext = os.path.splitext(path.lower())[1]
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}.get(ext, "text")


def check_inputs(paths: Sequence[str]) -> None:
    """Refuse missing files and folders before anything is read (FIFOs and
    ``/dev/fd/N`` are fine: they are checked without being opened)."""
    for path in paths:
        if path != "-" and os.path.isdir(path):
            raise UsageError(f"{path}: is a directory")
        if path != "-" and not os.path.exists(path):
            raise UsageError(f"{path}: no such file")


def _name(path: str) -> str:
    """``path`` as valid UTF-8, for output (a file name need not be UTF-8)."""
    return os.fsencode(path).decode("utf-8", "replace")


def _text(binary: IO[bytes]) -> io.TextIOWrapper:
    """``binary`` as text: bytes that are not UTF-8 become lone surrogates,
    line ends (``\\n``, ``\\r\\n``, ``\\r``) are kept.  (Not "utf-8-sig": at
    the end of input it drops the bytes of a byte-order mark's beginning,
    such as a lone ``\\xef``; :func:`_lines` drops a whole mark.)"""
    return io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")


@contextmanager
def _binary(path: str) -> Iterator[IO[bytes]]:
    """``path`` (``-``: stdin) as bytes; closed afterwards, stdin left open."""
    if path == "-":
        if sys.stdin is None:  # the process was started with fd 0 closed
            raise UsageError("stdin is closed: give input files, or pipe the input in")
        yield sys.stdin.buffer
        return
    with open(path, "rb") as f:
        yield f


@contextmanager
def _open(path: str) -> Iterator[IO[str]]:
    """``path`` (``-``: stdin) as text (see :func:`_text`)."""
    with _binary(path) as binary:
        f = _text(binary)
        try:
            yield f
        finally:
            f.detach()  # the bytes are _binary's to close (stdin stays open)


#: How compressed files begin, with the command that decompresses each.
_COMPRESSED = {
    b"\x1f\x8b": ("gzip", "zcat"),
    b"\xfd7zXZ\x00": ("xz", "xzcat"),
    b"\x28\xb5\x2f\xfd": ("zstd", "zstdcat"),
    **{b"BZh%d1AY&SY" % level: ("bzip2", "bzcat") for level in range(1, 10)},
}
_COMPRESSED_EXTENSIONS = (".gz", ".gzip", ".xz", ".zst", ".zstd", ".bz2")
#: How Parquet files begin (a page header follows the magic).
_PARQUET = b"PAR1"
_PACKED_BYTES = (*_COMPRESSED, _PARQUET + b"\x15")
_PACKED = tuple(b.decode("utf-8", "surrogateescape") for b in _PACKED_BYTES)


def _not_text(name: str, head: bytes, forced: str | None = None) -> UsageError:
    """The refusal of an input that is not UTF-8 text, ``head`` its first
    bytes, ``forced`` the format the command line gave."""
    for magic, (kind, command) in _COMPRESSED.items():
        if head.startswith(magic):
            # The format given, else the one the name says without the compressor's extension.
            base, ext = os.path.splitext(name)
            inner = input_format(base if ext.lower() in _COMPRESSED_EXTENSIONS else name, forced)
            option = "" if inner == "text" else f" --input-format {inner}"
            source = f" {name}"
            if name == "-":  # stdin: its format is unknown
                option, source = " --input-format jsonl (or csv, tsv, none for text)", ""
            return UsageError(
                f"{name}: {kind}-compressed; classify reads uncompressed input: e.g. "
                f"{command}{source} | newsclf classify{option}"
            )
    if head.startswith(_PARQUET):
        return UsageError(
            f"{name}: a Parquet file; classify reads JSONL, CSV, TSV or text: convert it "
            "first (evaluate and train read Parquet)"
        )
    return UsageError(
        f"{name}: not UTF-8 text (a UTF-16 byte-order mark, or NUL bytes in line 1 or "
        "starting line 2, as UTF-16 has); newsclf reads UTF-8: if the file is UTF-16, convert "
        "it first (iconv -f UTF-16 -t UTF-8); if it is UTF-8 with stray NUL bytes, remove "
        "them (tr -d '\\000')"
    )


def _lines(f: IO[str], name: str, forced: str | None = None) -> Iterator[tuple[int, str]]:
    """Numbered lines, without a UTF-8 byte-order mark; a file that is not UTF-8
    text (see the module docstring) is refused, not read as garbage."""
    # Lines 1 and 2 are both checked before either is given: a refused file
    # gives no record (as with --jobs 2, whose blocks are checked whole).
    numbered = enumerate(f, 1)
    head = [(n, line.removeprefix("\ufeff") if n == 1 else line) for n, line in islice(numbered, 2)]
    if head and not head[0][1]:
        return  # the input was a byte-order mark alone
    if head and (
        "\x00" in (one := head[0][1]) or one[:2] in _UTF16_BOMS or one.startswith(_PACKED)
    ):
        raise _not_text(name, one[:16].encode("utf-8", "surrogateescape"), forced)
    if len(head) == 2 and head[1][1].startswith("\x00"):
        raise _not_text(name, b"")  # line 1's end was UTF-16LE's "\n\x00"
    yield from head
    yield from numbered


def read_lines(path: str) -> list[str]:
    """Every line of a UTF-8 text file (``-``: stdin), line ends kept."""
    with _open(path) as f:
        lines = [line for _, line in _lines(f, _name(path))]
    bad = next((n for n, line in enumerate(lines, 1) if invalid_utf8(line)), None)
    if bad is not None:
        raise UsageError(f"{_name(path)}: {INVALID_UTF8} on line {bad}")
    return lines


def read_records(
    paths: Sequence[str],
    forced_format: str | None,
    text_field: str,
    suspects: list[str] | None = None,
    columns: list[str] | None = None,
) -> Iterator[Record]:
    """Every record of every input, in order (see the module docstring).
    A text input whose first line looks like records (see
    :func:`looks_like_records`) is still read as text, and said in
    ``suspects``: ``"NAME (line N looks like WHAT)"``.  The columns of
    every CSV/TSV header go into ``columns`` (a file of no rows has them too)."""
    for number, path in enumerate(paths):
        fmt = input_format(path, forced_format)
        name = _name(path)
        source = name if len(paths) > 1 else None
        with _open(path) as f:
            lines = _lines(f, name, forced_format)
            if fmt == "text":
                records = _read_text(lines, name, suspects)
            elif fmt == "jsonl":
                records = _read_jsonl(lines, text_field, source)
            else:
                records = _read_delimited(lines, text_field, fmt, name, source, columns)
            for rec in records:
                rec.input = number
                yield rec


def _read_text(
    lines: Iterator[tuple[int, str]], name: str, suspects: list[str] | None = None
) -> Iterator[Record]:
    """One record per paragraph: each non-blank line of an article."""
    index = 0
    for n, line in lines:
        if index == 0 and suspects is not None and (what := looks_like_records(line)):
            suspects.append(f"{name} (line {n} looks like {what})")
        if invalid_utf8(line):
            yield Record(n, {"file": name, "index": index}, error=INVALID_UTF8, is_text=True)
            index += 1
            continue
        for para in split_paragraphs(line):
            fields: dict[str, object] = {"file": name, "index": index, "text": para}
            yield Record(n, fields, text=para, is_text=True)
            index += 1


def looks_like_records(line: str) -> str | None:
    """What the first line of a text input looks like, if it looks like the
    start of records rather than an article: a JSON object (JSONL named
    ``.json`` or piped in) or a CSV/TSV header with a ``text`` column."""
    stripped = line.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            if isinstance(json.loads(stripped), dict):
                return "a JSON record"
        except ValueError:
            pass
    for sep, kind in ((",", "CSV"), ("\t", "TSV")):
        cells = {cell.strip().strip('"') for cell in stripped.split(sep)}
        if len(cells) > 1 and "text" in cells:
            return f"a {kind} header"
    return None


def _read_jsonl(
    lines: Iterator[tuple[int, str]], text_field: str, source: str | None
) -> Iterator[Record]:
    for n, line in lines:
        if blank_jsonl_line(line):
            continue
        try:
            obj = _json_object(line)
        except ValueError as e:
            yield Record(n, error=str(e), source=source)
        else:
            yield _with_text(Record(n, obj, source=source), text_field)


def blank_jsonl_line(line: str) -> bool:
    """Whether a JSONL line holds nothing but JSON's whitespace (space, tab,
    line ends): skipped.  Other blanks (a no-break space, U+3000, ``\x1c``)
    are not JSON: the line is an error, never dropped unseen."""
    return not line.strip(" \t\r\n")


def _json_object(line: str) -> dict[str, object]:
    """One JSONL line as a JSON object that can be written back as standard
    JSON in UTF-8; else ValueError saying what is wrong with it."""
    if invalid_utf8(line):
        raise ValueError(INVALID_UTF8)
    try:
        # A byte-order mark starting a later line: files joined by cat.
        obj = DECODER.decode(line.removeprefix("\ufeff"))
        if _SURROGATE_ESCAPE_RE.search(line):
            json.dumps(obj, ensure_ascii=False).encode("utf-8")  # fails on a lone surrogate
    except json.JSONDecodeError as e:
        # e.g. "Invalid control character at": the position follows once.
        raise ValueError(f"invalid JSON: {e.msg.removesuffix(' at')} at column {e.colno}") from None
    except RecursionError:
        raise ValueError(f"invalid JSON: nested more than {MAX_DEPTH} levels deep") from None
    except UnicodeEncodeError as e:
        raise ValueError(
            f"invalid JSON: lone surrogate \\u{ord(e.object[e.start]):04x} is not a character"
        ) from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, found {value_kind(obj)}")
    if line.count("{") + line.count("[") > MAX_DEPTH and _too_deep(obj):
        raise ValueError(f"invalid JSON: nested more than {MAX_DEPTH} levels deep")
    return obj


#: Deepest nesting of a record read: a fixed limit, far below Python's
#: recursion limit, so that whether a record can be read and written back
#: never depends on how deep in the stack that happens (with --jobs 2 a
#: record about 990 levels deep was read, then failed to be written).
MAX_DEPTH = 200


def _too_deep(obj: object) -> bool:
    """Whether ``obj`` nests more than :data:`MAX_DEPTH` levels (iteratively)."""
    stack: list[tuple[object, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


class _Rows:
    """Lines for :func:`csv.reader` that remember those of the current row, so
    a malformed row is reported at its first line and the lines after that
    are read again, as rows of their own."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self.replay: deque[tuple[int, str]] = deque()
        self.current: list[tuple[int, str]] = []

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> str:
        item = self.replay.popleft() if self.replay else next(self._lines)
        self.current.append(item)
        return item[1]


def _read_delimited(
    lines: Iterator[tuple[int, str]],
    text_field: str,
    fmt: str,
    name: str,
    source: str | None,
    columns: list[str] | None = None,
) -> Iterator[Record]:
    """CSV/TSV with a header row; strict quoting, one error record per bad row."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    rows = _Rows(lines)
    reader = csv.reader(rows, delimiter="\t" if fmt == "tsv" else ",", strict=True)
    header: list[str] | None = None
    blanks: list[int] = []  # blank lines of a one-column file, empty cells if a row follows
    while True:
        rows.current.clear()
        error = None
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if "field limit" in str(e):
                # The field's quote is still open: its lines cannot be read again as rows.
                raise UsageError(
                    f"{name}, line {rows.current[0][0]}: a field of more than {FIELD_LIMIT:,} "
                    "characters (16 MiB); classify reads fields up to that size: split it, "
                    "or check the file for a quote that is never closed"
                ) from None
            rows.replay.extendleft(reversed(rows.current[1:]))
            values, error = [], f"invalid {fmt.upper()}: {e}".replace("\t", "\\t")
        n = rows.current[0][0]
        if error is None and not values:
            if header is not None and len(header) == 1:
                blanks.append(n)  # an empty cell (as spreadsheets write it), or the file's end
            continue  # a blank line
        for blank in blanks:
            yield _with_text(
                Record(blank, dict.fromkeys(header or (), ""), source=source), text_field
            )
        blanks.clear()
        if error is None and any(invalid_utf8(v) for v in values):
            error = INVALID_UTF8
        if header is None:
            if error is None and (twice := first_repeat(values)) is not None:
                error = f"it names {twice!r} twice (one column's values would be lost)"
            if error is not None:
                raise UsageError(f"{name}, line {n}: cannot read the header: {error}")
            header = values
            if columns is not None:
                columns.extend(c for c in header if c not in columns)
            continue
        if error is None and len(values) != len(header):
            error = f"expected {len(header)} fields as in the header, found {len(values)}"
        if error is not None:
            yield Record(n, error=error, source=source)
        else:
            yield _with_text(
                Record(n, dict(zip(header, values, strict=True)), source=source), text_field
            )


def _with_text(rec: Record, text_field: str) -> Record:
    value = rec.fields.get(text_field)
    if text_field not in rec.fields:
        rec.error = (
            f"missing text field {text_field!r} (the record has {field_names(rec.fields)}); "
            "name the text field with --text-field"
        )
    elif not isinstance(value, str):
        rec.error = f"text field {text_field!r} is {value_kind(value)}, expected a string"
    else:
        rec.text = value
    return rec


# --- articles ------------------------------------------------------------------

#: An article read from a stream is at most this many paragraphs (one model
#: batch): any real article is read whole, as the library and the server
#: read it; an endless text stream, in runs of this length, with a warning.
MAX_ARTICLE = 2048


def articles(
    records: Iterator[Record], article_field: str | None, cut: list[str] | None = None
) -> Iterator[list[Record]]:
    """Records grouped into the articles they come from, in order: the
    paragraphs of one text input, or consecutive records of one input with
    the same ``article_field`` value, in runs of at most :data:`MAX_ARTICLE`
    (each article so cut is named in ``cut``: its file, or its id); a record
    without one (or with ``null`` or a blank string, as in training) is its
    own article.  A record that cannot be read (invalid JSON, a broken row:
    no fields) adds no paragraph: it stays in the article around it rather
    than cutting it in two."""
    group: list[Record] = []
    key: tuple[object, ...] | None = None
    cut_key: tuple[object, ...] | None = None  # the last article cut (named once)
    for rec in records:
        if (
            article_field is not None
            and group
            and rec.error is not None
            and not rec.fields
            and len(group) < MAX_ARTICLE
        ):
            group.append(rec)
            continue
        if rec.is_text:
            k: tuple[object, ...] = ("input", rec.input)
        elif article_field is not None and (value := article_key(rec.fields.get(article_field))):
            k = ("field", rec.input, value)  # an article never spans two inputs
        else:
            k = ("record", id(rec))
        if group and (k != key or len(group) >= MAX_ARTICLE):
            if k == key and k != cut_key and cut is not None and k[0] != "record":
                name = json.dumps(k[2], ensure_ascii=False) if k[0] == "field" else None
                cut.append(f"{article_field} {name}" if name else str(record_file(rec)))
                cut_key = k
            yield group
            group = []
        group.append(rec)
        key = k
    if group:
        yield group


def is_article_id(value: object) -> bool:
    """Whether ``value`` names an article: not missing (``None``, NaN -- a
    blank cell read through pandas -- or pandas' NA) or blank -- the one rule
    of classify and training."""
    if is_missing(value):
        return False
    return bool(str(value).strip())


def article_key(value: object) -> str | None:
    """The article ``value`` names, as text (``7`` and ``"7"`` are one
    article), or ``None`` when it names none (see :func:`is_article_id`)."""
    return str(value) if is_article_id(value) else None


def article_contexts(group: list[Record]) -> list[str]:
    """The article text each record of ``group`` is read with."""
    from newsclf._paragraphs import article_context

    context = article_context(r.text for r in group if r.text is not None)
    return [context] * len(group)


def classify_jsonl_block(
    path: str,
    digest: str,
    source: str | None,
    first: int,
    block: bytes,
    text_field: str,
    threshold: float | None,
) -> tuple[str, int, int, str, set[tuple[str, str]]]:
    """A worker task of ``newsclf classify --jobs N`` on JSONL: split, parse,
    classify and format a block of :func:`raw_blocks` with the model ``(path,
    digest)``; returns the JSONL output, the record count, the failed count,
    the first error and the result names the input already used."""
    from newsclf._model import load_cached

    clf = load_cached(path, digest)
    records = list(_read_jsonl(block_lines(first, block), text_field, source))
    preds = clf.classify_many([r.text for r in records if r.text is not None], threshold=threshold)
    out = io.StringIO()
    writer = Writer(out, "jsonl")
    failed, first_error = write_results(writer, records, preds)
    return out.getvalue(), len(records), failed, first_error, writer.collisions


def record_file(rec: Record) -> str | None:
    """The input file ``rec`` comes from, when it is named: always for a
    paragraph of a text input, with several inputs for records."""
    file = rec.fields.get("file") if rec.is_text else rec.source
    return None if file is None else str(file)


def write_results(
    writer: Writer, records: Sequence[Record], preds: Iterator[Prediction]
) -> tuple[int, str]:
    """Write each record's result: the next prediction for a record with a
    text, its error otherwise.  Returns ``(failed, first error)``."""
    failed, first = 0, ""
    for rec in records:
        pred = next(preds) if rec.text is not None else None
        if pred is None:
            failed += 1
            where = record_file(rec)
            first = first or f"{f'{where}, ' if where else ''}line {rec.line}: {rec.error}"
        writer.write(rec, pred)
    return failed, first


#: Bytes ``--jobs N`` reads for a worker task, then up to the end of the line.
BLOCK_BYTES = 2**20


def raw_blocks(
    paths: Sequence[str], size: int = BLOCK_BYTES
) -> Iterator[tuple[str | None, int, bytes]]:
    """JSONL inputs as blocks of whole lines, about ``size`` bytes each, a file
    at a time: ``(source, number of the block's first line, bytes)``,
    ``source`` naming the file when there are several.  Only bytes are
    counted here; :func:`block_lines` gives the block's lines, the very lines
    (and numbers) :func:`read_records` reads, and a file that is not UTF-8
    text is refused here as there."""
    for path in paths:
        name = _name(path)
        source = name if len(paths) > 1 else None
        with _binary(path) as binary:
            for first, block in _blocks(binary, name, size):
                yield source, first, block


def _blocks(binary: IO[bytes], name: str, size: int) -> Iterator[tuple[int, bytes]]:
    first = 1
    line_two = -1  # where line 2 starts in this block (-1: not in it)
    while block := binary.read(size):
        if not block.endswith(b"\n"):
            block += binary.readline()  # a line end is never inside a UTF-8 character
        if first == 1:
            block = block.removeprefix(codecs.BOM_UTF8)
            line_one = _LINE_ONE_RE.match(block)  # always matches, if only ""
            line_two = line_one.end() if line_one else 0
            if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, *_PACKED_BYTES)) or (
                b"\x00" in block[:line_two]
            ):
                raise _not_text(name, block[:16], "jsonl")
        if line_two >= 0 and block[line_two : line_two + 1] == b"\x00":
            raise _not_text(name, b"")  # as _lines: line 1's end was UTF-16LE's "\n\x00"
        line_two = 0 if first == 1 and line_two == len(block) else -1
        if block:
            yield first, block
            first += _line_ends(block) + (not block.endswith((b"\n", b"\r")))


def _line_ends(data: bytes) -> int:
    """How many lines end in ``data`` (at ``\\n``, ``\\r\\n`` or ``\\r``, as :func:`_text`)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def block_lines(first: int, block: bytes) -> Iterator[tuple[int, str]]:
    """The numbered lines of a block of :func:`raw_blocks`."""
    text = block.decode("utf-8", "surrogateescape")
    return enumerate(io.StringIO(text, newline=""), first)


# --- writing -------------------------------------------------------------------


def result_row(
    rec: Record, pred: Prediction | None, collisions: set[tuple[str, str]]
) -> dict[str, object]:
    """The output record of ``rec``: its fields, then newsclf's own (the
    prediction, or ``line`` and ``error`` when there is none).  A name the
    input already uses goes to ``newsclf_NAME`` (``newsclf_NAME_2``, ... if
    that is taken too), and ``(NAME, name used)`` into ``collisions``."""
    ours = _ours(rec, pred)
    names = _names(ours, rec.fields, collisions)
    return {**rec.fields, **{names[key]: value for key, value in ours.items()}}


def _ours(rec: Record, pred: Prediction | None) -> dict[str, object]:
    """newsclf's fields of ``rec``'s output: the prediction, or where and why it failed."""
    if pred is not None:
        result = pred.to_dict()
        return {key: result[key] for key in RESULT_KEYS}
    ours: dict[str, object] = {"line": rec.line, "error": rec.error}
    return ours if rec.source is None else {"file": rec.source, **ours}


def _names(
    ours: Iterable[str], taken: Container[str], collisions: set[tuple[str, str]]
) -> dict[str, str]:
    """The output name of each of newsclf's fields: itself, or
    ``newsclf_NAME`` (``newsclf_NAME_2``, ...) when the input has it."""
    names = {}
    for key in ours:
        name, n = key, 1
        if name in taken:
            name = f"newsclf_{key}"
            while name in taken:
                n += 1
                name = f"newsclf_{key}_{n}"
            collisions.add((key, name))
        names[key] = name
    return names


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


class Writer:
    """Writes results as JSONL, CSV or a terminal table.

    JSONL and the table stream out as they come (a record whose input has
    a field of newsclf's name gets newsclf's as ``newsclf_NAME``).  CSV
    needs its header first, and records may differ in their keys (an error
    record has ``line`` and ``error``, another record an extra field): so
    CSV rows go to a temporary spool file while the union of all keys is
    collected, and :meth:`close` writes the header that covers every key,
    then every row -- each column with one meaning: when any input record
    has a field of newsclf's name, newsclf's goes to ``newsclf_NAME`` in
    every row.  Memory stays constant; nothing is dropped.
    """

    def __init__(
        self, out: IO[str], fmt: str, *, colour: bool = False, several: bool = False
    ) -> None:
        self.out, self.fmt, self.colour = out, fmt, colour
        #: Several inputs: the table names each file before its rows.
        self._several = several
        self._file: tuple[int, str | None] | None = None  # the input of the last row
        #: Result names the input records already used (see :func:`result_row`).
        self.collisions: set[tuple[str, str]] = set()
        self._keys: dict[str, None] = {}  # CSV: the input fields, then newsclf's
        self._ours: dict[str, None] = {}
        self._spool: IO[str] | None = None
        self._uncertain = False

    def write(self, rec: Record, pred: Prediction | None) -> None:
        """Write the result of ``rec``: its prediction, or its error when ``None``."""
        if self.fmt == "table":
            if self._several and (rec.input, file := record_file(rec)) != self._file:
                self._file = (rec.input, file)
                self.out.write(f"== {_CONTROL_RE.sub(' ', file or '')}\n")
            self.out.write(self._table_row(rec, pred) + "\n")
            return
        if self.fmt == "jsonl":
            self.out.write(_dumps(result_row(rec, pred, self.collisions)) + "\n")
            return
        if self._spool is None:
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        ours = _ours(rec, pred)
        self._keys.update(dict.fromkeys(rec.fields))
        self._ours.update(dict.fromkeys(ours))
        self._spool.write(_dumps([rec.fields, ours]) + "\n")

    def declare(self, fields: Iterable[str]) -> None:
        """Input fields the CSV header has even if no record has them (the
        columns of a CSV input of no rows)."""
        self._keys.update(dict.fromkeys(fields))

    def close(self) -> None:
        """Write what is held back: the CSV rows, the table's legend."""
        if self._uncertain:
            self.out.write(UNCERTAIN_LEGEND)
        if self._spool is None and self.fmt == "csv" and self._keys:
            self._ours.update(dict.fromkeys(RESULT_KEYS))  # no record: the header alone
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        if self._spool is None:
            return
        spool, self._spool = self._spool, None
        names = _names(self._ours, self._keys, self.collisions)
        with spool:
            header = [*self._keys, *names.values()]
            writer = csv.DictWriter(self.out, fieldnames=header, restval="")
            writer.writeheader()
            spool.seek(0)
            for line in spool:
                fields, ours = json.loads(line)
                row = {**fields, **{names[key]: value for key, value in ours.items()}}
                writer.writerow(
                    {k: _dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}
                )

    def _table_row(self, rec: Record, pred: Prediction | None) -> str:
        where = f"¶{rec.fields['index']}" if rec.is_text else str(rec.line)
        if pred is None:
            return f"{where:>6}  ERROR {rec.error}"
        self._uncertain |= pred.uncertain
        shown = f"{pred.label:<12}"
        if self.colour:
            shown = f"{_COLOURS.get(pred.label, _OTHER_COLOUR)}{shown}\033[0m"
        # Control characters (ANSI escapes, line ends) would act on the terminal.
        text = _CONTROL_RE.sub(" ", rec.text or "")
        if len(text) > 90:
            text = text[:89] + "…"
        flag = "?" if pred.uncertain else " "
        # Arabic is left as is: the terminal's own bidi algorithm renders it.
        return f"{where:>6}  {shown} {pred.score:.2f}{flag}  {text}"
