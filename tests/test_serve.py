"""``newsclf serve``: every endpoint and every refusal, against a real uvicorn
on 127.0.0.1 (a free port), serving the fixture model."""

from __future__ import annotations

import asyncio
import json
import math
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import text_batches

from newsclf import _serve

MAX_BODY = 64 * 1024
OPENAPI = json.loads((Path(_serve.__file__).with_name("_static") / "openapi.json").read_bytes())
MAX_TEXTS = 64
SURROGATE = re.compile("[\ud800-\udfff]")
ARTICLE = (
    "أجرى وزير الخارجية محادثات مع نظيره بشأن دعم مسار التسوية السياسية في المنطقة.\n\n"
    "وقالت مصادر عسكرية إن الجيش نفّذ غارات جوية على مواقع للمسلحين قرب الحدود.\n\n"
    "اشترك الآن في نشرتنا البريدية لتصلك آخر الأخبار\n"
)
#: ``newsclf serve``, as a user starts it.
SERVE = [sys.executable, "-m", "newsclf", "serve"]


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn on 127.0.0.1 (a free port) in a
    thread; yields the base URL, stops the server after."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def url(model_dir: Path) -> Iterator[str]:
    app = _serve.create_app(model_dir, max_body=MAX_BODY, max_texts=MAX_TEXTS)
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def refused(response: httpx.Response, status: int, error: str) -> str:
    """Check a JSON refusal; its detail.  On the V2 routes, the Open
    Inference Protocol's form: ``{"error": MESSAGE}``, 400 for 422."""
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    if response.url.path.startswith("/v2/"):
        assert response.status_code == (400 if status == 422 else status), response.text
        assert set(body) == {"error"} and isinstance(body["error"], str), body
        return str(body["error"])
    assert response.status_code == status, response.text
    assert set(body) == {"error", "detail"}
    assert body["error"] == error, body
    return str(body["detail"])


# --- endpoints -----------------------------------------------------------------


def test_health_and_readiness(http: httpx.Client) -> None:
    """/healthz and /readyz answer 200 with JSON once the app is up."""
    assert ok(http.get("/healthz")) == {"status": "ok"}
    assert ok(http.get("/readyz")) == {"status": "ready", "model": "fixture"}


def test_model_shows_public_metadata_only(http: httpx.Client, clf: Any) -> None:
    """/v1/model: name, labels, threshold, held-out metrics, versions and
    limits; nothing about the training data or the file's hash."""
    info = ok(http.get("/v1/model"))
    assert info["name"] == "fixture"
    assert info["labels"] == list(clf.labels)
    assert info["threshold"] == clf.threshold
    assert info["metrics"]["macro_f1"] == clf.metadata["metrics"]["macro_f1"]
    assert info["versions"] == dict(clf.metadata["versions"])
    assert info["limits"] == {"max_body": MAX_BODY, "max_texts": MAX_TEXTS}
    assert not {"training_data", "model_sha256", "hyperparameters"} & set(info)


def test_classify_matches_the_library(http: httpx.Client, clf: Any, records: list[dict]) -> None:
    """/v1/classify gives, in order, what ``classify_many`` gives."""
    texts = [r["text"] for r in records[:40]] + ["", "   "]
    results = ok(http.post("/v1/classify", json={"texts": texts}))["results"]
    expected = [p.to_dict() for p in clf.classify_many(texts)]
    assert [r["label"] for r in results] == [e["label"] for e in expected]
    assert [r["uncertain"] for r in results] == [e["uncertain"] for e in expected]
    for r, e in zip(results, expected, strict=True):
        assert r["score"] == pytest.approx(e["score"], abs=1e-9)
        assert r["scores"] == pytest.approx(e["scores"], abs=1e-9)


@pytest.mark.parametrize("threshold", [0.0, 0.6, 1.0])
def test_classify_threshold(http: httpx.Client, clf: Any, threshold: float) -> None:
    """A request's threshold decides ``uncertain``, as the library's does."""
    texts = ["قصفت المدفعية مواقع المسلحين قرب الحدود", "zzz", ARTICLE]
    body = {"texts": texts, "threshold": threshold}
    got = [r["uncertain"] for r in ok(http.post("/v1/classify", json=body))["results"]]
    assert got == [p.uncertain for p in clf.classify_many(texts, threshold=threshold)]


def test_classify_nothing(http: httpx.Client) -> None:
    """An empty batch is answered with no results."""
    assert ok(http.post("/v1/classify", json={"texts": []})) == {"results": []}


def test_articles_in_context_and_stripped(http: httpx.Client, clf: Any) -> None:
    """/v1/articles: each paragraph with its index, text and label (read in
    its article, as ``classify_article``), and the article without boilerplate."""
    out = ok(http.post("/v1/articles", json={"text": ARTICLE}))
    expected = clf.classify_article(ARTICLE)
    assert [(p["index"], p["text"], p["label"]) for p in out["paragraphs"]] == [
        (p.index, p.text, p.label) for p in expected
    ]
    assert out["paragraphs"][-1]["label"] == "boilerplate"
    kept = [p["text"] for p in out["paragraphs"] if p["label"] != "boilerplate"]
    assert out["stripped"] == "\n\n".join(kept)
    assert "اشترك" not in out["stripped"]
    titled = ok(http.post("/v1/articles", json={"text": ARTICLE, "title": "غارات ومباحثات"}))
    assert len(titled["paragraphs"]) == len(expected)


def test_explain_matches_the_library(http: httpx.Client, clf: Any) -> None:
    """/v1/explain gives what ``explain`` gives: the prediction and the top
    n-grams per label."""
    text = "اشترك الآن واحصل على شهر مجاني"
    out = ok(http.post("/v1/explain", json={"text": text, "top": 3}))
    assert out == json.loads(json.dumps(clf.explain(text, top=3)))
    assert all(len(f) <= 3 for f in out["features"].values())
    assert ok(http.post("/v1/explain", json={"text": text}))["features"] == json.loads(
        json.dumps(clf.explain(text)["features"])
    )


def test_v2_health_and_server(http: httpx.Client) -> None:
    """V2 liveness, readiness and server metadata."""
    assert ok(http.get("/v2/health/live")) == {"live": True}
    assert ok(http.get("/v2/health/ready")) == {"ready": True}
    assert ok(http.get("/v2"))["name"] == "newsclf"


@pytest.mark.parametrize("name", ["fixture", "newsclf"])
def test_v2_model_metadata(http: httpx.Client, clf: Any, name: str) -> None:
    """The model answers to its own name and to ``newsclf``."""
    meta = ok(http.get(f"/v2/models/{name}"))
    assert meta["name"] == "fixture"
    assert meta["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert {"name": "scores", "datatype": "FP32", "shape": [-1, len(clf.labels)]} in meta["outputs"]
    assert ok(http.get(f"/v2/models/{name}/ready")) == {"name": "fixture", "ready": True}


@pytest.mark.parametrize(("shape", "nested"), [([3], False), ([3, 1], False), ([3, 1], True)])
def test_v2_infer(
    http: httpx.Client, clf: Any, records: list[dict], shape: list[int], nested: bool
) -> None:
    """V2 infer: a BYTES tensor of texts ([n] or [n, 1], flat or nested) in;
    BYTES labels and FP32 scores [n, n_labels] out, as ``predict_proba``."""
    texts = [r["text"] for r in records[:3]]
    data = [[t] for t in texts] if nested else texts
    body = {
        "id": "r1",
        "inputs": [{"name": "text", "shape": shape, "datatype": "BYTES", "data": data}],
    }
    out = ok(http.post("/v2/models/newsclf/infer", json=body))
    assert out["model_name"] == "fixture" and out["id"] == "r1"
    tensors = {t["name"]: t for t in out["outputs"]}
    assert tensors["label"] == {
        "name": "label",
        "shape": [3],
        "datatype": "BYTES",
        "data": clf.predict(texts),
    }
    scores = tensors["scores"]
    assert scores["shape"] == [3, len(clf.labels)] and scores["datatype"] == "FP32"
    assert scores["data"] == pytest.approx(clf.predict_proba(texts).reshape(-1).tolist(), abs=1e-6)
    assert tensors["uncertain"]["data"] == [p.uncertain for p in clf.classify_many(texts)]


def test_v2_infer_chosen_outputs(http: httpx.Client) -> None:
    """``outputs`` picks the tensors returned, in the order asked."""
    body = {
        "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["x"]}],
        "outputs": [{"name": "scores"}, {"name": "label", "parameters": {"binary_data": False}}],
    }
    out = ok(http.post("/v2/models/fixture/infer", json=body))
    assert [t["name"] for t in out["outputs"]] == ["scores", "label"]
    assert "id" not in out


@pytest.mark.parametrize("threshold", [0.0, 0.6, 0.99, 1.0])
def test_v2_infer_threshold(
    http: httpx.Client, clf: Any, records: list[dict], threshold: float
) -> None:
    """``parameters.threshold`` sets the uncertainty cut, as in ``/v1/classify``."""
    texts = [r["text"] for r in records[:8]]
    body = {
        "parameters": {"threshold": threshold},
        "inputs": [
            {
                "name": "text",
                "shape": [len(texts)],
                "datatype": "BYTES",
                "data": texts,
                "parameters": {"content_type": "str"},
            }
        ],
        "outputs": [{"name": "uncertain"}],
    }
    out = ok(http.post(INFER, json=body))
    expected = [p.uncertain for p in clf.classify_many(texts, threshold=threshold)]
    assert out["outputs"][0]["data"] == expected
    # The threshold itself is certain, as in the library.
    body["parameters"] = {"threshold": clf.classify(texts[0]).score}
    assert ok(http.post(INFER, json=body))["outputs"][0]["data"][0] is False


def test_concurrent_requests_get_their_own_answers(http: httpx.Client, records: list[dict]) -> None:
    """64 concurrent single-text requests, batched together by the server,
    each get the answer to their own text."""
    texts = [r["text"] for r in records[:64]]
    expected = ok(http.post("/v1/classify", json={"texts": texts}))["results"]

    def one(text: str) -> Any:
        return ok(http.post("/v1/classify", json={"texts": [text]}))["results"][0]

    with ThreadPoolExecutor(32) as pool:
        got = list(pool.map(one, texts))
    assert [g["label"] for g in got] == [e["label"] for e in expected]
    assert [g["score"] for g in got] == pytest.approx([e["score"] for e in expected], abs=1e-9)


# --- the batcher ---------------------------------------------------------------


def test_batcher_gathers_concurrent_requests() -> None:
    """Concurrent requests share model calls; each gets its own results, in order."""
    calls: list[list[str]] = []

    def score(texts: list[str]) -> list[Any]:
        calls.append(texts)
        return [t.upper() for t in texts]

    async def main() -> list[list[Any]]:
        with ThreadPoolExecutor(1) as executor:
            batcher = _serve.Batcher(score, executor, window=0.01, max_batch=100)
            task = asyncio.create_task(batcher.run())
            requests = [[f"r{i}a", f"r{i}b"] for i in range(40)] + [[]]
            try:
                return await asyncio.gather(*(batcher.classify(r) for r in requests))
            finally:
                task.cancel()

    results = asyncio.run(main())
    assert results == [[f"R{i}A", f"R{i}B"] for i in range(40)] + [[]]
    assert len(calls) < 5
    assert max(len(c) for c in calls) <= 100


def test_batcher_fails_every_request_of_a_failed_call() -> None:
    """A model error reaches every request of that call, and the batcher goes on."""

    def score(texts: list[str]) -> list[Any]:
        if "bad" in texts:
            raise RuntimeError("boom")
        return texts

    async def main() -> tuple[list[Any], list[str]]:
        with ThreadPoolExecutor(1) as executor:
            batcher = _serve.Batcher(score, executor, window=0.01)
            task = asyncio.create_task(batcher.run())
            try:
                failed = await asyncio.gather(
                    batcher.classify(["bad"]), batcher.classify(["ok"]), return_exceptions=True
                )
                return failed, await batcher.classify(["fine"])
            finally:
                task.cancel()

    failed, after = asyncio.run(main())
    assert all(isinstance(f, RuntimeError) for f in failed)
    assert after == ["fine"]


# --- refusals ------------------------------------------------------------------

INFER = "/v2/models/newsclf/infer"


def tensor(**changes: Any) -> dict[str, Any]:
    """A V2 infer body of one text, with ``changes`` to its tensor."""
    return {
        "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["x"], **changes}]
    }


@pytest.mark.parametrize(
    ("path", "content", "status", "error"),
    [
        ("/v1/classify", b'{"texts": [', 400, "malformed_json"),
        ("/v1/classify", b"", 400, "malformed_json"),
        ("/v1/classify", b'{"texts": ["\xff"]}', 400, "malformed_json"),
        ("/v1/articles", b"text=hello", 400, "malformed_json"),
        ("/v1/classify", [], 422, "invalid_request"),
        ("/v1/classify", {}, 422, "invalid_request"),
        ("/v1/classify", {"texts": "a bare string"}, 422, "invalid_request"),
        ("/v1/classify", {"texts": ["a", 1]}, 422, "invalid_request"),
        ("/v1/classify", {"texts": [None]}, 422, "invalid_request"),
        ("/v1/classify", {"text": ["a"]}, 422, "invalid_request"),
        ("/v1/classify", {"texts": ["\ud800"]}, 422, "invalid_request"),
        ("/v1/classify", {"texts": ["a"], "threshold": "0.5"}, 422, "invalid_request"),
        ("/v1/classify", b'{"texts": ["a"], "texts": ["b", "c"]}', 400, "malformed_json"),
        ("/v1/classify", '{"texts": ["a"]}'.encode("utf-16"), 400, "malformed_json"),
        ("/v1/classify", b'{"texts": ["a"], "threshold": 1e999}', 422, "invalid_request"),
        # An integer too large for a float (math.isfinite overflowed: a 500).
        (
            "/v1/classify",
            b'{"texts": ["a"], "threshold": 1' + b"0" * 400 + b"}",
            422,
            "invalid_request",
        ),
        (INFER, {**tensor(), "parameters": {"threshold": 10**400}}, 422, "invalid_request"),
        ("/v1/classify/", {"texts": ["a"]}, 404, "not_found"),
        # A query was ignored: ?threshold=0.99 answered at the model's threshold.
        ("/v1/classify?threshold=0.99", {"texts": ["a"]}, 422, "invalid_request"),
        (INFER + "?x=1", tensor(), 422, "invalid_request"),
        ("/v1/classify", {"texts": ["a"], "threshold": 1.5}, 422, "invalid_request"),
        ("/v1/classify", {"texts": ["a"], "threshold": True}, 422, "invalid_request"),
        ("/v1/classify", b'{"texts": ["a"], "threshold": NaN}', 400, "malformed_json"),
        ("/v1/articles", {"text": 5}, 422, "invalid_request"),
        ("/v1/articles", {"text": "a", "title": ["t"]}, 422, "invalid_request"),
        ("/v1/explain", {"text": "a", "top": -1}, 422, "invalid_request"),
        ("/v1/explain", {"text": "a", "top": 1.5}, 422, "invalid_request"),
        ("/v1/explain", {"text": "a", "top": 101}, 422, "invalid_request"),
        ("/v1/explain", {"texts": ["a"]}, 422, "invalid_request"),
        (INFER, {"inputs": []}, 422, "invalid_request"),
        (INFER, {"inputs": [tensor()["inputs"][0]] * 2}, 422, "invalid_request"),
        (INFER, tensor(datatype="FP32"), 422, "invalid_request"),
        (INFER, tensor(shape=[2]), 422, "invalid_request"),
        (INFER, tensor(shape=[1, 2]), 422, "invalid_request"),
        (INFER, tensor(shape=[-1]), 422, "invalid_request"),
        (INFER, tensor(data=[1]), 422, "invalid_request"),
        (INFER, {**tensor(), "outputs": [{"name": "logits"}]}, 422, "invalid_request"),
        (INFER, {**tensor(), "outputs": [{"name": "label"}] * 2}, 422, "invalid_request"),
        (INFER, {**tensor(), "outputs": [{"name": "label", "x": 1}]}, 422, "invalid_request"),
        (INFER, {**tensor(), "parameters": {"threshold": 2}}, 422, "invalid_request"),
        (INFER, {**tensor(), "parameters": {"threshold": "0.5"}}, 422, "invalid_request"),
        (INFER, {**tensor(), "parameters": {"temperature": 2}}, 422, "invalid_request"),
        (INFER, tensor(name="texts"), 422, "invalid_request"),
        (INFER, tensor(parameters={"content_type": "base64"}), 422, "invalid_request"),
        (INFER, tensor(parameters={"binary_data_size": 1}), 422, "invalid_request"),
        (INFER, tensor(extra=1), 422, "invalid_request"),
        (INFER, b'{"inputs": [], "inputs": []}', 400, "malformed_json"),
        (INFER, {**tensor(), "extra": 1}, 422, "invalid_request"),
        (
            INFER,
            {**tensor(), "outputs": [{"name": "label", "parameters": {"binary_data": True}}]},
            422,
            "invalid_request",
        ),
        ("/v1/classify", {"texts": ["a"] * (MAX_TEXTS + 1)}, 413, "too_many_texts"),
        ("/v1/articles", {"text": "سطر\n" * (MAX_TEXTS + 1)}, 413, "too_many_texts"),
        (INFER, tensor(shape=[MAX_TEXTS + 1]), 413, "too_many_texts"),
        ("/v1/classify", {"texts": ["و" * MAX_BODY]}, 413, "body_too_large"),
        ("/v2/models/other/infer", tensor(), 404, "unknown_model"),
    ],
)
def test_bad_requests_are_refused_with_json(
    http: httpx.Client, path: str, content: Any, status: int, error: str
) -> None:
    """Not strict JSON 400, wrong types or values 422, over a limit 413,
    unknown model or route 404: a JSON error every time, never a 500, with
    the status documented in /openapi.json."""
    if not isinstance(content, bytes):
        content = json.dumps(content).encode()  # \u escapes: lone surrogates too
    response = http.post(path, content=content)
    refused(response, status, error)
    documented = OPENAPI["paths"].get(path.replace("/other/", "/{name}/"), {"post": {}})["post"]
    assert documented == {} or str(response.status_code) in documented["responses"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 200),
        ({"Content-Type": "application/json"}, 200),
        ({"Content-Type": "Application/JSON; charset=UTF-8"}, 200),
        ({"Content-Type": "application/vnd.api+json"}, 200),
        ({"Content-Type": "image/png"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),  # curl -d without -H
        ({"Content-Type": "application/json; charset=latin-1"}, 415),
        ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, 415),
    ],
)
@pytest.mark.parametrize("path", ["/v1/classify", INFER])
def test_a_body_its_headers_say_is_not_json_is_refused(
    http: httpx.Client, headers: dict[str, str], status: int, path: str
) -> None:
    """Regression: any Content-Type and any Content-Encoding were accepted
    (a gzipped body got a message about UTF-8).  JSON (or no Content-Type)
    is read; anything else is a 415 that says what was expected and found,
    documented in /openapi.json."""
    body = {"texts": ["قصف مدفعي"]} if path.startswith("/v1") else tensor(data=["قصف مدفعي"])
    response = http.post(path, content=json.dumps(body).encode(), headers=headers)
    assert response.status_code == status, response.text
    if status == 415:
        message = response.json()["detail" if path.startswith("/v1") else "error"]
        assert "expected" in message and "found" in message
        assert "415" in OPENAPI["paths"][path.replace("newsclf", "{name}")]["post"]["responses"]


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b'{"texts": ["a"], "threshold": ' + b"9" * 5000 + b"}", "integer of 5000 digits"),
        (b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),
        ('\ufeff{"texts": ["a"]}'.encode(), "byte-order mark"),
    ],
)
def test_parser_limits_are_named_in_json_terms(
    http: httpx.Client, content: bytes, found: str
) -> None:
    """Regression: valid JSON past the parser's limits was refused with
    Python's own words ("use sys.set_int_max_str_digits()", "maximum
    recursion depth")."""
    detail = refused(http.post("/v1/classify", content=content), 400, "malformed_json")
    assert found in detail and "sys." not in detail and "recursion" not in detail


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ({"texts": "a bare string"}, "texts must be an array of strings, got string"),
        ({"texts": ["a"], "threshold": "0.5"}, "threshold must be a finite number, got string"),
        (
            {"texts": ["a", "\ud800"]},
            "texts[1] must be a string of valid Unicode, got a string with",
        ),
        ({"texts": ["a"], "threshold": 1e999}, "threshold must be a finite number, got inf"),
    ],
)
def test_a_refusal_says_what_was_expected_and_found(
    http: httpx.Client, body: dict[str, Any], found: str
) -> None:
    """The detail names the field, what it must be and what it was."""
    content = json.dumps(body).replace("Infinity", "1e999").encode()
    assert refused(http.post("/v1/classify", content=content), 422, "invalid_request").startswith(
        found
    )


def test_v2_errors_keep_their_form_when_the_app_is_mounted(model_dir: Path) -> None:
    """Regression (review): under a root path or a mount, V2 errors fell
    back to the v1 form; the app's own path decides."""
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient

    parent = Starlette(routes=[Mount("/ml", app=_serve.create_app(model_dir))])
    with TestClient(parent) as client:
        v2, v1 = client.get("/ml/v2/nope"), client.get("/ml/v1/nope")
    assert v2.status_code == v1.status_code == 404
    assert set(v2.json()) == {"error"} and set(v1.json()) == {"error", "detail"}


def test_articles_are_read_with_their_title(context_dir: Path, context_clf) -> None:
    """With a context model, /v1/articles reads the title with the article,
    as classify_article does (a server ignoring it went unseen)."""
    from starlette.testclient import TestClient

    title = "غارات جوية على مواقع المسلحين"
    with TestClient(_serve.create_app(context_dir)) as client:
        untitled = client.post("/v1/articles", json={"text": ARTICLE}).json()["paragraphs"]
        titled = client.post("/v1/articles", json={"text": ARTICLE, "title": title}).json()
    scores = [p["score"] for p in titled["paragraphs"]]
    assert scores == [p.score for p in context_clf.classify_article(ARTICLE, title=title)]
    assert scores != [p["score"] for p in untitled]


def test_a_client_leaving_mid_body_is_a_request_error() -> None:
    """A client that closes the connection before its body ends is a 400
    ``incomplete_body`` (nobody reads it), not a server error with a traceback in the log."""
    from starlette.requests import Request

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/v1/classify", "headers": []}
    with pytest.raises(_serve.RequestError) as caught:
        asyncio.run(_serve.read_json(Request(scope, receive), 1000))
    assert (caught.value.status, caught.value.error) == (400, "incomplete_body")


def test_a_stalled_body_is_a_408_and_the_connection_closes(url: str, monkeypatch) -> None:
    """Regression (server audit): a client that sent half its body, then
    nothing, held its connection (and a graceful shutdown) forever."""
    monkeypatch.setattr(_serve, "BODY_TIMEOUT", 0.5)
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        head = b"POST /v1/classify HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        conn.sendall(head + b'Content-Length: 100\r\n\r\n{"texts": ["')
        answer = b""
        while chunk := conn.recv(4096):  # until the server closes the connection
            answer += chunk
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 408") and b"connection: close" in status.lower()
    assert json.loads(body)["error"] == "request_timeout"


def test_every_error_code_is_in_the_openapi_schema() -> None:
    """Regression (server audit): 415's ``unsupported_media_type`` was not in
    the Error schema's enum, so every 415 failed validation against the
    server's own /openapi.json.  Every code the server sends is listed, and
    every shared response a route refers to exists."""
    source = Path(_serve.__file__).read_text(encoding="utf-8")
    sent = set(re.findall(r'(?:\b\d{3},\s*|error, detail = )"([a-z_]+)"', source))
    assert {"unsupported_media_type", "request_timeout", "not_found", "unavailable"} <= sent
    schema = OPENAPI["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
    assert sent <= set(schema)
    refs = re.findall(r'"#/components/responses/(\w+)"', json.dumps(OPENAPI))
    assert refs and set(refs) <= set(OPENAPI["components"]["responses"])


@pytest.mark.parametrize("declared", [True, False])
def test_a_big_body_is_refused_before_its_end(url: str, declared: bool) -> None:
    """A body over the limit is refused while it is still coming: at once
    when its Content-Length says so (here 1 GB, never sent), else as soon as
    the chunks read pass the limit."""
    host, port = url.removeprefix("http://").split(":")
    framing = b"Content-Length: 1000000000" if declared else b"Transfer-Encoding: chunked"
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: test\r\n" + framing + b"\r\n\r\n")
        if not declared:
            chunk = b"a" * 16384
            for _ in range(MAX_BODY // len(chunk) + 2):
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        answer = b""  # the body is unfinished, the answer is there
        while b"body_too_large" not in answer and (data := conn.recv(65536)):
            answer += data
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"error":"body_too_large"' in answer


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/nope", 404, "not_found"),
        ("GET", "/static/missing.js", 404, "not_found"),
        ("GET", "/v2/models/other", 404, "unknown_model"),
        ("GET", "/v2/models/other/ready", 404, "unknown_model"),
        ("GET", "/v1/classify", 405, "method_not_allowed"),
        ("DELETE", "/healthz", 405, "method_not_allowed"),
        ("PUT", INFER, 405, "method_not_allowed"),
    ],
)
def test_unknown_routes_and_methods(
    http: httpx.Client, method: str, path: str, status: int, error: str
) -> None:
    """Unknown routes and models 404, wrong methods 405 with ``Allow``, in JSON."""
    response = http.request(method, path)
    refused(response, status, error)
    if status == 405:
        assert response.headers["allow"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
FIELDS = ["texts", "text", "title", "threshold", "top", "inputs", "id", "outputs", "name", "data"]
near_valid = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3)


@settings(max_examples=60)
@given(
    path=st.sampled_from(["/v1/classify", "/v1/articles", "/v1/explain", INFER]),
    body=st.one_of(json_values, near_valid),
)
def test_any_json_body_is_answered_or_refused_never_a_500(
    http: httpx.Client, path: str, body: Any
) -> None:
    """Whatever JSON a client sends, the answer is a result or a 4xx JSON error."""
    response = http.post(path, content=json.dumps(body).encode())
    assert response.status_code in ((200, 400, 413) if path == INFER else (200, 413, 422)), (
        response.text
    )
    assert response.headers["content-type"] == "application/json"
    assert response.json()


@settings(max_examples=40)
@given(content=st.binary(max_size=200))
def test_any_bytes_are_answered_or_refused(http: httpx.Client, content: bytes) -> None:
    """Arbitrary bytes never make a 500."""
    response = http.post("/v1/classify", content=content)
    assert response.status_code in (200, 400, 422), response.text
    assert set(response.json()) >= ({"results"} if response.status_code == 200 else {"error"})


@settings(max_examples=40)
@given(texts=text_batches)
def test_any_texts_are_classified(http: httpx.Client, texts: list[str]) -> None:
    """Any batch of Unicode text is classified, one result per text; only a
    lone surrogate (not valid Unicode) is refused, with 422."""
    response = http.post("/v1/classify", content=json.dumps({"texts": texts}).encode())
    if any(SURROGATE.search(t) for t in texts):
        refused(response, 422, "invalid_request")
    else:
        results = ok(response)["results"]
        assert len(results) == len(texts)
        assert all(math.isclose(sum(r["scores"].values()), 1.0, rel_tol=1e-6) for r in results)


# --- the page, the docs, the OpenAPI document ---------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/", "text/html"),
        ("/docs", "text/html"),
        ("/static/app.js", "text/javascript"),
        ("/static/app.css", "text/css"),
        ("/openapi.json", "application/json"),
    ],
)
def test_static_files_are_served(http: httpx.Client, path: str, kind: str) -> None:
    """The page, its assets, the docs and the OpenAPI document ship in the package."""
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)


def test_the_page_needs_no_other_site() -> None:
    """No CDN: the page's files refer to nothing outside the server."""
    static = Path(_serve.__file__).with_name("_static")
    for name in ("index.html", "app.js", "app.css", "docs.html"):
        text = (static / name).read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
        assert "@import" not in text and 'fetch("http' not in text, name
    assert 'dir="rtl"' in (static / "index.html").read_text(encoding="utf-8")


def test_openapi_documents_every_route_and_its_examples_work(http: httpx.Client) -> None:
    """/openapi.json lists exactly the API's routes, and every request
    example in it gets a 200."""
    from starlette.routing import Route

    doc = ok(http.get("/openapi.json"))
    app = _serve.create_app()
    routes = {
        (r.path, m.lower())
        for r in app.routes
        if isinstance(r, Route) and r.path not in ("/", "/docs", "/openapi.json")
        for m in (r.methods or ()) - {"HEAD"}
    }
    documented = {(path, m) for path, ops in doc["paths"].items() for m in ops}
    assert documented == routes
    for path, ops in doc["paths"].items():
        for op in ops.values():
            if "requestBody" in op:
                example = op["requestBody"]["content"]["application/json"]["example"]
                ok(http.post(path.replace("{name}", "newsclf"), json=example))


# --- the command line ----------------------------------------------------------


def test_importing_serve_is_cheap() -> None:
    """``newsclf`` builds its parser from ``_serve`` without importing the web stack."""
    code = "import sys, newsclf._serve; print({'starlette', 'uvicorn'} & set(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "set()"


def test_options_and_defaults() -> None:
    """``serve`` options: loopback and port 8000 by default, limits settable."""
    import argparse

    parser = argparse.ArgumentParser()
    _serve.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.model, args.host, args.port, args.workers) == (None, "127.0.0.1", 8000, 1)
    assert (args.max_body, args.max_texts) == (_serve.MAX_BODY, _serve.MAX_TEXTS)
    args = parser.parse_args(["--workers", "2", "--max-body", "100", "--max-texts", "3"])
    assert (args.workers, args.max_body, args.max_texts) == (2, 100, 3)
    for bad in (["--workers", "0"], ["--port", "70000"], ["--max-texts", "x"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


def test_a_bad_model_exits_2_with_a_message(tmp_path: Path) -> None:
    """A model that cannot be loaded stops ``serve`` at once: status 2, one line."""
    out = subprocess.run(
        [*SERVE, "--model", str(tmp_path), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("newsclf: error: cannot load model:")
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_exits_2_with_one_line(workers: str) -> None:
    """Regression (server audit): uvicorn logged "Application startup
    complete", then the bind error and more, and exited 3."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [*SERVE, "--port", str(port), "--workers", workers],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 2, out.stderr
    expected = f"cannot listen on 127.0.0.1:{port}: Address already in use"
    assert out.stderr == f"newsclf: error: {expected}\n"


def _serve_with_a_stalled_client(model_dir: Path) -> tuple[subprocess.Popen[str], socket.socket]:
    port = free_port()
    proc = subprocess.Popen(
        [*SERVE, "--model", str(model_dir), "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    conn = socket.create_connection(("127.0.0.1", port), timeout=60)
    conn.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{")
    time.sleep(0.3)
    return proc, conn


def test_a_stop_waits_for_requests_a_bounded_time(model_dir: Path) -> None:
    """Regression (server audit): SIGTERM never ended while a client held a
    half-sent request; a second Ctrl-C printed four tracebacks and exited 0.
    Now a stop waits at most SHUTDOWN_TIMEOUT: the request still running
    gets a 503, the exit status is 0; a second Ctrl-C stops at once with
    130 and one line.  Neither writes a traceback."""
    proc, conn = _serve_with_a_stalled_client(model_dir)
    start = time.monotonic()
    with conn:
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=_serve.SHUTDOWN_TIMEOUT + 30)[1]
        assert proc.returncode == 0 and "Traceback" not in err, err
        assert time.monotonic() - start < _serve.SHUTDOWN_TIMEOUT + 10
        assert conn.recv(4096).startswith(b"HTTP/1.1 503")
    proc, conn = _serve_with_a_stalled_client(model_dir)
    with conn:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert err.endswith("newsclf: serve: stopped before its requests ended\n")


@pytest.mark.parametrize("access_log", [False, True])
def test_serve_with_two_workers(model_dir: Path, access_log: bool) -> None:
    """``run`` with ``--workers 2``: both processes load the model and answer;
    SIGINT stops them cleanly.  Requests are logged only with ``--access-log``."""
    port = free_port()
    args = ["--model", str(model_dir), "--port", str(port), "--workers", "2", "--max-texts", "5"]
    args += ["--access-log"] if access_log else []
    proc = subprocess.Popen([*SERVE, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout
            time.sleep(0.1)
        info = ok(httpx.get(base + "/v1/model"))
        assert info["name"] == "fixture" and info["limits"]["max_texts"] == 5
        ok(httpx.post(base + "/v1/classify", json={"texts": ["قصفت المدفعية مواقع المسلحين"]}))
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, output
    assert output.count("Application startup complete") == 2, output
    assert ('"POST /v1/classify HTTP/1.1" 200' in output) == access_log, output


def test_explain_reads_the_text_in_its_article(context_dir: Path) -> None:
    """Regression (cross-surface audit): /v1/explain refused an article and a
    threshold, so its answer was the paragraph's alone and differed from
    /v1/articles'.  With ``article`` and ``threshold`` it gives the same."""
    from starlette.testclient import TestClient

    text = "وقالت الوزارة إن الاجتماع تناول التطورات الأخيرة\nقصفت المدفعية مواقع المسلحين"
    with TestClient(_serve.create_app(context_dir)) as client:
        body = {"text": text, "threshold": 0.97}
        first = client.post("/v1/articles", json=body).json()["paragraphs"][0]
        got = client.post(
            "/v1/explain",
            json={"text": first["text"], "article": text, "threshold": 0.97, "top": 3},
        ).json()
        alone = client.post("/v1/explain", json={"text": first["text"]}).json()
    assert {k: got[k] for k in ("label", "score", "uncertain")} == {
        k: first[k] for k in ("label", "score", "uncertain")
    }
    assert alone["score"] != first["score"]
    # With a title, as /v1/articles reads it; a title without its article is refused.
    with TestClient(_serve.create_app(context_dir)) as client:
        titled = {"text": text, "title": "اشتباكات على الحدود"}
        first = client.post("/v1/articles", json=titled).json()["paragraphs"][0]
        got = client.post(
            "/v1/explain", json={"text": first["text"], "article": text, "title": titled["title"]}
        ).json()
        refused = client.post("/v1/explain", json={"text": first["text"], "title": "x"})
    assert got["score"] == first["score"] and refused.status_code == 422
