"""Throughput and memory at scale: one process, two processes, Dask LocalCluster.

    uv run python benchmarks/scale.py [--n 1000000] [--runs 3] [--batch-runs 7]

A stream of ``--n`` paragraphs is built by cycling the project's test
paragraphs (original ones; with the ANT corpus at hand, the real ones too)
and classified with the bundled model:

* ``1 process``: ``Classifier.classify_many(stream)``;
* ``2 processes``: the same with ``n_jobs=2`` (on Linux the worker is forked
  and takes the model from its parent; elsewhere it loads it once);
* ``Dask LocalCluster``: 2 worker processes, ``newsclf.dask.classify_dataframe``
  over a Dask DataFrame of the stream read from 40 Parquet files (as the
  README's example reads an archive; written before the clock starts),
  reduced to a count of results, on a fresh cluster, then the same again
  on that cluster (its workers warm), and on a fresh cluster that has
  first run the same DataFrame work without newsclf (reading and counting
  the partitions): the difference from the fresh row is Dask's own
  start-up, the rest is newsclf's;
* ``predict_proba`` of a list of 40,000 and of 5,000 paragraphs with
  ``n_jobs=1`` and ``n_jobs=2``, in a fresh process (worker start-up
  included: "cold"), then 5 pairs of warm calls with ``n_jobs=1`` and
  ``n_jobs=2`` alternating in that process (the pool is up; ratios side by
  side); and the cold 40,000 with ``n_jobs=2`` in a process that has
  imported joblib's loky first (the part of a cold call nothing overlaps).

Each configuration runs in a fresh process; peak memory is that process's
maximum RSS and, for worker configurations, the largest worker's, with the
worker's private memory at the end (what it does not share with another
process: a forked worker's RSS counts the pages it shares with its parent).  The
streaming trainer is compared with the in-memory trainer on the project's
split.  Writes ``benchmarks/SCALE.md`` (medians over ``--runs``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKER = r"""
import json, os, sys, time
import newsclf

def peak_rss_kib():
    # /proc, not getrusage: on Linux ru_maxrss survives exec (a child would
    # report its parent's peak).
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM")).split()[1])

def worker_peak(_=None):
    time.sleep(0.2)
    with open("/proc/self/smaps_rollup") as f:
        private = sum(int(line.split()[1]) for line in f if line.startswith("Private_"))
    return os.getpid(), (peak_rss_kib(), private)

mode, n, texts = sys.argv[1], int(sys.argv[2]), json.load(open(sys.argv[3], encoding="utf-8"))
stream = (texts[i % len(texts)] for i in range(n))
start = time.perf_counter()
worker_rss = worker_private = 0
extra = {}
if mode.startswith("batch-"):
    jobs = int(mode.split("-")[1])
    clf = newsclf.load()
    batch = list(stream)
    if mode.endswith("-joblib"):
        # What the call costs without importing joblib's loky (see batch_runs).
        import joblib.externals.loky.process_executor
    start = time.perf_counter()
    count = len(clf.predict_proba(batch, n_jobs=jobs))
    elapsed = time.perf_counter() - start
    # Warm: n_jobs=1 and this n_jobs alternately, in this process, 5 pairs.
    one, many = [], []
    for _ in range(5):
        for times, j in ((one, 1), (many, jobs)):
            start = time.perf_counter()
            clf.predict_proba(batch, n_jobs=j)
            times.append(time.perf_counter() - start)
    extra["warm_seconds"] = sorted(many)[2]
    extra["warm_ratio"] = sorted(a / b for a, b in zip(one, many))[2]
elif mode in ("1", "2"):
    clf = newsclf.load()
    count = sum(1 for _ in clf.classify_many(stream, n_jobs=int(mode)))
    elapsed = time.perf_counter() - start
    if mode == "2":
        peaks = dict(clf._workers._executor.map(worker_peak, range(8)))
        worker_rss, worker_private = max(peaks.values())
else:
    import atexit, shutil, tempfile
    import dask.dataframe as dd, pandas as pd
    from distributed import Client, LocalCluster
    import newsclf.dask
    # The stream as 40 Parquet files, as a pipeline at scale reads it (the
    # README's example): written before the clock starts, read by the workers.
    folder = tempfile.mkdtemp()
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # also if the run fails
    parts = 40
    size = n // parts
    for i in range(parts):
        rows = [texts[(i * size + j) % len(texts)] for j in range(size)]
        pd.DataFrame({"text": rows}).to_parquet(f"{folder}/part.{i:02d}.parquet")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        start = time.perf_counter()
        def compute(classify=True):
            ddf = dd.read_parquet(folder)
            if not classify:
                return int(ddf["text"].str.len().count().compute())
            # Reduced to a count (a tree reduction): value_counts would add a shuffle.
            return int(newsclf.dask.classify_dataframe(ddf)["score"].count().compute())
        if mode == "dask-df":
            # The same DataFrame work without newsclf first: what remains is newsclf's.
            compute(classify=False)
            start = time.perf_counter()
        count = compute()
        elapsed = time.perf_counter() - start
        if mode == "dask":
            # The same again on the same cluster: its workers are warm.
            start = time.perf_counter()
            assert compute() == count
            extra["warm_seconds"] = time.perf_counter() - start
        worker_rss, worker_private = max(pk for _, pk in client.run(worker_peak).values())
print(json.dumps({"n": count, "seconds": elapsed,
                  "main_rss_mib": peak_rss_kib() / 1024,
                  "worker_rss_mib": worker_rss / 1024,
                  "worker_private_mib": worker_private / 1024, **extra}))
"""

# In a process with the model loaded: the time until newsclf's first worker
# has started and has the model (adopted from this process when forked, else
# loaded): what a cold n_jobs=2 call waits for before the worker can help.
WORKER_START = r"""
import time
import newsclf
from newsclf._model import load_cached
clf = newsclf.load()
ref = clf._artifact_ref()
start = time.perf_counter()
assert clf._pool(2, ref)._get().submit(lambda: load_cached(*ref) is not None).result()
print(time.perf_counter() - start)
"""

WORKER_READY = "a worker of n_jobs=2: start, until it has the model"

MODES = {
    "1": "1 process",
    "2": "2 processes (n_jobs=2)",
    "dask": "Dask LocalCluster (2 workers), the stream from 40 Parquet files",
    "dask-df": "Dask LocalCluster (2 workers), newsclf's first call after the same "
    "DataFrame work without newsclf",
}


def texts_for_stream() -> list[str]:
    from training.project_data import DEFAULT_CORPUS, ant_records, original_records

    rows = [r for r in original_records() if r["split"] == "test"]
    if DEFAULT_CORPUS.exists():
        rows += [r for r in ant_records() if r["split"] == "test"]
    return [r["text"] for r in rows]


def cli_runs(texts: list[str], lines: int, runs: int) -> dict[str, dict[str, float]]:
    """``newsclf classify`` on a JSONL file of ``lines`` records: throughput
    and peak RSS of the command (largest process), 1 and 2 jobs."""
    import os
    import shutil
    import tempfile

    exe = shutil.which("newsclf", path=os.path.dirname(sys.executable)) or "newsclf"
    out: dict[str, list[dict[str, float]]] = {"1": [], "2": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            for i in range(lines):
                f.write(json.dumps({"id": i, "text": texts[i % len(texts)]}, ensure_ascii=False))
                f.write("\n")
        for _ in range(runs):
            for jobs in out:
                # A fresh interpreter per measurement, so RUSAGE_CHILDREN is this command's.
                # ru_maxrss of children is right here: the measuring
                # interpreter is small, so what survives exec is negligible.
                code = (
                    "import resource, subprocess, sys, time\n"
                    "t = time.perf_counter()\n"
                    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
                    "print(time.perf_counter() - t, "
                    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
                )
                done = subprocess.run(
                    [sys.executable, "-c", code, exe, "classify", str(path), "--jobs", jobs],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                seconds, rss = done.stdout.split()
                throughput = lines / float(seconds)
                # Side by side: this run's --jobs 2 against this run's --jobs 1.
                ratio = throughput / out["1"][-1]["throughput"] if jobs == "2" else 1.0
                out[jobs].append(
                    {"throughput": throughput, "peak_rss_mib": int(rss) / 1024, "ratio": ratio}
                )
                print(f"cli --jobs {jobs}: {out[jobs][-1]}", flush=True)
    return {j: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for j, rs in out.items()}


def batch_runs(data: Path, runs: int) -> dict[tuple[int, str], dict[str, float]]:
    """predict_proba of 40,000 and 5,000 paragraphs with 1 and 2 jobs, cold and
    warm; and on 40,000 with 2 jobs in a process that has imported joblib's
    loky before the call (``2-joblib``): a cold call's first step, which
    nothing else in it can overlap, is that import."""
    configurations = [
        (40_000, "1"),
        (40_000, "2"),
        (40_000, "2-joblib"),
        (5_000, "1"),
        (5_000, "2"),
    ]
    out: dict[tuple[int, str], list[dict[str, float]]] = {c: [] for c in configurations}
    for _ in range(runs):
        for n, jobs in out:
            done = subprocess.run(
                [sys.executable, "-c", WORKER, f"batch-{jobs}", str(n), str(data)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(done.stdout.strip().splitlines()[-1])
            out[(n, jobs)].append(
                {"cold": n / r["seconds"], "warm": n / r["warm_seconds"], "ratio": r["warm_ratio"]}
            )
            print(f"batch {n} n_jobs={jobs}: {out[(n, jobs)][-1]}", flush=True)
    for (n, _), rs in out.items():  # cold, side by side: against n_jobs=1 in the same run
        for r, base in zip(rs, out[(n, "1")], strict=True):
            r["cold_ratio"] = r["cold"] / base["cold"]
    return {k: {m: statistics.median(r[m] for r in rs) for m in rs[0]} for k, rs in out.items()}


def startup(runs: int = 5) -> dict[str, float]:
    """Median wall time of whole commands: ``newsclf info`` and ``newsclf
    classify`` of one short text (a new process each)."""
    import os
    import shutil
    import time

    exe = shutil.which("newsclf", path=os.path.dirname(sys.executable)) or "newsclf"
    text = "قصفت المدفعية مواقع المسلحين قرب الحدود\n".encode()
    out: dict[str, list[float]] = {
        "newsclf info": [],
        "newsclf classify (one text)": [],
        WORKER_READY: [],
    }
    for _ in range(runs):
        for name, cmd in (
            ("newsclf info", [exe, "info"]),
            ("newsclf classify (one text)", [exe, "classify"]),
        ):
            start = time.perf_counter()
            subprocess.run(cmd, input=text, capture_output=True, check=True)
            out[name].append(time.perf_counter() - start)
        done = subprocess.run(
            [sys.executable, "-c", WORKER_START], capture_output=True, text=True, check=True
        )
        out[WORKER_READY].append(float(done.stdout))
    return {k: statistics.median(v) for k, v in out.items()}


def trainers() -> dict[str, dict[str, float]]:
    from newsclf._train import train, train_streaming
    from training.project_data import project_records

    records = project_records()
    memory = train(records, log=lambda m: None).metadata["metrics"]
    streaming = train_streaming(lambda: iter(records), log=lambda m: None).metadata["metrics"]
    return {
        name: {"macro_f1": m["macro_f1"], "accuracy": m["accuracy"], "ece": m["ece"]}
        for name, m in (
            ("in-memory (TF-IDF, L-BFGS)", memory),
            ("streaming (hashing, SGD)", streaming),
        )
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cli-lines", type=int, default=200_000)
    # A cold call lasts about a second: more runs than the rest, against this machine's noise.
    ap.add_argument("--batch-runs", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "SCALE.md")
    args = ap.parse_args()
    import tempfile

    texts = texts_for_stream()
    # Outside the repository: with the corpus present these are ANT texts.
    tmp = tempfile.TemporaryDirectory(prefix="newsclf-scale-")
    data = Path(tmp.name) / "texts.json"
    data.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    results: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
    try:
        batches = batch_runs(data, args.batch_runs)
        for run in range(args.runs):
            for mode in list(MODES)[run % len(MODES) :] + list(MODES)[: run % len(MODES)]:
                out = subprocess.run(
                    [sys.executable, "-c", WORKER, mode, str(args.n), str(data)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                assert r["n"] == args.n, r
                r["throughput"] = r["n"] / r["seconds"]
                results[mode].append(r)
                print(f"run {run + 1} {MODES[mode]}: {r}", flush=True)
    finally:
        tmp.cleanup()
    for rs in results.values():
        for r in rs:
            if "warm_seconds" in r:
                r["warm_throughput"] = args.n / r["warm_seconds"]
    med = {m: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for m, rs in results.items()}

    def side_by_side(mode: str, key: str = "throughput") -> float:
        """The median over runs of this mode against one process in the same run."""
        return statistics.median(
            r[key] / one["throughput"] for r, one in zip(results[mode], results["1"], strict=True)
        )

    lines = [
        "# Scale: one machine, two processes, Dask",
        "",
        f"Date: {dt.date.today().isoformat()}.  Stream: {args.n:,} paragraphs cycled from "
        f"{len(texts):,} test paragraphs.  Bundled model.  Medians of {args.runs} runs, "
        "configurations alternating; each ratio is the median over runs of that run's "
        "configuration against that run's one process (side by side).  Reproduce: "
        f"`uv run python benchmarks/scale.py --n {args.n} --runs {args.runs} "
        f"--batch-runs {args.batch_runs}`.",
        "",
        "| configuration | paragraphs/s | vs 1 process | peak RSS main (MiB) | "
        "peak RSS largest worker (MiB) | its private memory (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode, name in MODES.items():
        m = med[mode]
        worker = "– | –"
        if m["worker_rss_mib"]:
            worker = f"{m['worker_rss_mib']:.0f} | {m['worker_private_mib']:.0f}"
        lines.append(
            f"| {name} | {m['throughput']:,.0f} | {side_by_side(mode):.2f}× | "
            f"{m['main_rss_mib']:.0f} | {worker} |"
        )
        if "warm_seconds" in m:
            lines.append(
                f"| {name}, the same again on the warm cluster | {m['warm_throughput']:,.0f} | "
                f"{side_by_side(mode, 'warm_throughput'):.2f}× | | | |"
            )
    lines += [
        "",
        "## `predict_proba` of a list, `n_jobs=1` and `n_jobs=2`",
        "",
        f"Medians of {args.batch_runs} runs.  "
        "Cold: a fresh process's first call (worker start-up included); its ratio is the "
        "median over runs of each run's `n_jobs=2` against that run's `n_jobs=1`.  Warm: then, in "
        "the same process, 5 pairs of calls with `n_jobs=1` and with this `n_jobs`, "
        "alternating (the classifier keeps its pool); the warm ratio is the median of the "
        "pairs' ratios, side by side.  Up to 5 batches (10,240 paragraphs) `n_jobs=2` "
        "scores in-process.",
        "",
        "| paragraphs | n_jobs | cold paragraphs/s | vs n_jobs=1 | warm paragraphs/s | "
        "vs n_jobs=1 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for (n, jobs), m in batches.items():
        jobs = jobs.replace("-joblib", ", joblib's loky imported before the call")
        lines.append(
            f"| {n:,} | {jobs} | {m['cold']:,.0f} | {m['cold_ratio']:.2f}× | "
            f"{m['warm']:,.0f} | {m['ratio']:.2f}× |"
        )
    starts = startup()
    ready = starts[WORKER_READY]
    alone = 40_000 / batches[(40_000, "1")]["cold"]
    lines += [
        "",
        f"Cold, the worker helps only once it has started and has the model ({ready:.2f} s, "
        f"start-up table below): on 40,000 paragraphs ({alone:.2f} s in one process) two "
        f"processes can at best be {alone / (ready + (alone - ready) / 2):.2f}× one.",
    ]
    cli = cli_runs(texts, args.cli_lines, args.runs)
    lines += [
        "",
        f"## `newsclf classify` on a {args.cli_lines:,}-line JSONL file",
        "",
        "Wall time of the whole command (start-up included), output to /dev/null; peak RSS "
        "of the largest process of the command.  The two commands alternate; the ratio is "
        "the median of each run's `--jobs 2` against that run's `--jobs 1`.",
        "",
        "| command | records/s | vs --jobs 1 | peak RSS (MiB) |",
        "|---|---:|---:|---:|",
    ]
    for jobs, m in cli.items():
        lines.append(
            f"| `newsclf classify records.jsonl --jobs {jobs}` | "
            f"{m['throughput']:,.0f} | {m['ratio']:.2f}× | {m['peak_rss_mib']:.0f} |"
        )
    lines += [
        "",
        "## Start-up (median of 5, a new process each)",
        "",
        "| command | wall (s) |",
        "|---|---:|",
    ]
    lines += [
        f"| {f'`{name}`' if name.startswith('newsclf') else name} | {sec:.2f} |"
        for name, sec in starts.items()
    ]
    lines += [
        "",
        "## Streaming trainer vs in-memory trainer (project split, held-out test)",
        "",
        "| trainer | macro-F1 | accuracy | ECE |",
        "|---|---:|---:|---:|",
    ]
    for name, m in trainers().items():
        lines.append(f"| {name} | {m['macro_f1']:.3f} | {m['accuracy']:.3f} | {m['ece']:.3f} |")
    lines.append("")
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
