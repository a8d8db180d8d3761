"""Artifacts: data only, validated on load, never failing open, never running code."""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import newsclf
from newsclf._artifact import METADATA_FILE


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
    """The metadata names every file with its SHA-256, the recipe, versions and metrics."""
    import hashlib

    meta = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    for key in ("format_version", "labels", "created", "hyperparameters", "metrics", "recipe"):
        assert key in meta
    assert meta["format_version"] == 2
    assert set(meta["versions"]) >= {"newsclf", "numpy", "python"}
    assert len(meta["training_data"]["sha256"]) == 64
    files = sorted(p.name for p in model_dir.iterdir() if p.name != METADATA_FILE)
    assert sorted(meta["files"]) == files
    for name, digest in meta["files"].items():
        assert hashlib.sha256((model_dir / name).read_bytes()).hexdigest() == digest
    assert not any(name.endswith((".joblib", ".pkl", ".pickle")) for name in files)


def test_same_model_saves_the_same_bytes(clf, tmp_path: Path) -> None:
    """Saving is deterministic: same model and metadata, byte-identical files."""
    a, b = clf.save(tmp_path / "a"), clf.save(tmp_path / "b")
    for file in a.iterdir():
        assert file.read_bytes() == (b / file.name).read_bytes(), file.name


@pytest.mark.parametrize("name", ["coef.npy", "paragraph.vocab.txt", "paragraph.hashes.npy"])
def test_tampered_file_refused(copy: Path, name: str) -> None:
    """A data file that differs from its recorded hash is refused."""
    with open(copy / name, "ab") as f:
        f.write(b"\0")
    with pytest.raises(newsclf.ArtifactError, match=rf"{name} has SHA-256 .* expected"):
        newsclf.load(copy)


def test_format_1_refused_with_the_way_out(copy: Path) -> None:
    """A format-1 artifact is refused with an ArtifactError that gives the command converting it
    (``newsclf convert OLD NEW --trust-pickle``)."""
    _edit_metadata(copy, format_version=1)
    with pytest.raises(newsclf.ArtifactError, match="newsclf convert OLD NEW --trust-pickle"):
        newsclf.load(copy)


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_planted_pickle_is_never_run(copy: Path, tmp_path: Path, monkeypatch) -> None:
    """A malicious pickle in place of an array (with its hash updated) is refused, not run."""
    import hashlib

    monkeypatch.chdir(tmp_path)
    payload = pickle.dumps(_Boom())
    for name in ("coef.npy", "model.joblib"):
        (copy / name).write_bytes(payload)
    meta = json.loads((copy / METADATA_FILE).read_text(encoding="utf-8"))
    meta["files"]["coef.npy"] = hashlib.sha256(payload).hexdigest()
    (copy / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(newsclf.ArtifactError):
        newsclf.load(copy)
    (copy / "model.joblib").unlink()
    with pytest.raises(newsclf.ArtifactError, match=r"not a valid \.npy"):
        newsclf.load(copy)
    assert not (tmp_path / "PWNED").exists()


def test_object_array_is_refused(copy: Path) -> None:
    """An .npy holding Python objects (a pickle inside) is refused with allow_pickle=False."""
    import hashlib
    import io

    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (copy / "intercept.npy").write_bytes(buf.getvalue())
    meta = json.loads((copy / METADATA_FILE).read_text(encoding="utf-8"))
    meta["files"]["intercept.npy"] = hashlib.sha256(buf.getvalue()).hexdigest()
    (copy / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(newsclf.ArtifactError, match=r"intercept\.npy"):
        newsclf.load(copy)


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(data=st.data())
def test_fuzzed_artifacts_give_artifact_error(model_dir: Path, tmp_path_factory, data) -> None:
    """Random bytes, truncations and edits in any file (hashes updated or not): an
    ArtifactError or a working model, never another exception."""
    import hashlib

    copy = tmp_path_factory.mktemp("fuzz") / "a"
    shutil.copytree(model_dir, copy)
    names = sorted(p.name for p in copy.iterdir())
    name = data.draw(st.sampled_from(names))
    raw = (copy / name).read_bytes()
    how = data.draw(st.sampled_from(["random", "truncate", "flip", "splice"]))
    if how == "random":
        new = data.draw(st.binary(max_size=300))
    elif how == "truncate":
        new = raw[: data.draw(st.integers(0, max(0, len(raw) - 1)))]
    elif how == "flip":
        at = data.draw(st.integers(0, max(0, len(raw) - 1)))
        new = (
            raw[:at]
            + bytes([(raw[at] if raw else 0) ^ data.draw(st.integers(1, 255))])
            + raw[at + 1 :]
        )
    else:
        at = data.draw(st.integers(0, len(raw)))
        new = raw[:at] + data.draw(st.binary(min_size=1, max_size=40)) + raw[at:]
    (copy / name).write_bytes(new)
    if name != METADATA_FILE and data.draw(st.booleans()):
        meta = json.loads((copy / METADATA_FILE).read_text(encoding="utf-8"))
        meta["files"][name] = hashlib.sha256(new).hexdigest()
        (copy / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    try:
        clf = newsclf.load(copy)
    except newsclf.ArtifactError:
        return
    clf.predict(["قصفت المدفعية مواقع المسلحين", ""])


def test_convert_format_1(model_dir: Path, tmp_path: Path) -> None:
    """A format-1 artifact converts only with trust_pickle, and predicts as before."""
    import hashlib

    import joblib

    from newsclf._features import convert_legacy

    clf = newsclf.load(model_dir)
    old = tmp_path / "old"
    old.mkdir()
    joblib.dump(clf.pipeline, old / "model.joblib")
    digest = hashlib.sha256((old / "model.joblib").read_bytes()).hexdigest()
    meta = {
        "format_version": 1,
        "model_sha256": digest,
        "name": "old",
        "uncertainty_threshold": 0.4,
    }
    (old / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(newsclf.ArtifactError, match="format-1"):
        newsclf.load(old)
    with pytest.raises(newsclf.ArtifactError, match="trust_pickle"):
        convert_legacy(str(old), str(tmp_path / "new"))
    new = newsclf.load(convert_legacy(str(old), str(tmp_path / "new"), trust_pickle=True))
    texts = ["قصفت المدفعية مواقع المسلحين", "اشترك الآن"]
    np.testing.assert_allclose(new.predict_proba(texts), clf.predict_proba(texts), atol=1e-9)
    assert new.threshold == 0.4
    # Regression (training audit): converting in place destroyed the original.
    with pytest.raises(newsclf.ArtifactError, match="NEW is OLD"):
        convert_legacy(str(old), str(old), trust_pickle=True)
    assert (old / "model.joblib").is_file()


def test_save_replaces_atomically_and_keeps_nothing_behind(clf, tmp_path: Path) -> None:
    """Saving over a model replaces it and leaves no temporary folder beside it; ``overwrite=False``
    refuses an existing model, and a path that is a file is refused."""
    target = tmp_path / "m"
    clf.save(target)
    clf.save(target, name="again")
    assert newsclf.load(target).metadata["name"] == "again"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    with pytest.raises(newsclf.ArtifactError, match="exists"):
        clf.save(target, overwrite=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(newsclf.ArtifactError, match="directory"):
        clf.save(tmp_path / "file")
    # Regression (training audit): a raw FileExistsError naming a temporary folder.
    with pytest.raises(newsclf.ArtifactError, match="cannot write the artifact here"):
        clf.save(tmp_path / "file" / "m")


def test_save_writes_through_a_link(clf, tmp_path: Path) -> None:
    """Regression (training audit): saving to ``current -> v1`` replaced the
    link with a folder, left the old model in v1 and the link itself as a
    hidden ``.current.*`` entry; a link to nowhere gave NotADirectoryError.
    The model is now written where the link points, and the link stays."""
    clf.save(tmp_path / "v1", name="first")
    (tmp_path / "current").symlink_to("v1")
    clf.save(tmp_path / "current", name="second")
    (tmp_path / "next").symlink_to("v2")  # a link to nowhere yet
    clf.save(tmp_path / "next", name="third")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "next", "v1", "v2"]
    assert (tmp_path / "current").is_symlink() and (tmp_path / "next").is_symlink()
    assert newsclf.load(tmp_path / "v1").metadata["name"] == "second"
    assert newsclf.load(tmp_path / "next").metadata["name"] == "third"


def test_save_never_replaces_a_folder_that_is_not_a_model(
    clf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: ``save`` replaced whatever folder it was given, deleting
    everything in it (the command line refused; the library did not).  A
    folder that is neither empty nor a model, or that holds the bundled
    model, is refused before anything is written; an empty one is used."""
    import newsclf._model

    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "thesis.txt").write_text("years of work")
    with pytest.raises(newsclf.ArtifactError, match="not a newsclf model"):
        clf.save(docs)
    assert sorted(p.name for p in docs.iterdir()) == ["sub", "thesis.txt"]
    bundled = clf.save(tmp_path / "models" / "bundled")
    monkeypatch.setattr(newsclf._model, "bundled_model_path", lambda: bundled)
    for holder in (tmp_path / "models", tmp_path):
        with pytest.raises(newsclf.ArtifactError, match="holds the bundled model"):
            clf.save(holder)
    assert newsclf.load(bundled).labels == clf.labels
    (tmp_path / "empty").mkdir()
    assert newsclf.load(clf.save(tmp_path / "empty")).labels == clf.labels


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "expected a regular file metadata.json"),
        (b"{not json", "not valid UTF-8 JSON"),
        (b"\xff\xfe", "not valid UTF-8 JSON"),
        (b"[1, 2]", "must hold a JSON object, found list"),
    ],
)
def test_missing_or_malformed_metadata(copy: Path, content, message: str) -> None:
    """A missing ``metadata.json``, one that is not UTF-8 JSON, or one that holds no JSON object is
    refused with an ArtifactError saying which."""
    if content is None:
        (copy / METADATA_FILE).unlink()
    else:
        (copy / METADATA_FILE).write_bytes(content)
    with pytest.raises(newsclf.ArtifactError, match=message):
        newsclf.load(copy)


@pytest.mark.parametrize("key", ["labels", "files", "format_version", "metrics", "recipe"])
def test_missing_required_key(copy: Path, key: str) -> None:
    """Metadata lacking a required key is refused with an ArtifactError naming the key."""
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
        ({"format_version": True}, "should be an integer, found bool"),  # not format 1
        ({"labels": []}, "list of 2 or more distinct strings"),
        ({"uncertainty_threshold": 3}, r"within \[0, 1\]"),
    ],
)
def test_invalid_metadata_values(copy: Path, changes: dict, message: str) -> None:
    """An unsupported or non-integer ``format_version``, fewer than 2 labels, or a threshold outside
    [0, 1] is refused with an ArtifactError saying what is wrong."""
    _edit_metadata(copy, **changes)
    with pytest.raises(newsclf.ArtifactError, match=message):
        newsclf.load(copy)


def _npy_edit(data: bytes, change: Any) -> bytes:
    """The .npy file ``data`` with its array changed by ``change``."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(change(np.load(io.BytesIO(data)))))
    return buf.getvalue()


def _first_block(meta: dict, drop: str = "", **changes) -> dict:
    """``meta`` with its first recipe block changed, and key ``drop`` removed."""
    block = meta["recipe"]["blocks"][0]
    block.update(changes)
    block.pop(drop, None)
    return meta


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        (METADATA_FILE, lambda m: _first_block(m, weight=float("nan")), "NaN is not a JSON"),
        (METADATA_FILE, lambda m: _first_block(m, weight=10**400), "invalid settings"),
        (METADATA_FILE, lambda m: _first_block(m, weight=-1), "invalid settings"),
        (METADATA_FILE, lambda m: _first_block(m, drop="norm"), "'norm' should be"),
        (METADATA_FILE, lambda m: _first_block(m, fancy=True), r"unknown keys \['fancy'\]"),
        (METADATA_FILE, lambda m: {**m, "uncertainty_threshold": 10**400}, r"within \[0, 1\]"),
        (METADATA_FILE, lambda m: {**m, "labels": m["labels"][:1]}, "2 or more"),
        ("paragraph.vocab.txt", lambda b: b.rsplit(b"\n", 1)[0], "should hold"),
        ("paragraph.vocab.txt", lambda b: b.replace(b"\n", b"\r\n"), "should hold"),
        ("paragraph.vocab.txt", lambda b: b"\xff" + b[1:], "not UTF-8"),
        ("paragraph.ids.npy", lambda b: _npy_edit(b, lambda a: np.r_[a[:1], a[:1], a[2:]]), "once"),
        ("paragraph.hashes.npy", lambda b: _npy_edit(b, lambda a: a[::-1]), "sorted"),
        ("coef.npy", lambda b: _npy_edit(b, lambda a: a * np.inf), "finite"),
    ],
)
def test_a_consistent_but_wrong_artifact_is_refused(
    copy: Path, file: str, edit: Any, message: str
) -> None:
    """Regression: with its hashes rewritten to match, a NaN or huge weight
    or threshold, one label, a vocabulary of the wrong length, not UTF-8 or
    with CRLF, two n-grams on one column, a missing ``norm`` or an unknown
    recipe key loaded, and gave NaN, an IndexError later, or answers unlike
    the Pipeline's.  Each is an ArtifactError at load."""
    import hashlib

    meta = json.loads((copy / METADATA_FILE).read_text(encoding="utf-8"))
    if file == METADATA_FILE:
        meta = edit(meta)
    else:
        data = edit((copy / file).read_bytes())
        (copy / file).write_bytes(data)
        meta["files"][file] = hashlib.sha256(data).hexdigest()
    (copy / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(newsclf.ArtifactError, match=message):
        newsclf.load(copy)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: {**m, "labels": m["labels"][::-1]},
        lambda m: {**m, "labels": [f"x{label}" for label in m["labels"]]},
        lambda m: _first_block(m, weight=0.0),
        lambda m: _first_block(m, ngram_range=[1, 1]),
    ],
)
def test_an_edit_that_changes_the_answers_is_refused(copy: Path, clf, edit: Any) -> None:
    """Regression (training audit): metadata.json's labels and recipe were
    covered by no hash: reversing the labels swapped every answer, a block's
    weight of 0 dropped it, and the model loaded without a word.  The
    fields users may edit (threshold, name) still load."""
    meta = json.loads((copy / METADATA_FILE).read_text(encoding="utf-8"))
    edited = edit(json.loads(json.dumps(meta)))  # a deep copy: _first_block edits in place
    (copy / METADATA_FILE).write_text(json.dumps(edited), encoding="utf-8")
    with pytest.raises(newsclf.ArtifactError, match="labels or recipe differ"):
        newsclf.load(copy)
    _edit_metadata(copy, **{**meta, "uncertainty_threshold": 0.9, "name": "renamed"})
    again = newsclf.load(copy)
    assert again.threshold == 0.9 and again.predict(["قصف"]) == clf.predict(["قصف"])
    # An artifact written before the key existed still loads (review).
    del meta["recipe_sha256"]
    (copy / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    assert newsclf.load(copy).predict(["قصف"]) == clf.predict(["قصف"])


def test_missing_file_and_directory(copy: Path, tmp_path: Path) -> None:
    """A model folder missing a data file, and a path where there is no folder, are refused with an
    ArtifactError saying what was expected."""
    (copy / "coef.npy").unlink()
    with pytest.raises(
        newsclf.ArtifactError, match=r"expected a regular file coef\.npy, found none"
    ):
        newsclf.load(copy)
    # Regression (training audit): a link was also "found none".
    (copy / "coef.npy").symlink_to(copy / "intercept.npy")
    with pytest.raises(newsclf.ArtifactError, match=r"coef\.npy, found a symbolic link"):
        newsclf.load(copy)
    with pytest.raises(newsclf.ArtifactError, match="expected an artifact directory"):
        newsclf.load(tmp_path / "nowhere")


def test_version_drift_warns(copy: Path) -> None:
    """A model saved under another numpy version loads with a VersionMismatchWarning naming that
    version."""
    meta = json.loads((copy / METADATA_FILE).read_text(encoding="utf-8"))
    meta["versions"]["numpy"] = "0.1.0"
    (copy / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.warns(newsclf.VersionMismatchWarning, match=r"numpy 0\.1\.0"):
        newsclf.load(copy)


def test_same_versions_do_not_warn(model_dir: Path) -> None:
    """A model saved under the running versions loads without any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        newsclf.load(model_dir)


def test_load_refuses_non_path() -> None:
    """``load`` refuses a value that is not a path with InputTypeError."""
    with pytest.raises(newsclf.InputTypeError, match="expected a model's path"):
        newsclf.load(42)  # type: ignore[arg-type]
    # Regression (API audit): '' read the current folder ("...: expected a regular file").
    with pytest.raises(newsclf.InvalidArgumentError, match="expected a model's path, got ''"):
        newsclf.load("")


def test_concurrent_and_killed_writers_never_leave_a_broken_artifact(
    model_dir: Path, clf, tmp_path: Path
) -> None:
    """Regression: two writers could pair one model with the other's metadata, and a
    SIGKILL during save destroyed the previous artifact.  Writers saving two different
    models in a loop, killed at random moments: the path always loads, whole."""
    import random
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "shared"
    clf.save(target, name="first")
    code = (
        "import sys, newsclf\n"
        f"clf = newsclf.load({str(model_dir)!r})\n"
        "while True:\n"
        f"    clf.save({str(target)!r}, name=sys.argv[1])\n"
    )
    rng = random.Random(0)
    names = {"first", "a", "b"}
    for _ in range(4):
        procs = [subprocess.Popen([sys.executable, "-c", code, n]) for n in ("a", "b")]
        time.sleep(1.5 + rng.random())
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()
        again = newsclf.load(target)
        assert again.metadata["name"] in names
        assert again.predict(["قصفت المدفعية"]) == clf.predict(["قصفت المدفعية"])
