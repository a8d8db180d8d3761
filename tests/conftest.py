"""Shared fixtures: a small model trained on the project's own paragraphs.

The fixture model is trained by the same code users call, on the original
paragraphs committed in ``training/data/original.jsonl`` (real data, written
for the project), in a temporary folder; no test touches the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import settings
from strategies import ROOT

# No per-example deadlines: timings on shared CI machines are noise, and
# speed is measured by the benchmarks, never asserted by tests.
settings.register_profile("newsclf", deadline=None)
settings.load_profile("newsclf")

ORIGINAL = ROOT / "training" / "data" / "original.jsonl"


def original_records() -> list[dict]:
    with open(ORIGINAL, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [{"text": r["text"], "label": r["label"], "group": r["batch"]} for r in rows]


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return original_records()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, records: list[dict]) -> Path:
    from newsclf._train import train

    clf = train(records, seed=0, name="fixture", log=lambda message: None)
    return clf.save(tmp_path_factory.mktemp("model") / "fixture")


@pytest.fixture(scope="session")
def clf(model_dir: Path):
    import newsclf

    return newsclf.load(model_dir)


@pytest.fixture(scope="session")
def context_dir(tmp_path_factory: pytest.TempPathFactory, records: list[dict]) -> Path:
    """A model with article context, trained on articles made of the
    originals' batches (its paragraphs read differently with an article)."""
    from newsclf._train import train

    by_batch: dict[str, list[str]] = {}
    for r in records:
        by_batch.setdefault(r["group"], []).append(r["text"])
    rows = [{**r, "context": "\n".join(by_batch[r["group"]][:8])} for r in records]
    clf = train(rows, seed=0, context_weight=0.5, name="context", log=lambda m: None)
    return clf.save(tmp_path_factory.mktemp("model") / "context")


@pytest.fixture(scope="session")
def context_clf(context_dir: Path):
    import newsclf

    return newsclf.load(context_dir)
