"""``newsclf serve``: the classifier over HTTP, and a page for analysts.

One Starlette app served by uvicorn.  The model is loaded once, in the
lifespan; every model call runs on one dedicated thread, so the event loop
never waits for the CPU.  The texts of concurrent ``/v1/classify`` and V2
``infer`` requests are gathered for a few milliseconds into one model call
(:class:`Batcher`), so many small requests cost about as much as one big one.

Routes (documented in ``_static/openapi.json``, served at ``/openapi.json``):

- ``GET /`` the page; ``GET /docs`` the API reference; ``GET /static/*``
- ``GET /healthz``, ``GET /readyz``, ``GET /v1/model``
- ``POST /v1/classify``, ``POST /v1/articles``, ``POST /v1/explain``
- Open Inference Protocol V2: ``GET /v2``, ``GET /v2/health/live``,
  ``GET /v2/health/ready``, ``GET /v2/models/{name}``,
  ``GET /v2/models/{name}/ready``, ``POST /v2/models/{name}/infer``

Errors are JSON ``{"error": CODE, "detail": ...}``: ``malformed_json`` and
``incomplete_body`` 400, ``request_timeout`` 408 (a body that stopped
arriving), ``invalid_request`` 422, ``body_too_large`` and
``too_many_texts`` 413, ``unsupported_media_type`` 415, ``unknown_model`` and ``not_found`` 404,
``method_not_allowed`` 405, ``unavailable`` 503 (stopped before the request
ended), ``internal`` 500 (a bug, never bad input).  On
the V2 routes they are the protocol's ``{"error": MESSAGE}``, with 400 where
the others say 422.  Bodies are strict JSON: UTF-8, no ``NaN``, no key twice.

This module imports only the standard library: ``newsclf`` builds its
command line from :func:`add_arguments` without paying for (or needing)
Starlette and uvicorn, which come with the ``serve`` extra.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import json
import math
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from newsclf._argtypes import integer
from newsclf._json import LONE_SURROGATE
from newsclf._json import loads as json_loads

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from newsclf._model import Classifier, Prediction

__all__ = ["MAX_BODY", "MAX_TEXTS", "add_arguments", "create_app", "run"]

#: Default limit of a request body, in bytes.
MAX_BODY = 4 * 1024 * 1024
#: Default limit of texts in one request (paragraphs, for ``/v1/articles``).
MAX_TEXTS = 1024
#: How long the batcher waits for more requests once one has arrived, in seconds.
BATCH_WINDOW = 0.002
#: Most texts in one model call (more requests wait for the next call).
MAX_BATCH = 4096
#: Most n-grams per label that ``/v1/explain`` returns.
MAX_TOP = 100
#: ``{name}`` in the V2 routes accepts the model's own name and this one.
SERVER_NAME = "newsclf"
#: Metadata keys ``/v1/model`` shows (the rest, e.g. data paths, stays private).
PUBLIC_METADATA = ("name", "labels", "metrics", "versions", "created", "format_version")

_STATIC = Path(__file__).with_name("_static")
#: Seconds a request body may stall (no byte arriving) before a 408: a stalled
#: client would otherwise hold its connection, and a graceful shutdown, forever.
BODY_TIMEOUT = 30.0
#: Seconds a shutdown (SIGTERM, Ctrl-C) waits for requests still running.
SHUTDOWN_TIMEOUT = 10

#: Environment variable carrying the settings to each ``--workers`` process.
_ENV = "NEWSCLF_SERVE_CONFIG"


class RequestError(Exception):
    """A request the server refuses: HTTP ``status``, a stable ``error``
    code and a ``detail`` for people."""

    def __init__(
        self, status: int, error: str, detail: object, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers


def _invalid(detail: str) -> RequestError:
    return RequestError(422, "invalid_request", detail)


# --- request bodies ----------------------------------------------------------

#: What each JSON body may hold: field -> (JSON type, required).  An optional
#: field given as ``null`` counts as absent.  Checked by :func:`validate`.
Schema = dict[str, tuple[str, bool]]
CLASSIFY: Schema = {"texts": ("string[]", True), "threshold": ("number", False)}
ARTICLE: Schema = {
    "text": ("string", True),
    "title": ("string", False),
    "threshold": ("number", False),
}
EXPLAIN: Schema = {
    "text": ("string", True),
    "article": ("string", False),
    "title": ("string", False),
    "top": ("integer", False),
    "threshold": ("number", False),
}
INFER: Schema = {
    "inputs": ("object[]", True),
    "id": ("string", False),
    "parameters": ("object", False),
    "outputs": ("object[]", False),
}
INFER_INPUT: Schema = {
    "name": ("string", True),
    "shape": ("integer[]", True),
    "datatype": ("string", True),
    "data": ("array", True),
    "parameters": ("object", False),
}
INFER_OUTPUT: Schema = {"name": ("string", True), "parameters": ("object", False)}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


#: How error messages name each JSON type of a schema.
_KINDS = {
    "string": "a string of valid Unicode",
    "number": "a finite number",
    "integer": "an integer",
    "object": "an object",
    "array": "an array",
    "string[]": "an array of strings",
    "integer[]": "an array of integers",
    "object[]": "an array of objects",
}


def _is(value: object, kind: str) -> bool:
    if kind == "number":  # an int of any size is finite (math.isfinite would overflow)
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value)
        )
    if kind == "string":
        return isinstance(value, str) and not LONE_SURROGATE.search(value)
    return _json_type(value) == kind


def _found(value: object, kind: str) -> str:
    """How an error names ``value``, which is not of ``kind``."""
    if kind == "string" and isinstance(value, str):
        return "a string with lone surrogates"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} (a number out of range)"
    return _json_type(value)


def _check(value: object, kind: str, where: str) -> None:
    item = kind.removesuffix("[]")
    if item != kind and isinstance(value, list):
        for i, v in enumerate(value):
            _check(v, item, f"{where}[{i}]")
    elif item != kind or not _is(value, kind):
        raise _invalid(f"{where} must be {_KINDS[kind]}, got {_found(value, kind)}")


def validate(body: object, schema: Schema, where: str = "body") -> dict[str, Any]:
    """``body`` as a dict with every field of ``schema`` (``None`` when an
    optional field is absent); :class:`RequestError` 422 when it does not fit."""
    if not isinstance(body, dict):
        raise _invalid(f"{where} must be {_KINDS['object']}, got {_json_type(body)}")
    unknown = sorted(set(body) - set(schema))
    if unknown:
        raise _invalid(f"{where} has unknown fields {unknown}; expected {sorted(schema)}")
    out = {}
    for name, (kind, required) in schema.items():
        value = body.get(name)
        if value is None and required:
            raise _invalid(f"{where} is missing {name!r}")
        if value is not None:
            _check(value, kind, name if where == "body" else f"{where}.{name}")
        out[name] = value
    return out


def _count(n: int, limit: int, what: str) -> None:
    if n > limit:
        raise RequestError(413, "too_many_texts", f"{n} {what}; the limit is {limit}")


def _threshold(value: float | None, default: float, what: str = "threshold") -> float:
    if value is None:
        return default
    if not 0.0 <= value <= 1.0:
        raise _invalid(f"{what} must be within [0, 1], got {value!r:.40}")
    return float(value)


async def read_json(request: Request, limit: int) -> object:
    """The request's JSON body, refused with 413 as soon as it passes
    ``limit`` bytes (never read whole first), 400 when it is not strict
    JSON (:func:`newsclf._json.loads`) or the client left before its end,
    422 when the URL has a query (nothing in a request is ignored)."""
    from starlette.requests import ClientDisconnect

    if request.url.query:  # e.g. ?threshold=0.9: never silently ignored
        raise _invalid(
            f"this endpoint reads a JSON body only, found the query {request.url.query!r:.60}: "
            "put its parameters in the body"
        )
    _check_content_headers(request.headers)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, "body_too_large", f"the body is over the {limit}-byte limit")
    chunks, size = [], 0
    stream = request.stream()
    try:
        while True:
            try:
                async with asyncio.timeout(BODY_TIMEOUT):
                    chunk = await anext(stream)
            except StopAsyncIteration:
                break
            size += len(chunk)
            if size > limit:
                raise RequestError(
                    413, "body_too_large", f"the body is over the {limit}-byte limit"
                )
            chunks.append(chunk)
    except ClientDisconnect:
        raise RequestError(
            400, "incomplete_body", "the client closed the connection before the body ended"
        ) from None
    except TimeoutError:
        raise RequestError(
            408,
            "request_timeout",
            f"nothing of the body arrived for {BODY_TIMEOUT:g} seconds "
            f"({size} bytes had); send it whole",
            {"Connection": "close"},
        ) from None
    try:
        return json_loads(b"".join(chunks))
    except ValueError as e:  # UnicodeDecodeError is a ValueError
        why = str(e).removeprefix("invalid JSON: ")
        raise RequestError(400, "malformed_json", f"the body is not JSON: {why}") from None


def _check_content_headers(headers: Any) -> None:
    """Refuse, with 415, a body the headers say is not plain JSON: a
    ``Content-Encoding`` (a compressed body) or a ``Content-Type`` other than
    JSON in UTF-8 (none at all is read as JSON)."""
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise RequestError(
            415,
            "unsupported_media_type",
            f"expected an uncompressed body, found Content-Encoding {encoding!r:.40}: "
            "send the JSON as it is",
        )
    declared = headers.get("content-type")
    if declared is None:
        return
    media, *params = (part.strip().lower() for part in declared.split(";"))
    charset = next((p.split("=", 1)[1].strip('" ') for p in params if p.startswith("charset=")), "")
    if (media != "application/json" and not media.endswith("+json")) or charset not in (
        "",
        "utf-8",
        "utf8",
    ):
        raise RequestError(
            415,
            "unsupported_media_type",
            f"expected Content-Type application/json (UTF-8), found {declared!r:.60}: "
            "send JSON with that header (curl: -H 'Content-Type: application/json')",
        )


def _flatten(data: list[Any], where: str) -> Iterator[str]:
    for i, v in enumerate(data):
        if isinstance(v, list):
            yield from _flatten(v, f"{where}[{i}]")
        else:
            _check(v, "string", f"{where}[{i}]")
            yield v


class Inference(NamedTuple):
    """What a V2 infer request asks for."""

    texts: list[str]
    #: The output tensors wanted, in order.
    outputs: list[str]
    #: ``parameters.threshold``, if given.
    threshold: float | None
    id: str | None


Parameters = dict[str, tuple[object, ...] | None]
#: The V2 parameters this server understands, each with the values it
#: allows (``None``: checked where it is used).  A text tensor carries JSON
#: strings; outputs come back as JSON, never in the binary extension.
REQUEST_PARAMETERS: Parameters = {"threshold": None}
INPUT_PARAMETERS: Parameters = {"content_type": ("str",)}
OUTPUT_PARAMETERS: Parameters = {"binary_data": (False,)}


def _parameters(value: dict[str, Any] | None, known: Parameters, where: str) -> None:
    """Refuse a V2 ``parameters`` object with a name not in ``known`` or a
    value it does not allow: a parameter is never silently ignored."""
    for name, v in (value or {}).items():
        if name not in known:
            raise _invalid(f"{where} has an unknown parameter {name!r}; expected {sorted(known)}")
        allowed = known[name]
        if allowed is not None and not any(type(v) is type(a) and v == a for a in allowed):
            raise _invalid(f"{where}.{name} must be one of {list(allowed)}, got {v!r}")


#: The model's input and outputs, as ``GET /v2/models/{name}`` lists them.
INPUT_NAME = "text"
OUTPUT_NAMES = ("label", "scores", "uncertain")


def infer_request(body: object, max_texts: int) -> Inference:
    """A V2 infer request: one ``BYTES`` input named ``text`` of shape
    ``[n]`` or ``[n, 1]``, outputs among :data:`OUTPUT_NAMES`, each named at
    most once, and no parameter this server would ignore."""
    req = validate(body, INFER)
    _parameters(req["parameters"], REQUEST_PARAMETERS, "parameters")
    threshold = (req["parameters"] or {}).get("threshold")
    if threshold is not None:
        _check(threshold, "number", "parameters.threshold")
    if len(req["inputs"]) != 1:
        raise _invalid(f"inputs must hold exactly one tensor, got {len(req['inputs'])}")
    tensor = validate(req["inputs"][0], INFER_INPUT, "inputs[0]")
    if tensor["name"] != INPUT_NAME:
        raise _invalid(f"inputs[0].name must be {INPUT_NAME!r}, got {tensor['name']!r}")
    if tensor["datatype"] != "BYTES":
        raise _invalid(f"inputs[0].datatype must be 'BYTES', got {tensor['datatype']!r}")
    _parameters(tensor["parameters"], INPUT_PARAMETERS, "inputs[0].parameters")
    shape = tensor["shape"]
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)) or shape[0] < 0:
        raise _invalid(f"inputs[0].shape must be [n] or [n, 1], got {shape}")
    _count(shape[0], max_texts, "texts")
    texts = list(_flatten(tensor["data"], "inputs[0].data"))
    if len(texts) != shape[0]:
        raise _invalid(f"inputs[0].shape {shape} does not match its {len(texts)} strings")
    outputs = []
    for i, out in enumerate(req["outputs"] or []):
        out = validate(out, INFER_OUTPUT, f"outputs[{i}]")
        if out["name"] not in OUTPUT_NAMES or out["name"] in outputs:
            why = "is named twice" if out["name"] in outputs else "is not an output"
            raise _invalid(
                f"outputs[{i}].name {out['name']!r} {why}; this model has {list(OUTPUT_NAMES)}"
            )
        _parameters(out["parameters"], OUTPUT_PARAMETERS, f"outputs[{i}].parameters")
        outputs.append(out["name"])
    return Inference(texts, outputs or list(OUTPUT_NAMES), threshold, req["id"])


# --- the model side ----------------------------------------------------------


class Batcher:
    """Gathers the texts of concurrent requests into one call of ``score``
    (run on ``executor``), and hands each request its share, in order.

    Once a request arrives, the batcher takes the others that reach it while
    the event loop still has requests to read (for at most ``window``
    seconds, and at most ``max_batch`` texts unless one request alone holds
    more), scores them, and starts over.  While the model works, new
    requests queue up for the next call; a lone request waits for nothing.
    """

    def __init__(
        self,
        score: Callable[[list[str]], list[Prediction]],
        executor: ThreadPoolExecutor,
        *,
        window: float = BATCH_WINDOW,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._score = score
        self._executor = executor
        self._window = window
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[list[str], asyncio.Future[list[Prediction]]]]
        self._queue = asyncio.Queue()

    async def classify(self, texts: list[str]) -> list[Prediction]:
        """The predictions for ``texts``, from a model call shared with
        whatever other requests are waiting."""
        if not texts:
            return []
        future: asyncio.Future[list[Prediction]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((texts, future))
        return await future

    async def _gather(self) -> list[tuple[list[str], asyncio.Future[list[Prediction]]]]:
        loop = asyncio.get_running_loop()
        batch = [await self._queue.get()]
        size = len(batch[0][0])
        deadline = loop.time() + self._window
        idle_turns = 0
        while size < self._max_batch and idle_turns < 2 and loop.time() < deadline:
            if self._queue.empty():
                idle_turns += 1
                await asyncio.sleep(0)  # a turn of the loop: requests it has read come in
                continue
            idle_turns = 0
            batch.append(self._queue.get_nowait())
            size += len(batch[-1][0])
        return batch

    async def run(self) -> None:
        """Serve the queue until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._gather()
            batch = [(texts, f) for texts, f in batch if not f.done()]  # done: cancelled
            if not batch:
                continue
            all_texts = [t for texts, _ in batch for t in texts]
            try:
                preds = await loop.run_in_executor(self._executor, self._score, all_texts)
            except Exception as e:
                for _, f in batch:
                    if not f.done():
                        f.set_exception(e)
                continue
            start = 0
            for texts, f in batch:
                if not f.done():
                    f.set_result(preds[start : start + len(texts)])
                start += len(texts)


class Service:
    """What the routes share: the loaded model, its thread, the batcher, the limits."""

    def __init__(
        self, clf: Classifier, executor: ThreadPoolExecutor, *, max_body: int, max_texts: int
    ) -> None:
        self.clf = clf
        self.executor = executor
        self.max_body = max_body
        self.max_texts = max_texts
        meta = clf.metadata
        self.name = str(meta["name"])
        self.names = {self.name, SERVER_NAME}
        self.labels = list(clf.labels)
        self.threshold = clf.threshold
        self.takes_title = "title" in inspect.signature(clf.classify_article).parameters
        # Scored at threshold 0, a prediction is uncertain only when the text
        # has no known feature; each request then applies its own threshold.
        self.batcher = Batcher(
            lambda texts: list(clf.classify_many(texts, threshold=0.0)), executor
        )
        self.model_info = {
            **{k: meta[k] for k in PUBLIC_METADATA if k in meta},
            "labels": self.labels,
            "threshold": self.threshold,
            "limits": {"max_body": max_body, "max_texts": max_texts},
        }

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` on the model's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    async def body(self, request: Request, schema: Schema) -> dict[str, Any]:
        return validate(await read_json(request, self.max_body), schema)

    def check_name(self, name: str) -> None:
        if name not in self.names:
            raise RequestError(
                404,
                "unknown_model",
                f"no model {name!r}; this server has {self.name!r} (also called {SERVER_NAME!r})",
            )


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _result(pred: Prediction, cut: float) -> dict[str, Any]:
    return {
        "label": pred.label,
        "score": pred.score,
        "scores": dict(pred.scores),
        "uncertain": pred.uncertain or pred.score < cut,
    }


# --- routes ------------------------------------------------------------------


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    from starlette.responses import Response

    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(text.encode(), status, headers, media_type="application/json")


async def healthz(request: Request) -> Response:
    return _json({"status": "ok"})


async def readyz(request: Request) -> Response:
    return _json({"status": "ready", "model": _service(request).name})


async def model_info(request: Request) -> Response:
    return _json(_service(request).model_info)


async def classify(request: Request) -> Response:
    s = _service(request)
    req = await s.body(request, CLASSIFY)
    _count(len(req["texts"]), s.max_texts, "texts")
    cut = _threshold(req["threshold"], s.threshold)
    preds = await s.batcher.classify(req["texts"])
    return _json({"results": [_result(p, cut) for p in preds]})


async def articles(request: Request) -> Response:
    from newsclf._paragraphs import split_paragraphs

    s = _service(request)
    req = await s.body(request, ARTICLE)
    _count(len(split_paragraphs(req["text"])), s.max_texts, "paragraphs")
    cut = _threshold(req["threshold"], s.threshold)
    title = {"title": req["title"]} if s.takes_title and req["title"] is not None else {}
    preds = await s.call(s.clf.classify_article, req["text"], threshold=cut, **title)
    paragraphs = [{"index": p.index, "text": p.text, **_result(p, cut)} for p in preds]
    stripped = "\n\n".join(p.text for p in preds if p.label != "boilerplate")
    return _json({"paragraphs": paragraphs, "stripped": stripped})


async def explain(request: Request) -> Response:
    from newsclf._paragraphs import article_text

    s = _service(request)
    req = await s.body(request, EXPLAIN)
    top = 10 if req["top"] is None else req["top"]
    if not 0 <= top <= MAX_TOP:
        raise _invalid(f"top must be within [0, {MAX_TOP}], got {top}")
    cut = _threshold(req["threshold"], s.threshold)
    # The paragraph read in its article (and title), as /v1/articles reads it.
    context = None
    if req["article"] is not None:
        title = req["title"] if s.takes_title else None
        context = article_text(req["article"], title)
    elif req["title"] is not None:
        raise _invalid("title is the title of an article: give the article too")
    return _json(await s.call(s.clf.explain, req["text"], context=context, top=top, threshold=cut))


async def v2_server(request: Request) -> Response:
    from newsclf import __version__

    return _json({"name": SERVER_NAME, "version": __version__, "extensions": []})


async def v2_live(request: Request) -> Response:
    return _json({"live": True})


async def v2_ready(request: Request) -> Response:
    return _json({"ready": True})


async def v2_model(request: Request) -> Response:
    s = _service(request)
    s.check_name(request.path_params["name"])
    return _json(
        {
            "name": s.name,
            "versions": [],
            "platform": "newsclf",
            "inputs": [{"name": INPUT_NAME, "datatype": "BYTES", "shape": [-1]}],
            "outputs": [
                {"name": "label", "datatype": "BYTES", "shape": [-1]},
                {"name": "scores", "datatype": "FP32", "shape": [-1, len(s.labels)]},
                {"name": "uncertain", "datatype": "BOOL", "shape": [-1]},
            ],
            "parameters": {"labels": s.labels, "threshold": s.threshold},
        }
    )


async def v2_model_ready(request: Request) -> Response:
    s = _service(request)
    s.check_name(request.path_params["name"])
    return _json({"name": s.name, "ready": True})


async def v2_infer(request: Request) -> Response:
    import numpy as np

    s = _service(request)
    s.check_name(request.path_params["name"])
    req = infer_request(await read_json(request, s.max_body), s.max_texts)
    cut = _threshold(req.threshold, s.threshold, "parameters.threshold")
    preds = await s.batcher.classify(req.texts)
    n, k = len(preds), len(s.labels)
    scores = np.array([[p.scores[lab] for lab in s.labels] for p in preds], dtype=np.float32)
    tensors = {
        "label": {"shape": [n], "datatype": "BYTES", "data": [p.label for p in preds]},
        "scores": {"shape": [n, k], "datatype": "FP32", "data": scores.reshape(-1).tolist()},
        "uncertain": {
            "shape": [n],
            "datatype": "BOOL",
            "data": [p.uncertain or p.score < cut for p in preds],
        },
    }
    outputs = [{"name": name, **tensors[name]} for name in req.outputs]
    out: dict[str, Any] = {"model_name": s.name, "outputs": outputs}
    if req.id is not None:
        out["id"] = req.id
    out["parameters"] = {"labels": s.labels}
    return _json(out)


# --- errors ------------------------------------------------------------------


def _error(
    request: Request,
    status: int,
    error: str,
    detail: object,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error response: ``{"error": CODE, "detail": ...}``, or on the V2
    routes the Open Inference Protocol's ``{"error": MESSAGE}``, with 400
    for any request it refuses as invalid."""
    # The path within this app (behind a proxy's root path, or mounted).
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    if path == "/v2" or path.startswith("/v2/"):
        return _json({"error": str(detail)}, 400 if status == 422 else status, headers)
    return _json({"error": error, "detail": detail}, status, headers)


async def _request_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestError)
    return _error(request, exc.status, exc.error, exc.detail, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, wrong method) as JSON."""
    from starlette.exceptions import HTTPException

    assert isinstance(exc, HTTPException)
    where = f"{request.method} {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        error, detail = "not_found", f"no route for {where}"
    elif exc.status_code == 405:
        error, detail = "method_not_allowed", f"{where}: allowed: {headers.get('Allow')}"
    else:
        error, detail = "http_error", str(exc.detail)
    return _error(request, exc.status_code, error, detail, headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    return _error(request, 500, "internal", "unexpected server error; see the server log")


# --- the app -----------------------------------------------------------------


class _CutShort:
    """ASGI middleware: a request still running when a shutdown's grace
    period (:data:`SHUTDOWN_TIMEOUT`) ends is cancelled by uvicorn, which
    logs a traceback for it.  It gets a 503 instead (if nothing of its
    response was sent yet), and the log only uvicorn's line saying it was
    cancelled.  Likewise the app's lifespan, cancelled by a forced stop (a
    second Ctrl-C), ends without the traceback Starlette would report."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def sending(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            if message["type"] == "lifespan.shutdown.failed":
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    message = {"type": "lifespan.shutdown.complete"}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if scope["type"] != "http" or started:
                return
            from starlette.requests import Request

            detail = "the server stopped before this request ended"
            headers = {"Connection": "close"}
            response = _error(Request(scope), 503, "unavailable", detail, headers)
            with suppress(Exception):  # the client may be gone too
                await response(scope, receive, send)


def _build_app(load: Callable[[], Classifier], *, max_body: int, max_texts: int) -> Starlette:
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.responses import FileResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        executor = ThreadPoolExecutor(1, thread_name_prefix="newsclf-model")
        clf = await asyncio.get_running_loop().run_in_executor(executor, load)
        service = Service(clf, executor, max_body=max_body, max_texts=max_texts)
        app.state.service = service
        batcher = asyncio.create_task(service.batcher.run())
        try:
            yield
        finally:
            batcher.cancel()
            executor.shutdown(wait=False)

    def page(name: str, media_type: str | None = None) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return FileResponse(_STATIC / name, media_type=media_type)

        return endpoint

    v2_model_path = "/v2/models/{name}"
    routes = [
        # The scoring routes first: Starlette tries routes in order.
        Route("/v1/classify", classify, methods=["POST"]),
        Route(v2_model_path + "/infer", v2_infer, methods=["POST"]),
        Route("/", page("index.html")),
        Route("/docs", page("docs.html")),
        Route("/openapi.json", page("openapi.json", "application/json")),
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/v1/model", model_info),
        Route("/v1/articles", articles, methods=["POST"]),
        Route("/v1/explain", explain, methods=["POST"]),
        Route("/v2", v2_server),
        Route("/v2/health/live", v2_live),
        Route("/v2/health/ready", v2_ready),
        Route(v2_model_path, v2_model),
        Route(v2_model_path + "/ready", v2_model_ready),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(_CutShort)],
        exception_handlers={
            RequestError: _request_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    # A path with a trailing slash is not found (JSON 404), not redirected to
    # a URL built from the client's Host header.
    app.router.redirect_slashes = False
    return app


def create_app(
    model: str | os.PathLike[str] | None = None,
    *,
    max_body: int = MAX_BODY,
    max_texts: int = MAX_TEXTS,
) -> Starlette:
    """The ASGI app serving ``model`` (an artifact directory; ``None``: the
    bundled model), loaded once when the app starts.  ``max_body`` limits a
    request body (bytes), ``max_texts`` the texts (or paragraphs) of one request."""
    from newsclf._model import load

    return _build_app(functools.partial(load, model), max_body=max_body, max_texts=max_texts)


def _app_from_env() -> Starlette:
    """The app for each ``--workers`` process, configured by :func:`run`."""
    config = json.loads(os.environ[_ENV])
    return create_app(config["model"], max_body=config["max_body"], max_texts=config["max_texts"])


# --- command line ------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``newsclf serve``."""
    parser.add_argument("--model", metavar="PATH", help="trained artifact (default: bundled)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=integer(0, 65535, what="a port"),
        default=8000,
        help="port (default: %(default)s)",
    )
    parser.add_argument(
        "--workers", type=integer(1), default=1, metavar="N", help="processes (default: 1)"
    )
    parser.add_argument(
        "--max-body",
        type=integer(1),
        default=MAX_BODY,
        metavar="BYTES",
        help="largest request body (default: %(default)s)",
    )
    parser.add_argument(
        "--max-texts",
        type=integer(1),
        default=MAX_TEXTS,
        metavar="N",
        help="most texts or paragraphs per request (default: %(default)s)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (uvicorn's access log; off by default: it costs "
        "about a quarter of the throughput on single-text requests)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; the exit status (2: no serve extra, or a bad model)."""
    try:
        import uvicorn
    except ImportError:
        print(
            "newsclf: error: 'newsclf serve' needs the serve extra's packages: "
            "pip install starlette uvicorn httptools uvloop",
            file=sys.stderr,
        )
        return 2
    from newsclf._errors import NewsclfError
    from newsclf._model import load

    try:
        clf = load(args.model)  # a bad model fails here, with a message
    except NewsclfError as e:
        print(f"newsclf: error: cannot load model: {e}", file=sys.stderr)
        return 2
    try:
        sock = _listen(args.host, args.port)
    except OSError as e:
        print(f"newsclf: error: {e}", file=sys.stderr)
        return 2
    limits = {"max_body": args.max_body, "max_texts": args.max_texts}
    settings: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "access_log": args.access_log,
        "timeout_graceful_shutdown": SHUTDOWN_TIMEOUT,
    }
    if args.workers > 1:
        sock.close()  # checked: uvicorn binds it again, for its worker processes
        # Each worker process builds its app, and loads the model, from these settings.
        model = None if args.model is None else os.path.abspath(args.model)
        os.environ[_ENV] = json.dumps({"model": model, **limits})
        uvicorn.run(f"{__name__}:_app_from_env", factory=True, workers=args.workers, **settings)
        return 0
    server = _server(uvicorn.Config(_build_app(lambda: clf, **limits), **settings))
    with sock:
        server.run(sockets=[sock])
    if server.force_exit:  # a second Ctrl-C: requests still running were cut short
        print("newsclf: serve: stopped before its requests ended", file=sys.stderr)
        return 130
    return 0


def _server(config: Any) -> Any:
    """uvicorn's server, except that the signal that stopped it is not raised
    again once it has stopped: uvicorn does so to end the process by that
    signal, which made a second Ctrl-C a ``KeyboardInterrupt`` with
    tracebacks, and the exit status depend on the signal.  ``serve`` exits
    0 once its requests have ended, 130 when a second Ctrl-C cut them short."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return Server(config)


def _listen(host: str, port: int) -> Any:
    """A socket listening on ``host:port`` (as uvicorn binds one), made here
    so that a port in use or a bad host is one line and exit status 2 before
    the server starts (uvicorn logs several lines, "startup complete" among
    them, then exits 3).  Raises :class:`OSError` saying which."""
    import socket

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # uvicorn's default backlog
    except OSError as e:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return sock
