"""Artifacts: validated on load, never failing open."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import joblib
import pytest

import newsclf
from newsclf._artifact import METADATA_FILE, MODEL_FILE, sha256_file


@pytest.fixture
def copy(model_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "artifact"
    shutil.copytree(model_dir, dst)
    return dst


def _edit_metadata(path: Path, **changes) -> None:
    meta = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
    meta.update(changes)
    (path / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")


def test_metadata_records_what_is_promised(model_dir: Path) -> None:
    meta = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    for key in (
        "format_version",
        "labels",
        "model_sha256",
        "created",
        "hyperparameters",
        "metrics",
        "training_data",
        "uncertainty_threshold",
    ):
        assert key in meta
    assert set(meta["versions"]) >= {"newsclf", "scikit-learn", "numpy", "camel-tools", "python"}
    assert len(meta["training_data"]["sha256"]) == 64
    assert meta["model_sha256"] == sha256_file(model_dir / MODEL_FILE)


def test_tampered_model_refused_before_unpickling(copy: Path) -> None:
    """A model file that differs from its recorded hash is never unpickled."""
    with open(copy / MODEL_FILE, "ab") as f:
        f.write(b"\0")
    with pytest.raises(newsclf.ArtifactError, match=r"SHA-256 .* expected"):
        newsclf.load(copy)


def test_swapped_model_refused(copy: Path) -> None:
    """Replacing model.joblib by another pickle (code could run on load) is refused."""
    joblib.dump({"not": "a model"}, copy / MODEL_FILE)
    with pytest.raises(newsclf.ArtifactError, match="refusing to unpickle"):
        newsclf.load(copy)


def test_corrupt_pickle_with_matching_hash(copy: Path) -> None:
    (copy / MODEL_FILE).write_bytes(b"this is not a pickle")
    _edit_metadata(copy, model_sha256=sha256_file(copy / MODEL_FILE))
    with pytest.raises(newsclf.ArtifactError, match="could not unpickle"):
        newsclf.load(copy)


def test_other_object_with_matching_hash(copy: Path) -> None:
    joblib.dump({"not": "a model"}, copy / MODEL_FILE)
    _edit_metadata(copy, model_sha256=sha256_file(copy / MODEL_FILE))
    with pytest.raises(newsclf.ArtifactError, match="should hold a fitted scikit-learn Pipeline"):
        newsclf.load(copy)


def test_labels_disagreeing_with_model(copy: Path) -> None:
    _edit_metadata(copy, labels=["a", "b", "c", "d"])
    with pytest.raises(newsclf.ArtifactError, match="disagree with the model"):
        newsclf.load(copy)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "found no such file"),
        (b"{not json", "not valid UTF-8 JSON"),
        (b"\xff\xfe", "not valid UTF-8 JSON"),
        (b"[1, 2]", "must hold a JSON object, found list"),
    ],
)
def test_missing_or_malformed_metadata(copy: Path, content, message: str) -> None:
    if content is None:
        (copy / METADATA_FILE).unlink()
    else:
        (copy / METADATA_FILE).write_bytes(content)
    with pytest.raises(newsclf.ArtifactError, match=message):
        newsclf.load(copy)


@pytest.mark.parametrize("key", ["labels", "model_sha256", "format_version", "metrics"])
def test_missing_required_key(copy: Path, key: str) -> None:
    meta = json.loads((copy / METADATA_FILE).read_text(encoding="utf-8"))
    del meta[key]
    (copy / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(newsclf.ArtifactError, match=f"lacks required key '{key}'"):
        newsclf.load(copy)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format_version": 99}, "format_version 99 is not supported"),
        ({"format_version": "1"}, "should be an integer, found str"),
        ({"labels": []}, "non-empty list of distinct strings"),
        ({"uncertainty_threshold": 3}, r"within \[0, 1\]"),
    ],
)
def test_invalid_metadata_values(copy: Path, changes: dict, message: str) -> None:
    _edit_metadata(copy, **changes)
    with pytest.raises(newsclf.ArtifactError, match=message):
        newsclf.load(copy)


def test_missing_model_file_and_directory(copy: Path, tmp_path: Path) -> None:
    (copy / MODEL_FILE).unlink()
    with pytest.raises(newsclf.ArtifactError, match=r"expected model\.joblib"):
        newsclf.load(copy)
    with pytest.raises(newsclf.ArtifactError, match="expected an artifact directory"):
        newsclf.load(tmp_path / "nowhere")


def test_version_drift_warns(copy: Path) -> None:
    meta = json.loads((copy / METADATA_FILE).read_text(encoding="utf-8"))
    meta["versions"]["scikit-learn"] = "0.1.0"
    (copy / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.warns(newsclf.VersionMismatchWarning, match=r"scikit-learn 0\.1\.0"):
        newsclf.load(copy)


def test_same_versions_do_not_warn(model_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        newsclf.load(model_dir)


def test_load_refuses_non_path() -> None:
    with pytest.raises(newsclf.InputTypeError, match="expected a path"):
        newsclf.load(42)  # type: ignore[arg-type]
