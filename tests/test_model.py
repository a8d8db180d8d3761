"""The public Classifier API on a model trained by the fixture."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from strategies import text_batches

import newsclf

LABELS = ("boilerplate", "diplomacy", "humanitarian", "military")


def test_labels(clf) -> None:
    """The fixture model's labels are the labels of its training data, sorted."""
    assert clf.labels == LABELS


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text_batches)
def test_predictions_are_labels_and_probabilities_sum_to_one(clf, texts: list[str]) -> None:
    """Whatever the text, each prediction is one of the labels and each row sums to 1."""
    proba = clf.predict_proba(texts)
    assert proba.shape == (len(texts), len(LABELS))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert all(p in LABELS for p in clf.predict(texts))
    assert [p.label for p in clf.classify_many(texts)] == clf.predict(texts)


def test_sensible_labels_on_written_examples(clf) -> None:
    """Plain cases of each label, from the labeling guide, come out right."""
    examples = {
        "وصلت إلى الميناء شحنة من قذائف المدفعية وصواريخ مضادة للدروع": "military",
        "استقبل وزير الخارجية نظيره التركي وبحثا سبل تعزيز العلاقات الثنائية": "diplomacy",
        "حذّر برنامج الأغذية العالمي من أن مليوني شخص يواجهون خطر المجاعة": "humanitarian",
        "اشترك الآن واحصل على شهر مجاني من التغطية الحصرية": "boilerplate",
    }
    assert clf.predict(list(examples)) == list(examples.values())


def test_classify_result_is_immutable_and_consistent(clf) -> None:
    """A ``classify`` result's label has its top score, ``uncertain`` means that score is below the
    threshold, and neither the result nor its scores can be changed."""
    p = clf.classify("تابعونا على منصات التواصل الاجتماعي")
    assert p.label == max(p.scores, key=p.scores.get)
    assert p.score == p.scores[p.label]
    assert p.uncertain == (p.score < clf.threshold)
    with pytest.raises(AttributeError):
        p.label = "military"  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.scores["military"] = 1.0  # type: ignore[index]


@pytest.mark.parametrize("text", ["", "   \n\t ", "qqqq zzzz"])
def test_text_without_known_features_is_uncertain(clf, text: str) -> None:
    """Empty, blank or unknown-only text is answered with the prior and flagged uncertain."""
    p = clf.classify(text)
    assert p.uncertain
    assert p.label in LABELS
    assert p.scores == clf.classify("").scores


def test_threshold_argument(clf) -> None:
    """A ``threshold`` of 0 leaves a result certain and one of 1 makes it uncertain; a threshold
    outside [0, 1] is a ValueError."""
    text = "حذّر برنامج الأغذية العالمي من خطر المجاعة"
    assert not clf.classify(text, threshold=0.0).uncertain
    assert clf.classify(text, threshold=1.0).uncertain
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        clf.classify(text, threshold=1.5)


def test_classify_article(clf) -> None:
    """An article yields one result per paragraph, with its index and text."""
    article = "استقبل وزير الخارجية نظيره\n\n• اشترك الآن في نشرتنا\r\n\r\n\n"
    results = clf.classify_article(article)
    assert [(r.index, r.text) for r in results] == [
        (0, "استقبل وزير الخارجية نظيره"),
        (1, "اشترك الآن في نشرتنا"),
    ]
    assert results[1].label == "boilerplate"
    assert clf.classify_article("") == []


def test_generators_and_large_batches(clf) -> None:
    """Any iterable works, across several internal batches, order kept."""
    texts = ["اشترك الآن", "قصفت المدفعية مواقع"] * 3000
    assert clf.predict(t for t in texts) == clf.predict(texts)


def test_one_megabyte_paragraph(clf) -> None:
    """A paragraph of over 1 MB is classified, with the right label."""
    text = "قصفت المدفعية الثقيلة مواقع المسلحين قرب الحدود " * 22000
    assert len(text.encode("utf-8")) > 1_000_000
    assert clf.classify(text).label == "military"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("نص واحد", "single str"),
        (b"bytes", "single bytes"),
        (None, "got NoneType"),
        (42, "got int"),
        (["نص", 3], r"texts\[1\] must be a str, got int"),
        (["نص", b"\xd8"], "decode bytes first"),
        (["نص", None], r"texts\[1\]"),
        ({"نص": 1}, "keys or column names"),
        ({"نص", "آخر"}, "no order"),
        (np.array("نص"), "iterable of str, got ndarray"),
    ],
)
def test_bad_batches_raise_input_type_error(clf, bad, message: str) -> None:
    """Regression (the last three): a dict or a DataFrame classified its
    keys or column names, a set gave results in no order, a 0-d array a
    bare TypeError."""
    with pytest.raises(newsclf.InputTypeError, match=message):
        clf.predict(bad)
    with pytest.raises(TypeError):  # InputTypeError is a TypeError too
        clf.predict_proba(bad)


def test_bad_non_list_iterable_item_names_its_index(clf) -> None:
    """A non-str item in a generator given to ``classify_many`` raises InputTypeError whose
    ``index`` is the item's position."""
    with pytest.raises(newsclf.InputTypeError) as info:
        list(clf.classify_many(iter(["أ", "ب", 7])))
    assert info.value.index == 2


@pytest.mark.parametrize("bad", [None, 5, b"x", ["x"]])
def test_classify_refuses_non_str(clf, bad) -> None:
    """Every one-text method names the argument that is not a str."""
    for call in (clf.classify, clf.classify_article, clf.explain, clf.contributions):
        with pytest.raises(newsclf.InputTypeError, match="text must be a str"):
            call(bad)
    if bad is not None:
        with pytest.raises(newsclf.InputTypeError, match="context must be a str"):
            clf.classify("نص", context=bad)
        with pytest.raises(newsclf.InputTypeError, match="context must be a str"):
            clf.contributions("نص", context=bad)
        with pytest.raises(newsclf.InputTypeError, match="title must be a str"):
            clf.classify_article("نص", title=bad)


def test_one_context_per_text_exactly(clf) -> None:
    """Regression: a context too many was missed when it was None."""
    for contexts in (["أ", None], ["أ", "ب"], []):
        with pytest.raises(newsclf.InvalidArgumentError, match="one context per text"):
            clf.predict(["نص"], contexts=contexts)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"batch_size": 2**63}, newsclf.InvalidArgumentError),
        ({"batch_size": 0}, newsclf.InvalidArgumentError),
        ({"batch_size": 2.0}, newsclf.InputTypeError),
    ],
)
def test_bad_batch_sizes(clf, kwargs: dict, error: type) -> None:
    """A ``batch_size`` below 1 or too large is an InvalidArgumentError and a float one an
    InputTypeError, each saying it must be a positive int."""
    with pytest.raises(error, match="batch_size must be a positive int"):
        clf.predict(["نص"], **kwargs)


CONTEXT_ARTICLE = (
    "أجرى وزير الخارجية محادثات مع نظيره بشأن دعم مسار التسوية السياسية في المنطقة.\n"
    "وأضاف أن الطرفين اتفقا على مواصلة التشاور خلال الأيام المقبلة.\n"
    "وقالت مصادر عسكرية إن الجيش نفّذ غارات جوية على مواقع للمسلحين قرب الحدود.\n"
    "اشترك الآن في نشرتنا البريدية لتصلك آخر الأخبار\n"
)


def test_classify_article_reads_each_paragraph_with_its_article(context_clf) -> None:
    """With a context model, classify_article scores each paragraph with its
    whole article (and title): as classify_many with those contexts, and not
    as the paragraphs alone (the audit found no test that could tell)."""
    from newsclf._paragraphs import article_context

    paras = newsclf.split_paragraphs(CONTEXT_ARTICLE)
    got = [p.scores for p in context_clf.classify_article(CONTEXT_ARTICLE)]
    context = [article_context(paras, None)] * len(paras)
    assert got == [p.scores for p in context_clf.classify_many(paras, contexts=context)]
    assert got != [p.scores for p in context_clf.classify_many(paras)]
    titled = context_clf.classify_article(CONTEXT_ARTICLE, title="غارات جوية على مواقع المسلحين")
    assert [p.scores for p in titled] != got


def test_the_threshold_itself_is_certain(clf) -> None:
    """``uncertain`` means a score strictly below the threshold."""
    text = "قصفت المدفعية مواقع المسلحين"
    score = clf.classify(text).score
    assert not clf.classify(text, threshold=score).uncertain
    assert clf.classify(text, threshold=min(1.0, score + 1e-9)).uncertain


def test_predictions_and_classifiers_pickle_and_copy(clf) -> None:
    """Regression: both failed ("cannot pickle 'mappingproxy'"), so neither
    could go through the standard library's process pools or deepcopy."""
    import copy
    import pickle

    texts = ["قصفت المدفعية مواقع المسلحين", "اشترك الآن"]
    pred = clf.classify(texts[0])
    for again in (pickle.loads(pickle.dumps(pred)), copy.deepcopy(pred)):
        assert again == pred and again.scores == pred.scores
        with pytest.raises(TypeError):
            again.scores["military"] = 0.0  # type: ignore[index]  # still read-only
    # Regression (API audit): a frozen value that hash() refused (its scores mapping).
    reordered = dataclasses.replace(pred, scores=dict(reversed(list(pred.scores.items()))))
    assert reordered == pred and hash(reordered) == hash(pred)
    assert len({pred, again, clf.classify(texts[1])}) == 2
    for other in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
        np.testing.assert_array_equal(other.predict_proba(texts), clf.predict_proba(texts))
        assert other.metadata == clf.metadata and other._workers is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"texts": None}, newsclf.InputTypeError),
        ({"texts": "one text"}, newsclf.InputTypeError),
        ({"texts": ["a"], "contexts": 5}, newsclf.InputTypeError),
        ({"texts": ["a"], "threshold": 5}, newsclf.InvalidArgumentError),
        ({"texts": ["a"], "n_jobs": 0}, newsclf.InvalidArgumentError),
        ({"texts": ["a"], "batch_size": "8"}, newsclf.InputTypeError),
    ],
)
def test_a_lazy_stream_refuses_bad_arguments_at_the_call(
    clf, kwargs: dict, error: type[Exception]
) -> None:
    """Regression (API audit): ``classify_many`` returned a generator that
    raised only when first read, so a ``try`` around the call missed it."""
    with pytest.raises(error):
        clf.classify_many(**kwargs)  # never iterated


def test_the_in_process_warning_names_the_callers_line(clf, monkeypatch) -> None:
    """Regression (API audit): the warning that a daemonic process scores
    in-process named a line of newsclf for ``predict``, not the caller's."""
    import newsclf._parallel

    monkeypatch.setattr(newsclf._parallel, "can_start_workers", lambda: False)
    for call in (clf.predict, clf.predict_proba, clf.classify_many):
        with pytest.warns(RuntimeWarning, match="may not start processes") as caught:
            list(call(["قصف"], n_jobs=2))
        assert [w.filename for w in caught] == [__file__], call


def test_numpy_numbers_are_numbers(clf) -> None:
    """Regression: np.float64 was accepted as a threshold, np.float32 and
    np.int64 (as batch_size or n_jobs) were refused."""
    texts = ["قصفت المدفعية", "اشترك الآن"]
    expected = list(clf.classify_many(texts, threshold=0.5))
    assert list(clf.classify_many(texts, threshold=np.float32(0.5))) == expected
    assert list(clf.classify_many(texts, threshold=0.5, batch_size=np.int64(1))) == expected
    assert clf.predict(texts, n_jobs=np.int64(1)) == [p.label for p in expected]


def test_ordered_views_and_numpy_numbers_are_welcome(clf) -> None:
    """Regression (review): dict keys (ordered) were refused as a set;
    np.int64 as explain's top was refused."""
    texts = {"قصفت المدفعية": 1, "اشترك الآن": 2}
    assert clf.predict(texts.keys()) == clf.predict(list(texts))
    assert clf.explain("قصفت المدفعية", top=np.int64(2)) == clf.explain("قصفت المدفعية", top=2)


def test_dir_shows_the_public_names() -> None:
    """Regression: dir(newsclf) listed helpers imported by the package (Any, importlib)."""
    names = set(dir(newsclf))
    assert set(newsclf.__all__) <= names and not {"Any", "importlib", "TYPE_CHECKING"} & names


def test_explain_refuses_a_negative_top(clf) -> None:
    """``explain`` refuses a negative ``top`` with InvalidArgumentError."""
    with pytest.raises(newsclf.InvalidArgumentError, match="non-negative"):
        clf.explain("نص", top=-1)


def test_save_load_identical_predictions(clf, tmp_path: Path, records: list[dict]) -> None:
    """A model saved and loaded again keeps its labels and the name given, and gives identical
    probabilities."""
    texts = [r["text"] for r in records[:100]]
    out = clf.save(tmp_path / "copy", name="copy")
    again = newsclf.load(out)
    assert again.labels == clf.labels
    assert again.metadata["name"] == "copy"
    np.testing.assert_array_equal(again.predict_proba(texts), clf.predict_proba(texts))


def test_bundled_model_loads_and_is_sensible() -> None:
    """``newsclf.load()`` gives the bundled model: the four labels and ``other``, article context, a
    recorded training-data hash, and boilerplate and sport labelled right."""
    bundled = newsclf.load()
    assert bundled.labels == (*LABELS, "other")
    assert bundled.classify("تابعونا على منصات التواصل الاجتماعي").label == "boilerplate"
    assert bundled.classify("فاز ريال مدريد على برشلونة بهدفين في الدوري الإسباني").label == "other"
    assert bundled.uses_context
    assert bundled.metadata["training_data"]["sha256"]


def test_saving_over_the_bundled_model_is_refused(clf, tmp_path) -> None:
    """Saving over the bundled model is refused with an ArtifactError, and the bundled model still
    loads."""
    from newsclf._model import bundled_model_path

    with pytest.raises(newsclf.ArtifactError, match="bundled model"):
        clf.save(bundled_model_path())
    assert newsclf.load().labels[-1] == "other"  # untouched
