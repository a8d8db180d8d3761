"""Model artifacts: a directory of data -- JSON, UTF-8 text and ``.npy`` arrays.

Format 2 (this one)::

    metadata.json            name, labels, threshold, metrics, versions, the
                             recipe (below) and the SHA-256 of every other file
    coef.npy, intercept.npy  the linear model (float64, ``allow_pickle=False``)
    <block>.hashes.npy       sorted 64-bit hashes of a block's n-grams ...
    <block>.ids.npy          ... and the column of each
    <block>.idf.npy          inverse document frequencies (vocabulary blocks)
    <block>.vocab.txt        the n-grams, one per line, in column order

The recipe says, as data, how text becomes features: for each *block* of
columns, which input it reads (the paragraph, or its whole article), the
n-gram range, proclitic stripping, ``1 + log(tf)``, L2 norm and weight; and
which hash of n-grams the arrays use.  The code that interprets it lives in
the library (:mod:`newsclf._engine`), never in the artifact.

Loading reads each file once, checks the SHA-256 of exactly the bytes it
then parses, and refuses with :class:`ArtifactError` at the first problem:
missing keys (and, in the recipe the engine interprets, unknown ones), wrong
types, shapes or values, unknown format or hash, a file whose hash differs.
Nothing in the directory is ever executed: there is no pickle anywhere on
the load path.  Format-1 artifacts (a joblib pickle) are
refused; ``newsclf convert OLD NEW --trust-pickle`` turns one you trust into
format 2.

Writing is atomic: the files go into a temporary directory beside the
target, are hashed as written, and that directory is exchanged with the
target in one step (Linux ``renameat2``; elsewhere two renames), so a crash
or a concurrent writer never leaves a mixed or missing artifact: the path
always holds the previous artifact or the new one, whole.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

import numpy as np

from newsclf import _json
from newsclf._engine import Block
from newsclf._errors import ArtifactError, VersionMismatchWarning

__all__ = [
    "FORMAT_VERSION",
    "HASH_NAME",
    "METADATA_FILE",
    "Recipe",
    "artifact_digest",
    "check_target",
    "library_versions",
    "read_artifact",
    "read_metadata",
    "write_artifact",
]

FORMAT_VERSION = 2
METADATA_FILE = "metadata.json"
#: The n-gram hash the engine computes; an artifact naming another is refused.
HASH_NAME = "newsclf-ngram-hash-1"
#: Inputs a block can read.
INPUTS = ("paragraph", "article")
#: How a classifier turns scores into probabilities (see :class:`Recipe`).
KINDS = ("multinomial", "ovr")
#: Largest inverse document frequency a block may hold (log of 10^400 documents).
MAX_IDF = 1000.0
#: Largest weight of a block's features an artifact may give.
MAX_WEIGHT = 1e6
#: Longest n-grams a block may count.
MAX_NGRAM = 8
#: Largest file an artifact may hold (a guard against a planted huge file).
MAX_FILE_BYTES = 1 << 30

#: Required metadata keys and their JSON types.
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "format_version": int,
    "name": str,
    "created": str,
    "labels": list,
    "versions": dict,
    "training_data": dict,
    "hyperparameters": dict,
    "metrics": dict,
    "uncertainty_threshold": (int, float),
    "recipe": dict,
    "files": dict,
}
#: Distributions whose version is recorded; a different major version warns.
_TRACKED = ("newsclf", "numpy")


@dataclass(frozen=True)
class NamedBlock:
    """A :class:`~newsclf._engine.Block` with what the artifact adds: its
    name, the input it reads, its weight and (lazily) its n-grams."""

    name: str
    input: str
    weight: float
    block: Block
    vocabulary: bytes | None = field(default=None, repr=False)  # UTF-8, one n-gram a line

    def ngrams(self) -> list[str]:
        """The n-gram of each column (hash buckets for a hashed block)."""
        if self.vocabulary is None:
            return [f"#{i}" for i in range(self.block.n_columns)]
        return self.vocabulary.decode("utf-8").split("\n")[: self.block.n_columns]


@dataclass(frozen=True)
class Recipe:
    """Everything inference needs: the blocks and the linear model."""

    labels: tuple[str, ...]
    blocks: tuple[NamedBlock, ...]
    coef: np.ndarray  # n_classes (1 when binary) × n_columns
    intercept: np.ndarray
    #: How scores become probabilities: "multinomial" (softmax; a sigmoid when
    #: binary), as LogisticRegression; "ovr" (a sigmoid per label, rows
    #: normalized), as SGDClassifier(loss="log_loss").
    kind: str = "multinomial"

    @property
    def n_columns(self) -> int:
        return sum(b.block.n_columns for b in self.blocks)

    def to_json(self) -> dict[str, Any]:
        """The recipe as it stands in ``metadata.json`` (file names, no arrays)."""
        return {
            "hash": HASH_NAME,
            "classifier": {"kind": self.kind, "coef": "coef.npy", "intercept": "intercept.npy"},
            "blocks": [
                {
                    "name": b.name,
                    "input": b.input,
                    "weight": b.weight,
                    "kind": "hashed" if b.block.hashes is None else "vocabulary",
                    "n_columns": b.block.n_columns,
                    "ngram_range": list(b.block.ngram_range),
                    "strip_clitics": b.block.strip_clitics,
                    "sublinear_tf": b.block.sublinear_tf,
                    "norm": b.block.norm,
                    "idf": b.block.idf is not None,
                }
                for b in self.blocks
            ],
        }


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model depends on."""
    versions = {"python": platform.python_version()}
    for dist in (*_TRACKED, "scikit-learn", "camel-tools"):
        try:
            versions[dist] = _metadata.version(dist)
        except _metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def _files(recipe: Recipe) -> dict[str, bytes]:
    """The artifact's data files, by name."""
    files = {"coef.npy": _npy(recipe.coef), "intercept.npy": _npy(recipe.intercept)}
    for b in recipe.blocks:
        if b.block.hashes is not None:
            assert b.block.ids is not None and b.vocabulary is not None
            files[f"{b.name}.hashes.npy"] = _npy(b.block.hashes)
            files[f"{b.name}.ids.npy"] = _npy(b.block.ids)
            files[f"{b.name}.vocab.txt"] = b.vocabulary
        if b.block.idf is not None:
            files[f"{b.name}.idf.npy"] = _npy(b.block.idf)
    return files


def _created() -> str:
    """Now, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds: then the
    same model gives a byte-identical artifact, metadata included)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    when = (
        _dt.datetime.fromtimestamp(int(epoch), _dt.UTC)
        if epoch.isdigit()
        else _dt.datetime.now(_dt.UTC)
    )
    return when.isoformat(timespec="seconds")


def check_target(path: str | os.PathLike[str]) -> None:
    """Refuse, with :class:`ArtifactError`, a target that writing an
    artifact there would destroy or cannot use: a file, or a folder that is
    neither empty nor an artifact (everything in it would be replaced)."""
    target = Path(path)
    if str(path) == "":
        raise ArtifactError("expected a directory path to write the artifact to, found ''")
    if target.exists() and not target.is_dir():
        raise ArtifactError(
            "this is a file; expected a directory to write the artifact in", path=str(path)
        )
    if target.is_dir() and any(target.iterdir()) and not _holds_only_an_artifact(target):
        raise ArtifactError(
            "this folder is not a newsclf model: writing one would replace it and everything "
            "in it; choose a new or empty folder",
            path=str(path),
        )


def _holds_only_an_artifact(folder: Path) -> bool:
    """Whether ``folder`` holds a newsclf artifact and nothing else: its
    ``metadata.json`` is a newsclf one (format 2: with the list of its
    files; format 1: with its pickle's hash), and every entry is one of its
    files.  (A ``metadata.json`` alone is not enough: it is a common name.)"""
    try:
        meta = json.loads((folder / METADATA_FILE).read_bytes())
    except (OSError, ValueError):
        return False
    if not isinstance(meta, dict):
        return False
    if "format_version" in meta and isinstance(meta.get("files"), dict):
        names = {METADATA_FILE, *meta["files"]}
    elif "model_sha256" in meta:
        names = {METADATA_FILE, "model.joblib"}
    else:
        return False
    return all(entry.name in names and entry.is_file() for entry in folder.iterdir())


def write_artifact(
    recipe: Recipe,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any],
    overwrite: bool = True,
) -> Path:
    """Write ``recipe`` and ``metadata`` as an artifact directory, atomically.

    ``metadata`` supplies ``name``, ``training_data``, ``hyperparameters``,
    ``metrics`` and ``uncertainty_threshold``; the format version, labels,
    recipe, file hashes, library versions and (unless given) the creation
    time are added here.  Same recipe and metadata give the same bytes.
    Returns the directory.
    """
    check_target(path)
    out = Path(path)
    if out.is_symlink():  # write through a link (models/current -> models/v3), never replace it
        out = Path(os.path.realpath(out))
        check_target(out)
    if out.exists() and not overwrite:
        raise ArtifactError("the target exists; pass overwrite=True to replace it", path=str(out))
    files = _files(recipe)
    meta = dict(metadata)
    meta.setdefault("created", _created())
    meta.update(
        format_version=FORMAT_VERSION,
        labels=list(recipe.labels),
        recipe=recipe.to_json(),
        files={name: _sha256(data) for name, data in sorted(files.items())},
        versions=library_versions(),
    )
    meta["recipe_sha256"] = _recipe_digest(meta)
    _check_metadata(meta, str(out))
    files[METADATA_FILE] = (
        json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    ).encode("utf-8")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    except OSError as e:
        raise _cannot_write(e, out) from None
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        tmp.chmod(0o755)
        if not out.exists():
            os.replace(tmp, out)
        elif _exchange(tmp, out):  # one atomic step: `out` is always a whole artifact
            shutil.rmtree(tmp, ignore_errors=True)
        else:  # no atomic exchange here: move the old one aside, then the new one in
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old."))
            os.replace(out, old / "artifact")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):  # a full disk, a read-only file system ...
            raise _cannot_write(e, out) from None
        raise
    return out


def _cannot_write(e: OSError, out: Path) -> ArtifactError:
    return ArtifactError(f"cannot write the artifact here: {e.strerror or e}", path=str(out))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``);
    ``False`` where the system has no such call."""
    import ctypes
    import errno

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _read(path: Path, name: str, where: str) -> bytes:
    """The bytes of one file of the artifact, read once."""
    file = path / name
    try:
        if file.is_symlink() or not file.is_file():
            found = (
                "a symbolic link (never followed)"
                if file.is_symlink()
                else "a folder"
                if file.is_dir()
                else "none"
            )
            raise ArtifactError(f"expected a regular file {name}, found {found}", path=where)
        with open(file, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ArtifactError(f"cannot read {name}: {e.strerror or e}", path=where) from None
    if len(data) > MAX_FILE_BYTES:
        raise ArtifactError(f"{name} is larger than {MAX_FILE_BYTES} bytes", path=where)
    return data


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate ``metadata.json`` of the artifact at ``path`` (no
    other file is read)."""
    return _parse_metadata(_read_dir(path), str(path))[0]


def artifact_digest(path: str | os.PathLike[str]) -> str:
    """The digest :func:`read_artifact` gives the artifact at ``path`` now
    (the SHA-256 of its metadata file, which records every other file's),
    reading nothing else."""
    return _sha256(_read(_read_dir(path), METADATA_FILE, str(path)))


def _read_dir(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_dir():
        found = "a file" if p.exists() else "none"
        raise ArtifactError(f"expected an artifact directory, found {found}", path=str(path))
    return p


def _parse_metadata(p: Path, where: str) -> tuple[dict[str, Any], str]:
    """``(metadata, digest)``: the validated metadata and the SHA-256 of the
    bytes it was parsed from."""
    raw = _read(p, METADATA_FILE, where)
    try:
        meta = _json.loads(raw)
    except ValueError as e:  # UnicodeDecodeError is a ValueError
        why = str(e).removeprefix("invalid JSON: ")
        raise ArtifactError(f"{METADATA_FILE} is not valid UTF-8 JSON: {why}", path=where) from None
    if not isinstance(meta, dict):
        found = type(meta).__name__
        raise ArtifactError(f"{METADATA_FILE} must hold a JSON object, found {found}", path=where)
    version = meta.get("format_version")
    if (type(version) is int and version == 1) or (p / "model.joblib").exists():
        raise ArtifactError(
            "this is a format-1 artifact (a pickle, which newsclf no longer loads); convert "
            "one you trust with `newsclf convert OLD NEW --trust-pickle`, or retrain",
            path=where,
        )
    _check_metadata(meta, where)
    return meta, _sha256(raw)


def _check_metadata(meta: Mapping[str, Any], where: str) -> None:
    """Refuse, with :class:`ArtifactError`, metadata the loader cannot use:
    checked on load, and before writing (so that nothing is written that
    would not load)."""
    for key, kind in _REQUIRED.items():
        if key not in meta:
            raise ArtifactError(f"{METADATA_FILE} lacks required key {key!r}", path=where)
        if not isinstance(meta[key], kind) or isinstance(meta[key], bool):
            raise ArtifactError(
                f"{METADATA_FILE}: {key!r} should be {_type_name(kind)}, "
                f"found {type(meta[key]).__name__} {meta[key]!r:.60}",
                path=where,
            )
    if meta["format_version"] != FORMAT_VERSION:
        raise ArtifactError(
            f"format_version {meta['format_version']} is not supported by this "
            f"newsclf (expected {FORMAT_VERSION}); use the newsclf release that wrote it",
            path=where,
        )
    labels = meta["labels"]
    if (
        len(labels) < 2
        or not all(isinstance(x, str) for x in labels)
        or len(set(labels)) != len(labels)
    ):
        raise ArtifactError(
            f"'labels' should be a list of 2 or more distinct strings, found {labels!r:.80}",
            path=where,
        )
    if not 0 <= meta["uncertainty_threshold"] <= 1:
        raise ArtifactError(
            "'uncertainty_threshold' should be within [0, 1], "
            f"found {meta['uncertainty_threshold']!r:.40}",
            path=where,
        )


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {
        bool: "true or false", int: "an integer", float: "a number", str: "a string",
        list: "a list", dict: "an object",
    }  # fmt: skip
    if isinstance(kind, type):
        return names[kind]
    return "a string or null" if str in kind else "a number"


class _Files:
    """The artifact's data files, each read once and checked against its hash."""

    def __init__(self, p: Path, hashes: Mapping[str, Any], where: str) -> None:
        self.p, self.hashes, self.where = p, hashes, where

    def bytes(self, name: str) -> bytes:
        expected = self.hashes.get(name)
        if not isinstance(expected, str):
            raise ArtifactError(f"'files' has no SHA-256 for {name}", path=self.where)
        data = _read(self.p, name, self.where)
        actual = _sha256(data)
        if actual != expected:
            raise ArtifactError(
                f"{name} has SHA-256 {actual}, expected {expected} from {METADATA_FILE}; "
                "the file was modified or corrupted",
                path=self.where,
            )
        return data

    def array(self, name: str, dtype: str, ndim: int) -> np.ndarray:
        data = self.bytes(name)
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as e:  # numpy raises ValueError, OSError, EOFError, ...
            raise ArtifactError(f"{name} is not a valid .npy array: {e}", path=self.where) from None
        if (
            not isinstance(array, np.ndarray)
            or array.dtype != np.dtype(dtype)
            or array.ndim != ndim
        ):
            raise ArtifactError(
                f"{name} should be a {ndim}-d {dtype} array, found "
                f"{getattr(array, 'dtype', type(array).__name__)} with shape "
                f"{getattr(array, 'shape', '?')}",
                path=self.where,
            )
        return array


def _check(condition: bool, message: str, where: str) -> None:
    if not condition:
        raise ArtifactError(message, path=where)


def _read_block(spec: Any, files: _Files, where: str) -> NamedBlock:
    _check(isinstance(spec, dict), f"a recipe block should be an object, found {spec!r:.60}", where)
    keys: dict[str, type | tuple[type, ...]] = {
        "name": str, "input": str, "weight": (int, float), "kind": str, "n_columns": int,
        "ngram_range": list, "strip_clitics": bool, "sublinear_tf": bool, "idf": bool,
        "norm": (str, type(None)),
    }  # fmt: skip
    unknown = sorted(set(spec) - set(keys))
    _check(not unknown, f"recipe block {spec.get('name')!r} has unknown keys {unknown}", where)
    for key, kind in keys.items():
        value = spec.get(key)
        _check(
            key in spec
            and isinstance(value, kind)
            and (kind is bool or not isinstance(value, bool)),
            f"recipe block {spec.get('name')!r}: {key!r} should be {_type_name(kind)}, "
            f"found {f'{value!r:.60}' if key in spec else 'none'}",
            where,
        )
    name, n = spec["name"], spec["n_columns"]
    lo_hi = spec["ngram_range"]
    _check(
        name.isidentifier()
        and spec["input"] in INPUTS
        and spec["kind"] in ("vocabulary", "hashed")
        and spec["norm"] in ("l2", None)
        and 0 <= spec["weight"] <= MAX_WEIGHT
        and n >= 1
        and len(lo_hi) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in lo_hi)
        and 1 <= lo_hi[0] <= lo_hi[1] <= MAX_NGRAM,
        f"recipe block {name!r} has invalid settings: {json.dumps(spec)[:200]}",
        where,
    )
    hashes = ids = idf = None
    vocabulary = None
    if spec["kind"] == "vocabulary":
        hashes = files.array(f"{name}.hashes.npy", "<u8", 1)
        ids = files.array(f"{name}.ids.npy", "<i8", 1)
        vocabulary = files.bytes(f"{name}.vocab.txt")
        _check(
            len(hashes) == len(ids) == n
            and bool(np.all(hashes[1:] > hashes[:-1]))
            and bool(np.all(np.bincount(ids.clip(0, n), minlength=n + 1)[:n] == 1)),
            f"block {name!r}: {n} hashes, sorted and distinct, with ids naming each "
            f"column in [0, {n}) once",
            where,
        )
        try:
            vocabulary.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ArtifactError(f"{name}.vocab.txt is not UTF-8: {e}", path=where) from None
        lines = vocabulary.count(b"\n") + 1
        _check(
            lines == n and b"\r" not in vocabulary,
            f"{name}.vocab.txt should hold {n} n-grams, one per line (\\n), found {lines} lines",
            where,
        )
    if spec["idf"]:
        idf = files.array(f"{name}.idf.npy", "<f8", 1)
        _check(
            len(idf) == n and bool(np.all((idf >= 0) & (idf <= MAX_IDF))),
            f"{name}.idf.npy should hold {n} weights within [0, {MAX_IDF}]",
            where,
        )
    block = Block(
        ngram_range=(lo_hi[0], lo_hi[1]),
        strip_clitics=spec["strip_clitics"],
        sublinear_tf=spec["sublinear_tf"],
        norm=spec.get("norm"),
        n_columns=n,
        hashes=hashes,
        ids=ids,
        idf=idf,
    )
    return NamedBlock(name, spec["input"], float(spec["weight"]), block, vocabulary)


def read_artifact(path: str | os.PathLike[str]) -> tuple[Recipe, dict[str, Any], str]:
    """Validate and load the artifact at ``path``: ``(recipe, metadata, digest)``,
    ``digest`` being the SHA-256 of its ``metadata.json`` (which holds the
    hash of every other file, so it names the whole artifact)."""
    where = str(path)
    p = _read_dir(path)
    meta, digest = _parse_metadata(p, where)
    recipe = meta["recipe"]
    _check(
        recipe.get("hash") == HASH_NAME,
        f"the recipe uses n-gram hash {recipe.get('hash')!r}; this newsclf computes {HASH_NAME!r}",
        where,
    )
    files = _Files(p, meta["files"], where)
    blocks_spec = recipe.get("blocks")
    _check(isinstance(blocks_spec, list) and bool(blocks_spec), "recipe has no blocks", where)
    blocks = tuple(_read_block(spec, files, where) for spec in blocks_spec)
    _check(len({b.name for b in blocks}) == len(blocks), "recipe block names repeat", where)
    coef = files.array("coef.npy", "<f8", 2)
    intercept = files.array("intercept.npy", "<f8", 1)
    n_labels, n_columns = len(meta["labels"]), sum(b.block.n_columns for b in blocks)
    rows = 1 if n_labels == 2 else n_labels
    _check(
        coef.shape == (rows, n_columns) and intercept.shape == (rows,),
        f"coef.npy {coef.shape} and intercept.npy {intercept.shape} should be "
        f"({rows}, {n_columns}) and ({rows},) for {n_labels} labels",
        where,
    )
    _check(
        bool(np.isfinite(coef).all() and np.isfinite(intercept).all()),
        "coef.npy and intercept.npy must hold finite numbers",
        where,
    )
    classifier = recipe.get("classifier")
    kind = classifier.get("kind") if isinstance(classifier, dict) else None
    _check(kind in KINDS, f"classifier kind should be one of {KINDS}, found {kind!r:.40}", where)
    # Artifacts written before the key was added have none: they load as before.
    recipe_digest = _recipe_digest(meta)
    _check(
        meta.get("recipe_sha256", recipe_digest) == recipe_digest,
        f"{METADATA_FILE}'s labels or recipe differ from those it was written with (their "
        "SHA-256 is not its recipe_sha256): an edit there silently changes every answer; "
        "restore the file, or retrain (name, threshold, metrics and versions may be edited)",
        where,
    )
    _warn_on_version_drift(meta["versions"], where)
    return Recipe(tuple(meta["labels"]), blocks, coef, intercept, str(kind)), meta, digest


def _recipe_digest(meta: Mapping[str, Any]) -> str:
    """The SHA-256 of what in ``metadata.json`` decides the answers, beside
    the arrays its ``files`` hashes cover: the labels (their order is the
    arrays' row order) and the recipe, as canonical JSON."""
    canonical = json.dumps(
        {"labels": meta["labels"], "recipe": meta["recipe"]},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return _sha256(canonical.encode("utf-8", "surrogatepass"))


def _warn_on_version_drift(recorded: Mapping[str, Any], where: str) -> None:
    current = library_versions()
    drift = [
        f"{dist} {recorded.get(dist)} (running {current[dist]})"
        for dist in _TRACKED
        if str(recorded.get(dist)).split(".")[:1] != current[dist].split(".")[:1]
    ]
    if drift:
        warnings.warn(
            f"{where}: artifact written with other library versions: {', '.join(drift)}; "
            "predictions may differ -- retrain with `newsclf train` to silence this",
            VersionMismatchWarning,
            stacklevel=3,
        )
