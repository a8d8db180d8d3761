"""The page at ``GET /``, driven in a real headless Chromium (Debian's
``chromium`` through Playwright) as an analyst uses it, mouse and keyboard.

Also writes ``benchmarks/page.png``, the screenshot the README shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from strategies import ROOT
from test_serve import serving

from newsclf import _serve

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)",
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = ROOT / "benchmarks" / "page.png"
TITLE = "مباحثات في العاصمة وغارات قرب الحدود"
# Written for this test: five news paragraphs and the publisher's boilerplate.
ARTICLE = "\n\n".join(
    [
        "أجرى وزير الخارجية محادثات مع نظيره في العاصمة بشأن تعزيز التعاون الثنائي "
        "ودعم مسار التسوية السياسية في المنطقة.",
        "وقالت مصادر عسكرية إن الجيش نفّذ غارات جوية على مواقع للمسلحين قرب الحدود، "
        "ودمّر مخازن للأسلحة والذخيرة.",
        "وحذّرت منظمات الإغاثة من نقص حاد في الغذاء والمياه النظيفة في مخيمات النازحين، "
        "داعية إلى فتح ممرات إنسانية عاجلة.",
        "ومن المقرر أن يعقد مجلس الأمن الدولي جلسة طارئة الأسبوع المقبل لبحث التطورات، "
        "بحسب دبلوماسيين.",
        "اشترك الآن في نشرتنا البريدية لتصلك آخر الأخبار",
        "تابعونا على منصات التواصل الاجتماعي للمزيد من التغطية",
    ]
)


@pytest.fixture(scope="module")
def url(model_dir: Path) -> Iterator[str]:
    with serving(_serve.create_app(model_dir)) as base:
        yield base


@pytest.fixture(scope="module")
def expected(url: str) -> dict[str, Any]:
    """What the API says about the article: the page must show the same."""
    body = {"text": ARTICLE, "title": TITLE}
    out: dict[str, Any] = httpx.post(url + "/v1/articles", json=body, timeout=30).json()
    assert [p["label"] for p in out["paragraphs"]][-2:] == ["boilerplate", "boilerplate"]
    return out


@pytest.fixture(scope="module")
def browser_page(url: str) -> Iterator[tuple[Any, list[str], list[str]]]:
    """The page, opened in Chromium; with the page's errors and every URL it asked for."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="ar", accept_downloads=True
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("request", lambda r: requested.append(r.url))
        page.goto(url + "/")
        page.wait_for_selector("#legend li")
        yield page, errors, requested
        browser.close()


@pytest.fixture
def page(browser_page: tuple[Any, list[str], list[str]], expected: dict[str, Any]) -> Iterator[Any]:
    """The page with the article pasted and classified (by mouse), nothing hidden."""
    page, errors, _ = browser_page
    page.fill("#title", TITLE)
    page.fill("#article", ARTICLE)
    page.click("#classify")
    # Until the answer is in: the previous test's rows may have the same count,
    # and the page takes one request at a time (a file opened meanwhile is ignored).
    page.wait_for_function(
        "n => document.querySelectorAll('#paragraphs li').length === n"
        " && !document.querySelector('#classify').disabled",
        arg=len(expected["paragraphs"]),
    )
    if page.is_checked("#hide-boilerplate"):
        page.uncheck("#hide-boilerplate")
    yield page
    assert errors == []


def paragraphs(page: Any) -> Any:
    return page.locator("#paragraphs > li")


def test_the_page_is_arabic_right_to_left_and_names_the_model(
    browser_page: tuple[Any, list[str], list[str]], url: str
) -> None:
    """dir=rtl, lang=ar, an Arabic font first; the model's name and labels shown;
    nothing fetched from anywhere but the server."""
    page, _, requested = browser_page
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith('"Noto Naskh Arabic"')
    assert "fixture" in page.inner_text("#model")
    info = httpx.get(url + "/v1/model").json()
    assert page.locator("#legend li").all_inner_texts() == info["labels"]
    assert all(u.startswith(url) or u.startswith("data:") for u in requested), requested


def test_each_paragraph_shows_its_label_score_and_doubt(page: Any, expected: dict) -> None:
    """Each paragraph, in order: its text, its label as a word and a colour,
    its score (number and bar), and ``uncertain`` marked in words."""
    items = paragraphs(page)
    colours: dict[str, str] = {}
    for i, para in enumerate(expected["paragraphs"]):
        item = items.nth(i)
        assert item.locator("p").inner_text() == para["text"]
        chip = item.locator(".chip")
        assert chip.inner_text() == para["label"]
        assert item.locator(".score").inner_text() == f"{para['score']:.2f}"
        width = item.locator(".bar span").evaluate("e => e.style.width")
        assert float(width.rstrip("%")) == pytest.approx(100 * para["score"], abs=0.1)
        assert (item.locator(".flag").count() == 1) == para["uncertain"]
        colour = chip.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colours.setdefault(para["label"], colour) == colour  # one colour per label
    assert len(set(colours.values())) == len(colours)  # and different labels, different colours


def test_hiding_boilerplate(page: Any, expected: dict) -> None:
    """The toggle hides exactly the boilerplate paragraphs, and brings them back."""
    labels = [p["label"] for p in expected["paragraphs"]]
    page.check("#hide-boilerplate")
    shown = [paragraphs(page).nth(i).is_visible() for i in range(len(labels))]
    assert shown == [label != "boilerplate" for label in labels]
    assert "اشترك الآن" not in page.inner_text("#paragraphs")
    page.uncheck("#hide-boilerplate")
    assert all(paragraphs(page).nth(i).is_visible() for i in range(len(labels)))


def test_clicking_a_paragraph_explains_it(page: Any, url: str, expected: dict) -> None:
    """A click opens the explanation: the label and the top n-grams, as /v1/explain says."""
    text = expected["paragraphs"][1]["text"]
    why = httpx.post(url + "/v1/explain", json={"text": text, "top": 10}).json()
    paragraphs(page).nth(1).click()
    page.wait_for_selector("#explain-body ol li")
    assert page.is_visible("#explain")
    assert paragraphs(page).nth(1).get_attribute("aria-expanded") == "true"
    ngrams = page.locator("#explain-body > ol > li bdi").all_inner_texts()
    assert ngrams == [name for name, _ in why["features"][why["label"]]]
    assert why["label"] in page.locator("#explain-body > p").first.inner_text()
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.click("#close-explain")
    assert not page.is_visible("#explain")


def test_the_keyboard_does_it_all(page: Any) -> None:
    """Ctrl+Enter classifies; Tab reaches the paragraphs; Enter opens the
    explanation; Escape closes it and gives the focus back."""
    page.focus("#article")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#paragraphs li")
    page.focus("#download")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.position") == "0"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#explain-body ol li, #explain-body p.hint")
    assert page.is_visible("#explain")
    page.keyboard.press("Escape")
    assert not page.is_visible("#explain")
    assert page.evaluate("document.activeElement.dataset.position") == "1"


def test_a_second_submission_while_one_runs_does_nothing(page: Any) -> None:
    """Regression: Ctrl+Enter while a request ran (the button was disabled,
    the shortcut was not) sent another, and whichever answer came last was
    shown -- an older article's rows under the newer text.  On a slow uplink
    the second submission is now ignored, and the answer shown is the only
    one sent."""
    long_article = "\n".join(["قصفت المدفعية مواقع المسلحين قرب الحدود " * 8] * 200)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "latency": 20, "downloadThroughput": 10**6}
    cdp.send("Network.emulateNetworkConditions", {**conditions, "uploadThroughput": 10**5})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/v1/" in r.url else None)
    try:
        page.fill("#article", long_article)
        page.focus("#article")
        page.keyboard.press("Control+Enter")
        page.wait_for_function("document.querySelector('#classify').disabled")
        assert page.is_disabled("#file")
        page.fill("#article", "اشترك الآن في نشرتنا البريدية")
        page.keyboard.press("Control+Enter")
        page.wait_for_function("!document.querySelector('#classify').disabled", timeout=60_000)
    finally:
        cdp.send("Network.emulateNetworkConditions", {**conditions, "uploadThroughput": -1})
    assert len(requests) == 1
    assert paragraphs(page).count() == 200


def test_copy_clean_text_and_download_jsonl(page: Any, expected: dict) -> None:
    """'Copy clean text' copies the article without boilerplate; 'Download
    JSONL' saves one record per paragraph."""
    page.click("#copy")
    assert page.evaluate("navigator.clipboard.readText()") == expected["stripped"]
    with page.expect_download() as download:
        page.click("#download")
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["index"], r["text"], r["label"]) for r in rows] == [
        (p["index"], p["text"], p["label"]) for p in expected["paragraphs"]
    ]


def test_opening_files(page: Any, tmp_path: Path, url: str) -> None:
    """A .txt file is an article; a .jsonl file holds one text per record
    (lines without a text, or with one the server would refuse, are skipped
    and counted, the first named)."""
    article = tmp_path / "article.txt"
    article.write_text("قصفت المدفعية مواقع المسلحين\n\nاشترك الآن في نشرتنا البريدية\n")
    page.set_input_files("#file", str(article))
    page.wait_for_function("document.querySelectorAll('#paragraphs li').length === 2")
    records = tmp_path / "records.jsonl"
    texts = ["قصفت المدفعية مواقع المسلحين", "تابعونا على منصات التواصل", "وصلت قافلة مساعدات"]
    lines = [json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in enumerate(texts)]
    bad = ['{"text": "\\ud800 not Unicode"}', "{oops", '{"text": 3}']
    records.write_text("\n".join([*lines, *bad]) + "\n", encoding="utf-8")
    page.set_input_files("#file", str(records))
    page.wait_for_function("document.querySelectorAll('#paragraphs li').length === 3")
    status = page.inner_text("#status")
    assert "تُخطّي 3 سطراً" in status and "السطر 4" in status, status
    labels = httpx.post(url + "/v1/classify", json={"texts": texts}).json()["results"]
    assert paragraphs(page).locator(".chip").all_inner_texts() == [r["label"] for r in labels]


def test_label_colours_are_readable(page: Any) -> None:
    """Every label chip's text has at least 4.5:1 contrast with its colour (WCAG AA)."""

    def luminance(rgb: str) -> float:
        channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    for chip in page.locator("#legend .chip").all():
        fg, bg = chip.evaluate(
            "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
        )
        high, low = sorted([luminance(fg), luminance(bg)], reverse=True)
        assert (high + 0.05) / (low + 0.05) >= 4.5, (fg, bg)


def test_a_failed_start_or_a_cut_answer_gets_a_message(
    browser_page: tuple[Any, list[str], list[str]], url: str, tmp_path: Path
) -> None:
    """Regressions: when ``GET v1/model`` failed as the page opened (the
    server restarting), opening a .jsonl file later gave a JavaScript error
    ("Cannot read properties of null"); a 2xx answer cut short gave another.
    Now the page asks for the model again before classifying, and a cut
    answer is named as such."""
    context = browser_page[0].context.browser.new_context(locale="ar")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    failed: list[str] = []

    def fail_once(route: Any) -> None:
        if failed:
            route.continue_()
        else:
            failed.append(route.request.url)
            route.abort()

    try:
        page.route("**/v1/model", fail_once)
        page.goto(url + "/")
        page.wait_for_function("document.querySelector('#status').classList.contains('error')")
        records = tmp_path / "records.jsonl"
        records.write_text('{"text": "قصفت المدفعية مواقع المسلحين"}\n', encoding="utf-8")
        page.set_input_files("#file", str(records))
        page.wait_for_function("document.querySelectorAll('#paragraphs li').length === 1")
        assert failed and page.locator("#legend li").count() > 0
        cut = '{"paragraphs": ['
        page.route("**/v1/articles", lambda route: route.fulfill(status=200, body=cut))
        page.fill("#article", "قصفت المدفعية مواقع المسلحين")
        page.click("#classify")
        page.wait_for_function("!document.querySelector('#classify').disabled")
        status = page.inner_text("#status")
        assert "ناقصاً" in status and "Cannot read" not in status, status
        assert errors == []
    finally:
        context.close()


def test_files_are_read_as_the_command_line_reads_them(page: Any, tmp_path: Path) -> None:
    """Regressions (cross-surface audit): a dropped .csv file was classified
    as one article (its rows as paragraphs), and a JSONL file with lone CR
    line ends was one bad line; newsclf classify reads both otherwise."""
    before = paragraphs(page).count()
    table = tmp_path / "records.csv"
    table.write_text("id,text\n1,قصفت المدفعية مواقع المسلحين\n", encoding="utf-8")
    page.set_input_files("#file", str(table))
    page.wait_for_function("document.querySelector('#status').classList.contains('error')")
    assert "newsclf classify" in page.inner_text("#status")
    assert paragraphs(page).count() == before
    records = tmp_path / "cr.jsonl"
    texts = ["قصفت المدفعية مواقع المسلحين", "وصلت قافلة مساعدات"]
    records.write_text("\r".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts))
    page.set_input_files("#file", str(records))
    page.wait_for_function("document.querySelectorAll('#paragraphs li').length === 2")
    assert paragraphs(page).locator("p").all_inner_texts() == texts
