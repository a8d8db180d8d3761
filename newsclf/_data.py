"""Labeled data in, records out; ANT corpus references resolved to text.

A *record* is a dict with at least ``text`` and ``label`` (both ``str``);
optional keys are ``group`` (the article a paragraph comes from: the split
never puts one group on both sides), ``split`` (``"train"`` or ``"test"``,
a fixed split that overrides the random one), ``source`` and
``acceptable`` (other defensible labels, for evaluation).

JSONL, CSV and TSV (optionally gzipped) are read as ``newsclf classify``
reads its input (:mod:`newsclf._records`): UTF-8, a byte-order mark dropped;
strict JSON and strict CSV quoting; CSV/TSV fields up to 16 MiB.  Training
needs every record, so the first bad one is a :class:`DataError` naming its
line, where ``newsclf classify`` would write an error record and go on.  A
UTF-16 file is refused, with the command that converts it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from newsclf._errors import (
    DataError,
    InputTypeError,
    describe,
    field_names,
    is_missing,
    value_kind,
)
from newsclf._paragraphs import article_context, is_blank
from newsclf._records import (
    _CONTROL_RE,
    Record,
    UsageError,
    _json_object,
    _lines,
    _read_delimited,
    _with_text,
    article_key,
    blank_jsonl_line,
)

__all__ = [
    "acceptable_labels",
    "article_id",
    "check_context",
    "check_label",
    "check_split",
    "data_sha256",
    "fold_label",
    "iter_ant_articles",
    "iter_records",
    "near_labels",
    "read_records",
    "record_list",
    "resolve_ant_references",
    "short_hash",
]


def acceptable_labels(where: str, raw: object) -> tuple[str, ...] | None:
    """The ``acceptable`` field of the record at ``where`` as labels (``None``:
    absent; a label, or a list of labels), or a :class:`DataError` saying
    what it is."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return (raw,) if raw else ()
    if isinstance(raw, list | tuple) and all(isinstance(a, str) for a in raw):
        return tuple(raw)
    raise DataError(
        f"{where}: field 'acceptable' is {describe(raw)}, expected a label or a list of labels"
    )


def fold_label(label: str) -> str:
    """A label as near-duplicates are found: case and surrounding spaces
    ignored (``Military `` and ``military``)."""
    return label.strip().casefold()


def near_labels(names: Iterable[str], labels: Iterable[str]) -> dict[str, str]:
    """Each of ``names`` that is none of ``labels`` but differs from one only
    in case or surrounding spaces, with that label (names in sorted order)."""
    known = set(labels)
    folded = {fold_label(label): label for label in known}
    return {
        name: folded[fold_label(name)]
        for name in sorted(set(names) - known)
        if fold_label(name) in folded
    }


def check_label(where: str, label: str, field: str | None = None) -> None:
    """Refuse, with :class:`DataError`, the label of the record at ``where``
    (read from ``field``, if named) when nothing of it shows (spaces,
    zero-width marks) or it holds a control character (a line break, an
    escape: labels are printed in reports and terminals)."""
    named = f" in field {field!r}" if field else ""
    if is_blank(label):
        raise DataError(
            f"{where}: the label{named} is empty; give every record a label, or leave "
            "unlabeled records out of the training data"
        )
    if _CONTROL_RE.search(label):
        raise DataError(
            f"{where}: the label{named}, {label!r:.60}, holds a control character (a line "
            "break, an escape): remove it"
        )


def check_context(where: str, context: object) -> str | None:
    """The ``context`` field of the record at ``where`` (its article's text;
    ``None`` when absent or missing: NaN, a blank cell through pandas, or
    pandas' NA), or a :class:`DataError` saying what it is."""
    if isinstance(context, str):
        return context
    if is_missing(context):
        return None
    raise DataError(
        f"{where}: field 'context' is {describe(context)}, expected a string "
        "(the text of the record's article) or none"
    )


def check_split(where: str, split: object) -> None:
    """Refuse a ``split`` field other than ``train``, ``test`` or none: any
    other value would silently go to the random split."""
    if split not in (None, "", "train", "test"):
        raise DataError(f"{where}: the split field is {split!r}; expected 'train', 'test' or none")


def record_list(records: object, *, splits: bool = True) -> list[Any]:
    """``records`` (labeled records, for training or evaluation) as a list:
    a path (``str`` or ``os.PathLike``) is a labeled data file, read by
    :func:`read_records` (``text`` and ``label`` fields); else
    :class:`InputTypeError` when it is not an iterable of records (a
    mapping is one record, not many).  ``splits``: whether a file's
    ``split`` field is checked (training; evaluation ignores it)."""
    if isinstance(records, str | os.PathLike):
        return read_records(records, splits=splits)
    if isinstance(records, bytes | Mapping) or not isinstance(records, Iterable):
        raise InputTypeError(
            "records must be an iterable of dicts with 'text' and 'label', or the path of a "
            f"labeled data file, got {describe(records)}"
        )
    names = class_label_names(getattr(records, "features", None))
    return [with_label_names(r, names) for r in records] if names else list(records)


def class_label_names(features: object) -> dict[str, list[str]]:
    """The ``ClassLabel`` columns of a Hugging Face dataset's ``features``
    (or lists of them, as an ``acceptable`` column), with their names: such
    a column holds ints that stand for the names (``-1``: none)."""
    if not isinstance(features, Mapping):
        return {}
    out = {}
    for column, feature in features.items():
        inner = getattr(feature, "feature", feature)  # Sequence(ClassLabel) / List(ClassLabel)
        names = getattr(inner, "names", None)
        if type(inner).__name__ == "ClassLabel" and names:
            out[column] = list(names)
    return out


def with_label_names(row: Any, names: Mapping[str, Sequence[str]]) -> Any:
    """``row`` with each ``ClassLabel`` id of :func:`class_label_names` (or
    list of ids) given as its name; anything else is left as it is, to be
    refused as usual."""
    if not names or not isinstance(row, Mapping):
        return row

    def name(value: object, labels: Sequence[str]) -> object:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(labels):
            return labels[value]
        return value

    out = dict(row)
    for column, labels in names.items():
        value = out.get(column)
        out[column] = (
            [name(v, labels) for v in value] if isinstance(value, list) else name(value, labels)
        )
    return out


_XML_FIELD_RE = {
    tag: re.compile(f"<{tag}>(.*?)</{tag}>", re.DOTALL)
    for tag in ("DOCNO", "URL", "SRC", "CAT", "TITLE", "TIME", "TEXT")
}


def short_hash(text: str) -> str:
    """The 12-hex-digit SHA-256 prefix that identifies a paragraph's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """What the data hash reads of one record: its ``[text, label]`` as a JSON line."""
    return json.dumps([record["text"], record["label"]], ensure_ascii=False).encode("utf-8") + b"\n"


def data_sha256(records: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 over the ``(text, label)`` pairs of ``records``, in order."""
    digest = hashlib.sha256()
    for r in records:
        digest.update(record_bytes(r))
    return digest.hexdigest()


def read_records(
    path: str | os.PathLike[str],
    *,
    text_field: str = "text",
    label_field: str = "label",
    group_field: str | None = None,
    splits: bool = True,
) -> list[dict[str, Any]]:
    """Read labeled records from JSONL, CSV or TSV -- or, for any other path
    (Parquet, Arrow, a saved ``datasets`` folder), through Hugging Face
    ``datasets``.  ``text_field`` / ``label_field`` name the columns;
    ``group_field`` (default: ``group``, else ``doc_id``) names the article id;
    ``splits``: whether the ``split`` field is checked (training; evaluation
    ignores it).
    Raises :class:`DataError` on a missing file or a record without a string
    text and label, naming the line.
    """
    return list(
        iter_records(
            path,
            text_field=text_field,
            label_field=label_field,
            group_field=group_field,
            splits=splits,
        )
    )


def iter_records(
    path: str | os.PathLike[str],
    *,
    text_field: str = "text",
    label_field: str = "label",
    group_field: str | None = None,
    splits: bool = True,
) -> Iterator[dict[str, Any]]:
    """:func:`read_records`, one record at a time (constant memory; formats
    read through ``datasets`` are streamed)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: expected a labeled data file, found no such file or folder")
    name = p.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        rows: Iterable[Record] = (
            _with_text(Record(n, obj), text_field) for n, obj in _read_jsonl(p)
        )
    elif name.endswith((".csv", ".tsv")):
        fmt = "tsv" if name.endswith(".tsv") else "csv"
        rows = _read_delimited(_numbered_lines(p), text_field, fmt, str(p), None)
    else:
        rows = (_with_text(Record(n, row), text_field) for n, row in _read_with_datasets(p))
    try:
        for rec in rows:
            yield _labeled(rec, p, label_field, group_field, splits)
    except UsageError as e:  # a CSV header that cannot be read
        raise DataError(str(e)) from None
    finally:
        if isinstance(rows, Generator):
            rows.close()  # the reader's files and threads, now


def article_id(record: Mapping[str, Any], field: str | None = None) -> str | None:
    """The article a labeled record comes from: its ``field``, by default
    ``group``, else ``doc_id``; ``None`` when that is missing, ``None``,
    NaN (a blank cell through pandas) or blank -- the record is its own
    article."""
    value = record.get(field) if field else record.get("group", record.get("doc_id"))
    return article_key(value)


def _labeled(
    rec: Record, path: Path, label_field: str, group_field: str | None, splits: bool = True
) -> dict[str, Any]:
    """The training record of ``rec``, or a :class:`DataError` naming its line
    and saying what to do."""
    where = f"{path}:{rec.line}"
    if rec.error is not None:
        hint = ""
        if rec.error.startswith(("invalid CSV", "invalid TSV")):
            hint = (
                '; a field that starts with " must end with " (a quote inside it is written ""), '
                "and the row is reported at its first line"
            )
        raise DataError(f"{where}: {rec.error}{hint}")
    row, text = rec.fields, rec.text
    assert text is not None  # _with_text sets either the text or the error
    label = row.get(label_field)
    if label_field not in row:
        raise DataError(
            f"{where}: missing label field {label_field!r} (the record has {field_names(row)}); "
            "name the label field with --label-field"
        )
    if not isinstance(label, str):
        raise DataError(
            f"{where}: label field {label_field!r} is {value_kind(label)}, expected a string"
            + _int_label_hint(label)
        )
    check_label(where, label, label_field)
    if group_field is not None and group_field not in row:
        raise DataError(
            f"{where}: missing group field {group_field!r} (the record has {field_names(row)}); "
            "name the article id field with --group-field"
        )
    if splits:
        check_split(where, row.get("split"))
    check_context(where, row.get("context"))
    acceptable_labels(where, row.get("acceptable"))
    record = dict(row)
    record["text"], record["label"] = text, label
    # None: the record is its own article, also when it has a doc_id (as a
    # record passed to train with a null group is).
    record["group"] = article_id(row, group_field)
    return record


def _int_label_hint(label: object) -> str:
    if isinstance(label, bool) or not isinstance(label, int):
        return ""
    if label == -1:
        return " (-1: a ClassLabel's 'no label'; leave unlabeled records out of the data)"
    return " (ids of a ClassLabel? give the names, e.g. with the dataset's int2str)"


def _open_text(path: Path) -> IO[str]:
    """``path`` (gzipped when its name ends in ``.gz``) as text, as
    :mod:`newsclf._records` reads it: a UTF-8 byte-order mark dropped, bytes
    that are not UTF-8 read as lone surrogates (reported by line), line ends kept."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="surrogateescape", newline="")
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The numbered lines of ``path``; a file that is not UTF-8 text (UTF-16,
    NUL bytes) or cannot be read is a :class:`DataError`."""
    try:
        with _open_text(path) as f:
            yield from _lines(f, str(path))
    except UsageError as e:  # UTF-16 or NUL bytes
        raise DataError(str(e)) from None
    except (OSError, EOFError) as e:  # unreadable, or a broken gzip stream
        raise DataError(f"{path}: cannot read it: {getattr(e, 'strerror', None) or e}") from None


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSONL file with their line numbers: strict JSON
    (no NaN, no integer of thousands of digits, no lone surrogate); a line
    that is not a JSON object is a :class:`DataError` naming it."""
    for n, line in _numbered_lines(path):
        if blank_jsonl_line(line):
            continue
        try:
            yield n, _json_object(line)
        except ValueError as e:
            raise DataError(f"{path}:{n}: {e}") from None


def _read_with_datasets(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import datasets  # heavy (~3 s): only for formats the plain readers do not cover

    try:
        if path.is_dir() and any(
            (path / name).exists() for name in ("dataset_info.json", "dataset_dict.json")
        ):
            ds = datasets.load_from_disk(str(path))
        else:
            builder = {".parquet": "parquet", ".arrow": "arrow", ".json": "json"}.get(
                path.suffix.lower()
            )
            if builder is None:
                raise DataError(
                    f"{path}: expected .jsonl, .csv, .tsv, .parquet, .arrow, .json or a saved "
                    "datasets folder"
                )
            ds = datasets.load_dataset(builder, data_files=str(path), split="train", streaming=True)
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"{path}: datasets could not read it: {type(e).__name__}: {e}") from e
    if isinstance(ds, datasets.DatasetDict | datasets.IterableDatasetDict):
        raise DataError(f"{path}: holds several splits {list(ds)}; save or pass one split")
    names = class_label_names(getattr(ds, "features", None))
    stream = iter(ds)
    rows = ((n, with_label_names(row, names)) for n, row in enumerate(stream, 1))
    try:
        while True:
            try:
                row = next(rows, None)
            except Exception as e:  # a corrupt file is found while streaming it
                raise DataError(
                    f"{path}: datasets could not read it: {type(e).__name__}: {e}"
                ) from e
            if row is None:
                return
            yield row
    finally:
        # Stop datasets' readers (and their threads) now, also when the
        # caller stops early on a bad record, not at interpreter exit.
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def iter_ant_articles(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Articles of the ANT corpus as ``{doc_id, outlet, category, title,
    paragraphs}``, from the multi-source JSONL(.gz) file or from the
    original repository's XML layout (``OUTLET/SECTION/DOCNO.txt``).  Both
    give the same paragraphs with the same indices: one per non-empty line
    of ``<TEXT>``, white space collapsed."""
    p = Path(path)
    if not p.exists():
        raise DataError(
            f"{p}: expected the ANT corpus (ant-v2.1.jsonl.gz, or a checkout of "
            "antcorpus/antcorpus.multisource.data), found nothing there"
        )
    if p.is_dir():
        for file in sorted(p.rglob("*.txt")):
            yield _parse_ant_xml(file)
        return
    for _, doc in _read_jsonl(p):
        yield doc


def _parse_ant_xml(file: Path) -> dict[str, Any]:
    raw = file.read_text(encoding="utf-8")
    fields = {}
    for tag, rx in _XML_FIELD_RE.items():
        m = rx.search(raw)
        fields[tag] = m.group(1) if m else ""
    if not fields["DOCNO"].strip():
        raise DataError(f"{file}: expected a <DOCNO> tag, found none")
    paragraphs = [" ".join(line.split()) for line in fields["TEXT"].splitlines()]
    return {
        "doc_id": fields["DOCNO"].strip(),
        "outlet": file.parent.parent.name,
        "category": fields["CAT"].strip() or file.parent.name,
        "title": fields["TITLE"].strip(),
        "paragraphs": [para for para in paragraphs if para],
    }


def resolve_ant_references(
    refs: Iterable[Mapping[str, Any]], corpus: str | os.PathLike[str]
) -> list[dict[str, Any]]:
    """Turn label rows ``{doc_id, para, sha, label, ...}`` into records with
    the paragraph's ``text`` from the corpus, ``group`` = ``doc_id``,
    ``outlet``, ``category`` and ``context`` (the whole article, title first:
    what a model with article context reads).  Raises :class:`DataError`
    when a document or paragraph is missing or its text hash differs from ``sha``."""
    refs = list(refs)
    wanted = {r["doc_id"] for r in refs}
    docs = {d["doc_id"]: d for d in iter_ant_articles(corpus) if d["doc_id"] in wanted}
    out = []
    for r in refs:
        doc = docs.get(r["doc_id"])
        if doc is None:
            raise DataError(f"{corpus}: expected document {r['doc_id']!r}, found none")
        paras = doc["paragraphs"]
        if not 0 <= r["para"] < len(paras):
            raise DataError(
                f"{r['doc_id']}: expected paragraph {r['para']}, the article has {len(paras)}"
            )
        text = paras[r["para"]]
        if short_hash(text) != r["sha"]:
            raise DataError(
                f"{r['doc_id']}#{r['para']}: text hash {short_hash(text)} differs from the "
                f"recorded {r['sha']}; the corpus copy is not the one we labeled"
            )
        out.append(
            {
                **r,
                "text": text,
                "group": r["doc_id"],
                "outlet": doc["outlet"],
                "category": doc["category"],
                "context": article_context(paras, doc.get("title")),
            }
        )
    return out
