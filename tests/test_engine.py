"""The engine computes exactly what the reference path computes, without scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import news_text, text_batches

import newsclf
from newsclf._engine import Block, hash_tokens, ngram_hashes, text_hashes
from newsclf._paragraphs import read_with
from newsclf._tokens import prepare, tokenize

_FIXTURE_SETTINGS = settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _reference(texts: list[str], strip_clitics: bool) -> tuple[np.ndarray, np.ndarray]:
    tokens = [tokenize(p) for p in prepare(texts, strip_clitics=strip_clitics)]
    doc = np.array([i for i, toks in enumerate(tokens) for _ in toks], dtype=np.int64)
    return doc, hash_tokens([t for toks in tokens for t in toks])


@settings(max_examples=300)
@given(texts=text_batches, strip_clitics=st.booleans())
# A placeholder first in the batch (the audit's mutant changed its regex
# path, and only random examples caught it).
@example(texts=["www.موقع ", "قصف"], strip_clitics=True)
@example(texts=["WWW.Example.COM"], strip_clitics=False)
def test_token_hashes_equal_the_reference_tokens(texts: list[str], strip_clitics: bool) -> None:
    """Normalization, proclitics and tokens in numpy give the reference tokens, text by text."""
    doc, hashes = text_hashes(texts, strip_clitics=strip_clitics)
    ref_doc, ref_hashes = _reference(texts, strip_clitics)
    np.testing.assert_array_equal(doc, ref_doc)
    np.testing.assert_array_equal(hashes, ref_hashes)


def test_token_hashes_on_the_project_paragraphs(records: list[dict]) -> None:
    """On every paragraph of the project's data, the numpy token hashes equal the reference tokens',
    text by text."""
    texts = [r["text"] for r in records]
    doc, hashes = text_hashes(texts)
    ref_doc, ref_hashes = _reference(texts, True)
    np.testing.assert_array_equal(doc, ref_doc)
    np.testing.assert_array_equal(hashes, ref_hashes)


def test_ngram_hashes_are_distinct_and_order_sensitive() -> None:
    """Different n-grams, a word pair and its reverse among them, get different hashes."""
    grams = ["جيش", "قصف", "جيش قصف", "قصف جيش", "جيش قصف مدفعي"]
    hashes = ngram_hashes(grams)
    assert len(set(hashes.tolist())) == len(grams)


# Keys whose low bits crowd a few slots, near the table's end among them, so
# that runs of collisions form and wrap around past the last slot.
_crowded_keys = st.builds(
    lambda high, low: (high << 8) | low,
    st.integers(0, 2**56 - 1),
    st.sampled_from([0, 1, 2, 14, 15, 30, 31, 62, 63, 126, 127, 255]),
)


@settings(max_examples=300)
@given(
    keys=st.lists(_crowded_keys, unique=True, max_size=120),
    others=st.lists(_crowded_keys, max_size=40),
    data=st.data(),
)
def test_vocabulary_table_finds_each_key_and_nothing_else(
    keys: list[int], others: list[int], data: st.DataObject
) -> None:
    """The open-addressing table gives each vocabulary hash its column and -1
    to any other hash, however the hashes collide."""
    columns = data.draw(st.permutations(range(len(keys))))
    block = Block(
        ngram_range=(1, 1),
        strip_clitics=True,
        sublinear_tf=True,
        norm="l2",
        n_columns=len(keys),
        hashes=np.array(sorted(keys), np.uint64),
        ids=np.array(columns, np.int64),
    )
    absent = [k for k in others if k not in set(keys)]
    found = block.lookup(np.array(sorted(keys) + absent, np.uint64))
    np.testing.assert_array_equal(found, [*block.ids.tolist(), *[-1] * len(absent)])


@_FIXTURE_SETTINGS
@given(texts=text_batches)
def test_engine_equals_the_pipeline(clf, texts: list[str]) -> None:
    """Probabilities from the engine and from the rebuilt scikit-learn Pipeline agree to 1e-9."""
    batch = [*texts, "قصفت المدفعية مواقع المسلحين"]
    np.testing.assert_allclose(
        clf.predict_proba(batch), clf.pipeline.predict_proba(batch), rtol=0, atol=1e-9
    )


@_FIXTURE_SETTINGS
@given(texts=st.lists(news_text, min_size=1, max_size=6), article=news_text)
def test_context_engine_equals_the_pipeline(context_clf, texts: list[str], article: str) -> None:
    """With article contexts, probabilities from the engine and from the rebuilt scikit-learn
    Pipeline agree to 1e-9.  The Pipeline gets what the classifier reads: a blank article
    is the paragraph itself (``read_with``, as in training)."""
    contexts = [article] * len(texts)
    pairs = np.array([[t, read_with(t, article)] for t in texts], dtype=object)
    np.testing.assert_allclose(
        context_clf.predict_proba(texts, contexts=contexts),
        context_clf.pipeline.predict_proba(pairs),
        rtol=0,
        atol=1e-9,
    )


def test_context_model_saves_and_loads(context_clf, tmp_path: Path) -> None:
    """A context model saved and loaded gives identical probabilities with contexts, still uses
    context, and saves and loads again."""
    again = newsclf.load(context_clf.save(tmp_path / "ctx"))
    texts = ["قصفت المدفعية مواقع المسلحين", "اشترك الآن"]
    contexts = ["وزير الخارجية يستقبل نظيره", "وزير الخارجية يستقبل نظيره"]
    np.testing.assert_array_equal(
        again.predict_proba(texts, contexts=contexts),
        context_clf.predict_proba(texts, contexts=contexts),
    )
    assert again.uses_context and newsclf.load(again.save(tmp_path / "b")).metadata is not None


def test_inference_imports_numpy_and_the_normalizer_only(model_dir: Path) -> None:
    """import, load, predict: no scikit-learn, scipy, pandas, pyarrow, datasets, matplotlib or
    camel-tools in sys.modules."""
    code = (
        "import sys, json, newsclf\n"
        f"clf = newsclf.load({str(model_dir)!r})\n"
        "clf.predict(['قصفت المدفعية مواقع المسلحين'])\n"
        "clf.classify_article('وزير الخارجية يستقبل نظيره\\nاشترك الآن')\n"
        "newsclf.load().predict(['x'])\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    loaded = set(json.loads(out.stdout))
    heavy = {"sklearn", "scipy", "pandas", "pyarrow", "datasets", "matplotlib", "camel_tools"}
    assert not loaded & heavy, loaded & heavy


@pytest.mark.parametrize(
    "text",
    [
        "انظر www.موقع الان",
        "زوروا WWW.Example.COM اليوم",
        "اتصلوا على ٠٧٩ ١٢٣ ٤٥٦٧ أو 00962-6-5551234",
        "راسلونا info@example-news.com و @ExampleNewsAr",
        "قال: «نعم» والساعة 10:30 في 2026/12/01",
        "الحكومةالتي قويةبما أوكرانياالذي والجيش للأمم",
        "… ﻻ ‥ ‰",
    ],
)
def test_tricky_texts_take_the_right_path(text: str) -> None:
    """Placeholders (the regex path), glued words, proclitics and multi-character maps."""
    batch = [text, "قصفت المدفعية", text]
    doc, hashes = text_hashes(batch)
    ref_doc, ref_hashes = _reference(batch, True)
    np.testing.assert_array_equal(doc, ref_doc)
    np.testing.assert_array_equal(hashes, ref_hashes)


@settings(max_examples=300)
@given(text=st.text(alphabet="0123456789 -a\u0663\n", max_size=40))
def test_digit_runs_find_what_the_phone_hint_regex_finds(text: str) -> None:
    """The engine finds a digit run exactly when the normalizer's phone-hint regex matches the text
    after the engine's character mapping."""
    from newsclf import _normalize
    from newsclf._engine import _codepoints, _digit_runs, _stage_a, _tables

    a = _stage_a(_codepoints(text), _tables())
    mapped = a.astype("<u4").tobytes().decode("utf-32-le")
    assert (len(_digit_runs(a, _tables())) > 0) == bool(_normalize._PHONE_HINT_RE.search(mapped))
