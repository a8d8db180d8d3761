"""Model artifacts on disk: a directory with ``model.joblib`` and ``metadata.json``.

Loading checks, in order, and refuses with :class:`ArtifactError` at the
first failure (it never fails open):

1. the directory and both files exist;
2. ``metadata.json`` is a JSON object with every required key, of the right
   type, and a format version this library reads;
3. the SHA-256 of ``model.joblib`` equals ``metadata["model_sha256"]`` --
   checked *before* unpickling, so a swapped or corrupted file is never run;
4. the unpickled object is a fitted scikit-learn ``Pipeline`` whose classes
   are exactly ``metadata["labels"]``, in order.

Library versions that differ from those recorded give a
:class:`VersionMismatchWarning`.

.. warning:: joblib files are pickles: loading one executes code.  The hash
   check catches corruption and tampering *of the model file alone*; whoever
   can rewrite both files can run code on your machine.  Load only artifacts
   you trust.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import tempfile
import warnings
from collections.abc import Mapping
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any

from newsclf._errors import ArtifactError, VersionMismatchWarning

__all__ = [
    "FORMAT_VERSION",
    "artifact_digest",
    "METADATA_FILE",
    "MODEL_FILE",
    "library_versions",
    "read_artifact",
    "read_metadata",
    "sha256_file",
    "write_artifact",
]

FORMAT_VERSION = 1
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"

#: Required metadata keys and their JSON types.
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "format_version": int,
    "name": str,
    "created": str,
    "labels": list,
    "model_sha256": str,
    "versions": dict,
    "training_data": dict,
    "hyperparameters": dict,
    "metrics": dict,
    "uncertainty_threshold": (int, float),
}
#: Distributions whose version is recorded, and how many leading version
#: parts must match before loading stays silent: scikit-learn pickles and
#: camel-tools' maps change between minor releases, numpy, scipy and joblib
#: only break compatibility across major ones.
_TRACKED = {"scikit-learn": 2, "camel-tools": 2, "numpy": 1, "scipy": 1, "joblib": 1}


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model depends on."""
    versions = {"python": platform.python_version()}
    for dist in ("newsclf", *_TRACKED):
        try:
            versions[dist] = _metadata.version(dist)
        except _metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_artifact(
    pipeline: Any, path: str | os.PathLike[str], *, metadata: Mapping[str, Any]
) -> Path:
    """Save a fitted pipeline and its metadata as an artifact directory.

    ``metadata`` supplies ``name``, ``training_data``, ``hyperparameters``,
    ``metrics`` and ``uncertainty_threshold``; the format version, labels,
    model hash, library versions and (unless given) creation time are added
    here.  Returns the directory.
    """
    import joblib

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILE
    fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{MODEL_FILE}.")
    os.close(fd)
    try:
        joblib.dump(pipeline, tmp, compress=3)
        os.chmod(tmp, 0o644)
        os.replace(tmp, model_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    meta = dict(metadata)
    meta.setdefault("created", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    meta.update(
        format_version=FORMAT_VERSION,
        labels=[str(c) for c in pipeline.classes_],
        model_sha256=sha256_file(model_path),
        versions=library_versions(),
    )
    missing = sorted(set(_REQUIRED) - set(meta))
    if missing:
        raise ArtifactError(f"metadata is missing required keys {missing}", path=str(out))
    text = json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    _write_atomic(out / METADATA_FILE, text.encode("utf-8"))
    return out


def artifact_digest(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of an artifact's ``metadata.json``: it records the hash of
    every other file, so it identifies the whole artifact."""
    return sha256_file(Path(path) / METADATA_FILE)


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate ``metadata.json`` of the artifact at ``path``."""
    where = str(path)
    meta_path = Path(path) / METADATA_FILE
    if not Path(path).is_dir():
        raise ArtifactError("expected an artifact directory, found none", path=where)
    try:
        raw = meta_path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"expected {METADATA_FILE}, found no such file", path=where) from None
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArtifactError(f"{METADATA_FILE} is not valid UTF-8 JSON: {e}", path=where) from None
    if not isinstance(meta, dict):
        found = type(meta).__name__
        raise ArtifactError(f"{METADATA_FILE} must hold a JSON object, found {found}", path=where)
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
    if not labels or not all(isinstance(x, str) for x in labels) or len(set(labels)) != len(labels):
        raise ArtifactError(
            f"'labels' should be a non-empty list of distinct strings, found {labels!r:.80}",
            path=where,
        )
    if not 0.0 <= float(meta["uncertainty_threshold"]) <= 1.0:
        raise ArtifactError(
            "'uncertainty_threshold' should be within [0, 1], "
            f"found {meta['uncertainty_threshold']}",
            path=where,
        )
    return meta


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }
    return names[kind] if isinstance(kind, type) else "a number"


def read_artifact(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Validate and load the artifact at ``path``: ``(pipeline, metadata)``."""
    where = str(path)
    meta = read_metadata(path)
    model_path = Path(path) / MODEL_FILE
    if not model_path.is_file():
        raise ArtifactError(f"expected {MODEL_FILE}, found no such file", path=where)
    actual = sha256_file(model_path)
    if actual != meta["model_sha256"]:
        raise ArtifactError(
            f"{MODEL_FILE} has SHA-256 {actual}, expected {meta['model_sha256']} from "
            f"{METADATA_FILE}; the file was modified or corrupted, refusing to unpickle it",
            path=where,
        )
    _warn_on_version_drift(meta["versions"], where)
    pipeline = _unpickle(model_path, where)
    classes = getattr(pipeline, "classes_", None)
    steps = getattr(pipeline, "steps", None)
    if classes is None or not isinstance(steps, list):
        raise ArtifactError(
            f"{MODEL_FILE} should hold a fitted scikit-learn Pipeline, "
            f"found {type(pipeline).__name__}",
            path=where,
        )
    if [str(c) for c in classes] != meta["labels"]:
        raise ArtifactError(
            f"labels in {METADATA_FILE} {meta['labels']} disagree with the model's "
            f"classes {[str(c) for c in classes]}",
            path=where,
        )
    return pipeline, meta


def _unpickle(model_path: Path, where: str) -> Any:
    import joblib

    with warnings.catch_warnings():
        # scikit-learn warns per estimator when versions differ; the single
        # VersionMismatchWarning above already says so, with the fix.
        warnings.filterwarnings("ignore", message=".*Trying to unpickle estimator.*")
        try:
            return joblib.load(model_path)
        except Exception as e:  # anything a broken pickle can raise
            raise ArtifactError(
                f"could not unpickle {MODEL_FILE}: {type(e).__name__}: {e}", path=where
            ) from e


def _warn_on_version_drift(recorded: Mapping[str, Any], where: str) -> None:
    current = library_versions()
    drift = [
        f"{dist} {recorded.get(dist)} (running {current[dist]})"
        for dist, parts in _TRACKED.items()
        if _leading(recorded.get(dist), parts) != _leading(current[dist], parts)
    ]
    if drift:
        warnings.warn(
            f"{where}: artifact written with other library versions: {', '.join(drift)}; "
            "predictions may differ -- retrain with `newsclf train` to silence this",
            VersionMismatchWarning,
            stacklevel=3,
        )


def _leading(version: object, parts: int) -> tuple[str, ...]:
    return tuple(str(version).split(".")[:parts])
