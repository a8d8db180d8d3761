"""Load test of ``newsclf serve`` on loopback -> benchmarks/SERVE.md.

    uv run --group bench python benchmarks/serve.py [--duration 30] [--runs 3]

Each run starts the server (one worker) in a subprocess pinned to CPU 0,
then drives it with ``wrk`` (a compiled HTTP load generator: ``apt install
wrk``), pinned to CPU 1 (on a machine with two CPUs or more):
``--clients`` concurrent connections, each sending its next request as soon
as the last one is answered, for ``--duration`` seconds with one text per
request, then as long with 64 texts per request.  Every response is checked
(status 200 and one result per text).  It records requests/s,
paragraphs/s, p50/p99 latency, errors, and the server's RSS (``VmRSS`` in
/proc) after start-up and at the end.  The library alone,
``clf.predict_proba`` in one process pinned to CPU 0, on the same
paragraphs, is the yardstick; a do-nothing ASGI app on the same uvicorn
shows what HTTP alone costs.  The table holds the medians of the runs.

The paragraphs are the project's own (``training/data/original.jsonl``).
Every request goes to 127.0.0.1 and every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "training" / "data" / "original.jsonl"
OUT = Path(__file__).with_name("SERVE.md")
SERVER_CPU, CLIENT_CPU = 0, 1
#: ``newsclf serve``, as a user starts it.
SERVE = [sys.executable, "-m", "newsclf", "serve"]
#: A do-nothing ASGI app (reads the body, answers one fixed result) on the same
#: uvicorn: the floor of any Python server's cost per request.
BARE = [
    sys.executable,
    "-c",
    (
        "import sys, uvicorn\n"
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n"
        "        return\n"
        "    while (await receive()).get('more_body'):\n"
        "        pass\n"
        "    await send({'type': 'http.response.start', 'status': 200,\n"
        "                'headers': [(b'content-type', b'application/json')]})\n"
        "    await send({'type': 'http.response.body',\n"
        "                'body': b'{\"results\": [{\"label\": 0}]}'})\n"
        "uvicorn.run(app, port=int(sys.argv[2]), access_log=False, log_level='warning')\n"
    ),
]
#: wrk's script: round-robin request bodies, each response checked (status
#: 200 and one ``"label"`` per text), figures printed as JSON at the end.
WRK_SCRIPT = """
local bodies = {%s}
local expected = %d
local threads = {}
i = 0
errors = 0
function setup(thread) table.insert(threads, thread) end
function request()
  i = i + 1
  return wrk.format("POST", "/v1/classify", {["Content-Type"] = "application/json"},
                    bodies[(i %% #bodies) + 1])
end
function response(status, headers, body)
  local _, n = string.gsub(body, '"label":', "")
  if status ~= 200 or n ~= expected then errors = errors + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("errors") end
  local e = summary.errors
  io.write(string.format(
    'NEWSCLF {"requests": %%d, "seconds": %%f, "p50_ms": %%f, "p99_ms": %%f, "errors": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, bad + e.connect + e.read + e.write + e.timeout))
end
"""
IMPORTS = {
    "starlette + uvicorn": "import starlette.applications, starlette.routing, uvicorn",
    "fastapi + uvicorn": "import fastapi, uvicorn",
}


def paragraphs() -> list[str]:
    with open(DATA, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > max(SERVER_CPU, CLIENT_CPU):
        os.sched_setaffinity(0, {cpu})


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def import_seconds(statement: str, repeat: int = 5) -> float | None:
    """Best wall time of a fresh interpreter running ``statement``, less an empty one."""

    def best(code: str) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        return min(times)

    try:
        return best(statement) - best("pass")
    except subprocess.CalledProcessError:
        return None  # not installed


def library_rate(model: str | None, texts: list[str], rounds: int = 3) -> float:
    """Paragraphs/s of ``predict_proba`` in this process, pinned to the server's CPU."""
    import newsclf

    pin(SERVER_CPU)
    clf = newsclf.load(model)
    batch = texts * 10
    clf.predict_proba(texts[:100])
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        clf.predict_proba(batch)
        rates.append(len(batch) / (time.perf_counter() - start))
    pin(CLIENT_CPU)
    return statistics.median(rates)


class Server:
    """``newsclf serve`` in a subprocess pinned to one CPU."""

    def __init__(self, model: str | None, command: list[str] = SERVE) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["--port", str(self.port), *(["--model", model] if model else [])]
        self.proc = subprocess.Popen(
            [*command, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: pin(SERVER_CPU),
        )

    def ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server not ready in 120 s")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def lua_string(text: str) -> str:
    """``text`` as a Lua long-bracket string literal."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def load(
    url: str, texts: list[str], per_request: int, clients: int, seconds: float
) -> dict[str, float]:
    """``clients`` closed-loop connections of wrk for ``seconds``; the figures."""
    bodies = [
        json.dumps({"texts": [texts[(i + j) % len(texts)] for j in range(per_request)]})
        for i in range(0, len(texts), max(1, per_request // 4))
    ]
    script = WRK_SCRIPT % (", ".join(lua_string(b) for b in bodies), per_request)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="utf-8") as f:
        f.write(script)
        f.flush()
        before = os.times()
        done = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "-s", f.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            check=True,
            preexec_fn=lambda: pin(CLIENT_CPU),
        )
        after = os.times()
    line = next(x for x in done.stdout.splitlines() if x.startswith("NEWSCLF "))
    r = json.loads(line.removeprefix("NEWSCLF "))
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {
        "requests_s": r["requests"] / r["seconds"],
        "paragraphs_s": r["requests"] * per_request / r["seconds"],
        "p50_ms": r["p50_ms"],
        "p99_ms": r["p99_ms"],
        "errors": r["errors"],
        "requests": r["requests"],
        "client_cpu": cpu / r["seconds"],
    }


def short_load(server: Server, texts: list[str], args: argparse.Namespace) -> dict[str, float]:
    """A shorter single-text load (after a 2 s warm-up) on ``server``, then stop it."""
    try:
        server.ready()
        load(server.url, texts, 1, args.clients, 2)
        return load(server.url, texts, 1, args.clients, min(10.0, args.duration))
    finally:
        server.stop()


def one_run(args: argparse.Namespace, texts: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"load": os.getloadavg()[0]}
    out["bare"] = short_load(Server(None, BARE), texts, args)
    out["logged"] = short_load(Server(args.model, [*SERVE, "--access-log"]), texts, args)
    server = Server(args.model)
    try:
        server.ready()
        load(server.url, texts, 1, args.clients, 2)  # warm-up
        out["rss_start"] = rss_mib(server.proc.pid)
        for per_request in (1, 64):
            out[per_request] = load(server.url, texts, per_request, args.clients, args.duration)
            out[per_request]["rss"] = rss_mib(server.proc.pid)
        return out
    finally:
        server.stop()


def median(runs: list[dict[str, Any]], *keys: Any) -> float:
    values = []
    for run in runs:
        for key in keys:
            run = run[key]
        values.append(run)
    return statistics.median(values)


def report(args: argparse.Namespace, runs: list[dict[str, Any]]) -> str:
    import newsclf

    clf = newsclf.load(args.model)
    imports = {name: import_seconds(code) for name, code in IMPORTS.items()}
    scenarios = (
        (1, "1 text per request", 1),
        (64, "64 texts per request", 64),
        ("logged", "1 text per request, `--access-log`", 1),
        ("bare", "do-nothing ASGI app, 1 text per request", None),
    )
    rows = []
    for key, name, per_request in scenarios:
        share = ""
        if per_request is not None:
            para = f"{median(runs, key, 'paragraphs_s'):,.0f}"
            share = f"{statistics.median(r[key]['paragraphs_s'] / r['library'] for r in runs):.0%}"
        else:
            para = ""
        rows.append(
            f"| {name} | {median(runs, key, 'requests_s'):,.0f} | {para} | {share} "
            f"| {median(runs, key, 'p50_ms'):.1f} | {median(runs, key, 'p99_ms'):.1f} "
            f"| {sum(r[key]['errors'] for r in runs)} "
            f"| {sum(r[key]['requests'] for r in runs):,} |"
        )
    bare = median(runs, "bare", "requests_s")
    library = median(runs, "library")
    bound = bare * library / (bare + library)
    single = median(runs, 1, "paragraphs_s")
    rss = "; ".join(f"{r['rss_start']:.0f} → {r[1]['rss']:.0f} → {r[64]['rss']:.0f}" for r in runs)
    loads = ", ".join(f"{r['load']:.1f}" for r in runs)
    libraries = ", ".join(f"{r['library']:,.0f}" for r in runs)
    client = max(r[k]["client_cpu"] for r in runs for k, _, _ in scenarios)
    import_lines = [
        f"- {name}: {'not installed' if s is None else f'{1000 * s:.0f} ms'}"
        for name, s in imports.items()
    ]
    return "\n".join(
        [
            "# `newsclf serve` under load",
            "",
            "Written by `benchmarks/serve.py` (`uv run --group bench python benchmarks/serve.py`; "
            "needs `wrk`: `apt install wrk`).",
            "",
            f"- Machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
            f"Python {platform.python_version()}, model `{clf.metadata['name']}` "
            f"({len(clf.labels)} labels).",
            f"- Server: `newsclf serve` (defaults: one worker, no access log), pinned to CPU "
            f"{SERVER_CPU}; load generator `wrk` ({args.clients} closed-loop connections, "
            f"every response checked) pinned to CPU {CLIENT_CPU}; loopback only.",
            f"- Texts: the project's {len(paragraphs())} paragraphs of "
            "`training/data/original.jsonl`, round robin.",
            f"- {args.duration:.0f} s per scenario after a 2 s warm-up; medians of {len(runs)} "
            "runs (errors and requests: totals).",
            f"- Load average (1 min) at the start of each run: {loads}; the load generator used "
            f"at most {client:.0%} of its CPU (it is not the bottleneck when well below 100%).",
            "",
            "| scenario | requests/s | paragraphs/s | of library | p50 ms | p99 ms | errors "
            "| requests |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Library in one process (`clf.predict_proba` on {len(paragraphs()) * 10:,} "
            f"paragraphs, pinned to CPU {SERVER_CPU}, measured before each run; "
            '"of library" is the median of the per-run ratios): '
            f"**{median(runs, 'library'):,.0f} paragraphs/s** "
            f"(runs: {libraries}).",
            "",
            "Server RSS in MiB after start-up and a 2 s warm-up → after the single-text "
            f"load → after the 64-text load, per run: {rss}.",
            "",
            "Reading the figures: each request costs the server its own HTTP and JSON work "
            "(parsing, routing, validation, encoding), while the model needs tens of "
            "microseconds per paragraph plus a fixed cost per call.  The batcher gathers "
            "concurrent requests into one model call, so the fixed cost is shared, but the "
            "per-request cost cannot be.  The do-nothing app is the floor: uvicorn alone, "
            "with no routing, JSON or model, answers at most that many requests per second "
            "on one CPU, so a single-text server can at best reach "
            "1 / (1/floor + 1/library) of the library's rate even with zero cost of its "
            f"own: {bound:,.0f} paragraphs/s here, {bound / median(runs, 'library'):.0%} of "
            "the library's rate.  The issue's target (half the library's rate) is "
            f"{'above' if bound < library / 2 else 'close to'} that bound, and "
            f"{'is' if single >= library / 2 else 'is not'} met; 64-text requests get "
            "most of the library's "
            "rate.  Clients that can should send many texts per request (`/v1/classify` "
            "or V2 `infer`); `--workers N` adds processes on a machine with more cores.",
            "",
            "The access log (`--access-log`) is off by default: its row shows what it "
            f"costs on single-text requests ({median(runs, 'logged', 'requests_s'):,.0f} "
            f"against {median(runs, 1, 'requests_s'):,.0f} requests/s without it; its load "
            "is shorter, like the do-nothing app's).",
            "",
            "## Why Starlette + uvicorn",
            "",
            "Import time of the web stack (fresh interpreter, best of 5, less an empty one), "
            "in this environment:",
            *import_lines,
            "",
            "Measured the same way in a scratch environment with FastAPI 0.165 (pydantic 2.14), "
            "Starlette 1.10 and uvicorn 0.54, wall time including the interpreter: "
            "`import starlette.applications, starlette.routing, starlette.responses, uvicorn` "
            "0.27 s, `import fastapi, uvicorn` 0.88 s.  FastAPI adds pydantic and its "
            "schema machinery for request validation and a generated OpenAPI document; "
            "newsclf's four request bodies are checked by one small table-driven validator "
            "(`newsclf/_serve.py`), and the OpenAPI document is a static file checked "
            "against the routes by the tests.  So: Starlette, one dependency instead of "
            "three, 0.6 s less start-up, the same ASGI server.  `httptools` and `uvloop` "
            "(in the `serve` extra; uvicorn picks them up) cut the server's CPU per "
            "single-text request by about a quarter against h11 and asyncio's loop.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="artifact directory (default: bundled)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per scenario")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    texts = paragraphs()
    runs = []
    for i in range(args.runs):
        # The yardstick is measured before each run, so that both see the same machine.
        library = library_rate(args.model, texts)
        run = {**one_run(args, texts), "library": library}
        print(f"run {i + 1}: {json.dumps(run)}", file=sys.stderr)
        runs.append(run)
    text = report(args, runs)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
