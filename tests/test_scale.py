"""Scaling: worker processes give the single-process results, record for
record (Hugging Face datasets and Dask: test_integrations.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from strategies import SAMPLE_TEXTS

import newsclf

TEXTS = SAMPLE_TEXTS


def test_worker_processes_match_one_process(clf) -> None:
    """n_jobs=2 loads the model once per worker and returns the same results, in order."""
    one = clf.predict_proba(TEXTS, batch_size=16)
    two = clf.predict_proba(iter(TEXTS), batch_size=16, n_jobs=2)
    np.testing.assert_array_equal(one, two)
    assert [p.uncertain for p in clf.classify_many(TEXTS, batch_size=7, n_jobs=2)] == [
        p.uncertain for p in clf.classify_many(TEXTS)
    ]


@pytest.fixture(scope="module")
def other_clf(records: list[dict]) -> newsclf.Classifier:
    """A model unlike the fixture's: trained without the boilerplate label, not saved."""
    from newsclf._train import train

    rows = [r for r in records if r["label"] != "boilerplate"]
    return train(rows, seed=0, log=lambda m: None)


def test_two_models_in_workers_never_mix(clf, other_clf) -> None:
    """Regression: after model A ran in workers, model B's workers gave A's answers."""
    a_one, b_one = clf.predict(TEXTS), other_clf.predict(TEXTS)
    assert a_one != b_one  # the test means something only if the models differ
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == a_one
    assert other_clf.predict(TEXTS, n_jobs=2, batch_size=8) == b_one
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == a_one
    # The unsaved model was saved once, to one private copy, for its workers.
    path = other_clf._artifact_ref()
    other_clf.predict(TEXTS, n_jobs=2, batch_size=8)
    assert other_clf._artifact_ref() == path


def _until_a_worker_answered(clf: newsclf.Classifier, check: Callable[[], None]) -> None:
    """Run ``check`` (which scores with ``n_jobs=2`` and checks the answers)
    until a worker has scored a batch (this process scores whatever the
    workers, still starting, have not), and once more."""
    deadline = time.monotonic() + 120
    while not (clf._workers is not None and clf._workers._answered):
        check()
        assert time.monotonic() < deadline, "no worker answered"
        time.sleep(0.05)
    check()


def _predicts(clf: newsclf.Classifier, expected: list[str]) -> Callable[[], None]:
    """A check for :func:`_until_a_worker_answered`: ``clf.predict`` gives ``expected``."""

    def check() -> None:
        assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == expected

    return check


def test_workers_score_with_the_loaded_model_after_a_chdir_or_a_replacement(
    other_clf, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: a model loaded from a relative path before a chdir, or
    whose folder got another model after loading, failed with n_jobs=2 once
    its workers had started (they looked for it where it no longer was)."""
    import shutil

    shutil.copytree(model_dir, tmp_path / "m")
    monkeypatch.chdir(tmp_path)
    with newsclf.load("m") as moved, newsclf.load("m") as replaced:
        expected = moved.predict(TEXTS)
        monkeypatch.chdir(tmp_path.parent)
        _until_a_worker_answered(moved, _predicts(moved, expected))
        other_clf.save(tmp_path / "m")
        _until_a_worker_answered(replaced, _predicts(replaced, expected))
    assert newsclf.load(tmp_path / "m").predict(TEXTS) == other_clf.predict(TEXTS) != expected


def test_workers_read_each_paragraph_with_its_article(context_dir: Path) -> None:
    """With contexts, worker results equal this process's, once a worker has
    really scored batches (a worker that dropped the contexts went unseen)."""
    contexts = [TEXTS[(i // 7) * 7] + " " + TEXTS[(i // 7) * 7 + 1] for i in range(len(TEXTS) - 1)]
    texts = TEXTS[: len(contexts)]
    with newsclf.load(context_dir) as clf:
        expected = clf.predict_proba(texts, contexts=contexts)

        def check() -> None:
            got = clf.predict_proba(texts, contexts=contexts, n_jobs=2, batch_size=8)
            np.testing.assert_array_equal(got, expected)

        _until_a_worker_answered(clf, check)


def test_users_own_joblib_parallel_before_and_after(clf) -> None:
    """Regression: newsclf's pool broke the user's joblib.Parallel (and vice versa)."""
    from math import sqrt

    from joblib import Parallel, delayed

    expected = [sqrt(i) for i in range(20)]
    assert Parallel(n_jobs=2)(delayed(sqrt)(i) for i in range(20)) == expected
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == clf.predict(TEXTS)
    assert Parallel(n_jobs=2)(delayed(sqrt)(i) for i in range(20)) == expected
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == clf.predict(TEXTS)


def test_close_stops_the_workers(records: list[dict], model_dir: Path) -> None:
    """Leaving a ``with newsclf.load(...)`` block stops the classifier's worker process (tuned when
    it started) and drops its pool."""
    with newsclf.load(model_dir) as clf:
        clf.predict(TEXTS, n_jobs=2, batch_size=8)
        pids = set(clf._workers._executor._processes)
        assert len(pids) == 1  # n_jobs processes: this one and n_jobs - 1 workers
        # Each worker raised glibc's thresholds when it started (newsclf._parallel).
        tuned = clf._workers._executor.submit(
            lambda: __import__("newsclf._parallel")._parallel._TUNED
        )
        assert tuned.result() is True
    assert clf._workers is None
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_few_batches_are_scored_in_this_process(records: list[dict], model_dir: Path) -> None:
    """Below MIN_PARALLEL_BATCHES batches, n_jobs=2 starts no worker (it would cost
    more than it saves); from there on it does."""
    from newsclf._model import MIN_PARALLEL_BATCHES

    with newsclf.load(model_dir) as clf:
        few = TEXTS[: 8 * (MIN_PARALLEL_BATCHES - 1)]
        assert clf.predict(few, n_jobs=2, batch_size=8) == clf.predict(few)
        assert clf._workers is None
        enough = TEXTS[: 8 * MIN_PARALLEL_BATCHES]
        assert clf.predict(enough, n_jobs=2, batch_size=8) == clf.predict(enough)
        assert clf._workers is not None


def _kill_workers(clf: newsclf.Classifier) -> object:
    """SIGKILL the classifier's workers (as the OOM killer would) and wait
    until their executor knows; returns that executor."""
    import signal

    executor = clf._workers._executor
    for pid in list(executor._processes):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while executor._flags.broken is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return executor


def test_a_dead_worker_is_replaced_at_the_next_call(clf) -> None:
    """Regression: once a worker had died (a Ctrl-C in a terminal reaches it
    too, even while idle; the OOM killer), every later ``n_jobs`` call raised
    joblib's BrokenProcessPool until ``close()``."""
    expected = clf.predict(TEXTS)
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == expected
    _kill_workers(clf)
    assert clf.predict(TEXTS, n_jobs=2, batch_size=8) == expected
    clf.close()


def test_a_worker_dying_mid_stream_loses_nothing(clf) -> None:
    """Regression (scale audit): a worker killed while a ``classify_many(n_jobs=2)``
    stream was read (the OOM killer) ended the stream with joblib's
    TerminatedWorkerError, not a NewsclfError, and the rest of the input was
    lost (``newsclf classify --jobs 2`` printed a traceback, exited 1 and
    wrote a third of the records).  The batches it held, and the rest of the
    call, are now scored in this process, with a warning; the next call
    starts new workers."""
    texts = TEXTS * 20
    expected = clf.predict(texts)
    stream = clf.classify_many(iter(texts), n_jobs=2, batch_size=8)
    first = [next(stream).label for _ in range(40)]
    executor = _kill_workers(clf)
    with pytest.warns(RuntimeWarning, match="worker process died"):
        rest = [p.label for p in stream]
    assert first + rest == expected
    assert clf.predict(texts, n_jobs=2, batch_size=8) == expected
    assert clf._workers._executor is not executor
    clf.close()


def test_a_stream_goes_on_after_close(clf) -> None:
    """Regression: a ``classify_many(n_jobs=2)`` stream still being read when
    its classifier was closed (or called with another ``n_jobs``) raised
    joblib's ShutdownExecutorError; this process now scores the rest."""
    expected = clf.predict(TEXTS)
    stream = clf.classify_many(TEXTS, n_jobs=2, batch_size=8)
    first = [next(stream).label for _ in range(20)]
    clf.close()
    assert first + [p.label for p in stream] == expected


def _loky_workers() -> set[int]:
    """This process's live worker processes started by loky's spawn method
    (workers started from a process with threads are never forked)."""
    children: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            children.update(int(pid) for pid in (task / "children").read_text().split())
        except OSError:  # a thread that ended meanwhile
            continue
    alive = set()
    for pid in children:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"LokyProcess" in command and state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts workers in /proc")
def test_threads_share_the_classifier_and_its_workers(model_dir: Path, monkeypatch) -> None:
    """Regression (API audit): threads sharing one classifier raced on its
    pool.  Eight first ``n_jobs=2`` calls at once started up to eight
    executors; threads with different ``n_jobs`` closed each other's pool
    between a check and a submit (loky's ShutdownExecutorError), and left
    workers alive after ``close()``; ``close()`` from another thread broke
    the calls in flight.  Now every call gives the sequential answers, the
    threads share one worker, and ``close()`` stops every one."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import newsclf._parallel

    # Four CPUs, so that n_jobs=2 and n_jobs=3 are different pools here too.
    monkeypatch.setattr(newsclf._parallel, "available_cpus", lambda: 4)
    texts = TEXTS * 12
    before = _loky_workers()
    clf = newsclf.load(model_dir)
    expected = clf.predict(texts)

    def run(jobs: Callable[[int], int], during: Callable[[], None] = lambda: None) -> None:
        barrier = threading.Barrier(8)

        def call(i: int) -> list[str]:
            barrier.wait()
            if i == 0:
                during()
            return clf.predict(texts, n_jobs=jobs(i), batch_size=8)

        with ThreadPoolExecutor(8) as threads:
            assert list(threads.map(call, range(8))) == [expected] * 8

    run(lambda i: 2)
    assert len(_loky_workers() - before) == 1  # one pool, of one worker
    run(lambda i: 2 + i % 2)
    run(lambda i: 2, during=clf.close)
    clf.close()
    deadline = time.monotonic() + 30
    while _loky_workers() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _loky_workers() - before == set()


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_child_forked_while_a_thread_holds_the_locks_gets_its_own(model_dir: Path) -> None:
    """Regression (review): the classifier's and the pool's locks were plain
    locks; a child forked while another thread held them (closing the pool,
    saving a private copy) inherited them held, and its own close() or
    n_jobs=2 call hung for ever."""
    import signal
    import threading

    clf = newsclf.load(model_dir)
    pool = clf._pool(2, clf._artifact_ref())
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with clf._lock, pool._lock:
            held.set()
            release.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(timeout=60)
    pid = os.fork()
    if pid == 0:  # the child: the locks' holder is not here
        signal.alarm(20)  # a hang ends the child by SIGALRM
        with pool._lock:
            pass
        clf.close()
        os._exit(0)
    release.set()
    thread.join()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    clf.close()


# A process whose pool is up, then forked: by os.fork, and as a (daemonic)
# multiprocessing.Pool worker.
FORKED_COPIES = r"""
import json, multiprocessing as mp, os, signal, sys, warnings
import newsclf

clf = newsclf.load(sys.argv[1])
texts = json.loads(sys.argv[2])
expected = clf.predict(texts)
assert clf.predict(texts, n_jobs=2, batch_size=8) == expected
pid = os.fork()
if pid == 0:
    signal.alarm(60)  # the old code waited forever for the parent's workers
    os._exit(0 if clf.predict(texts, n_jobs=2, batch_size=8) == expected else 1)
_, status = os.waitpid(pid, 0)

def in_pool_worker(_):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        same = clf.predict(texts, n_jobs=2, batch_size=8) == expected
    return same, [str(w.message) for w in caught]

with mp.get_context("fork").Pool(1) as pool:
    same, caught = pool.map(in_pool_worker, [0])[0]

def in_child():
    assert clf.predict(texts, n_jobs=2, batch_size=8) == expected

child = mp.get_context("fork").Process(target=in_child)
child.start()
child.join(60)  # the old code: the child's exit waited forever for its own worker
if child.exitcode is None:
    child.terminate()
print(json.dumps({"fork_status": status, "pool_same": same, "child_exit": child.exitcode,
                  "warned": any("may not start processes" in m for m in caught)}))
"""


# Ctrl-C as a terminal sends it: to the whole process group, the pool idle.
IDLE_INTERRUPT = r"""
import json, os, signal, sys, time
import newsclf

clf = newsclf.load(sys.argv[1])
texts = json.loads(sys.argv[2])
expected = clf.predict(texts)
assert clf.predict(texts, n_jobs=2, batch_size=8) == expected
pids = list(clf._workers._executor._processes)
try:
    os.killpg(os.getpgid(0), signal.SIGINT)
    time.sleep(10)
except KeyboardInterrupt:
    pass
time.sleep(0.5)
alive = []
for pid in pids:
    try:
        os.kill(pid, 0)
        alive.append(pid)
    except ProcessLookupError:
        pass
print(json.dumps({"alive": alive == pids,
                  "same": clf.predict(texts, n_jobs=2, batch_size=8) == expected}))
"""


def test_ctrl_c_reaches_the_caller_not_the_workers(model_dir: Path) -> None:
    """Regression: a Ctrl-C while the pool was idle stopped its worker (the
    terminal signals the whole process group), and every later ``n_jobs``
    call raised joblib's BrokenProcessPool.  Workers ignore SIGINT."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", IDLE_INTERRUPT, str(model_dir), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # its own process group, as a terminal's job
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"alive": True, "same": True}


def test_forked_copies_of_a_process_with_workers(model_dir: Path) -> None:
    """Regressions: in an os.fork() copy of a process whose pool was up,
    ``n_jobs=2`` waited forever for the parent's workers; in a daemonic
    process (a multiprocessing.Pool or Dask worker), which may not start
    processes, it raised AssertionError; a multiprocessing child that used
    ``n_jobs=2`` never exited (its exit waited for its own worker, which
    waited for it to go).  Now the copy starts its own workers and stops them
    at its exit, and a daemonic process scores in-process, with a warning."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", FORKED_COPIES, str(model_dir), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got == {"fork_status": 0, "pool_same": True, "child_exit": 0, "warned": True}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_stream_is_read_lazily(clf, n_jobs: int) -> None:
    """Regression: the batches of the whole input were listed before the
    first answer, so an endless stream never answered and a long one was
    held in memory.  Now the first answer comes after a few batches."""
    pulled = 0

    def endless():
        nonlocal pulled
        while True:
            pulled += 1
            if pulled > 50 * newsclf._model.BATCH_SIZE:  # the old code never stopped
                raise AssertionError("the stream was read on and on before any answer")
            yield SAMPLE_TEXTS[pulled % len(SAMPLE_TEXTS)]

    stream = clf.classify_many(endless(), n_jobs=n_jobs)
    assert next(stream).label in clf.labels
    # At most what the pool holds: a few batches with the workers, a few
    # scored here ahead of the oldest (newsclf._parallel.WorkerPool.map_ordered).
    held = newsclf._model.MIN_PARALLEL_BATCHES + 2 * n_jobs + 8 * (n_jobs + 1) + 1
    assert pulled <= held * newsclf._model.BATCH_SIZE
    clf.close()


def test_n_jobs_is_capped_at_the_cpus(clf) -> None:
    """An ``n_jobs`` above the available CPUs is capped at them, and ``n_jobs=-1`` means all of
    them."""
    from newsclf._parallel import available_cpus, check_n_jobs

    assert check_n_jobs(1000) == available_cpus() == check_n_jobs(-1)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_jobs": 0}, newsclf.InvalidArgumentError, "n_jobs"),
        ({"n_jobs": "2"}, newsclf.InputTypeError, "n_jobs"),
        ({"batch_size": -1}, newsclf.InvalidArgumentError, "batch_size"),
        ({"batch_size": 2.5}, newsclf.InputTypeError, "batch_size"),
    ],
)
def test_bad_parallel_arguments(clf, kwargs: dict, error: type, message: str) -> None:
    """An ``n_jobs`` of 0 or a negative ``batch_size`` is an InvalidArgumentError and a non-int one
    an InputTypeError, naming the argument."""
    with pytest.raises(error, match=message):
        clf.predict(TEXTS, **kwargs)


# A fresh process (no thread of pytest's, no pool of another test): score
# with n_jobs=2, alone or beside another thread, then drop the classifier.
FORK_OR_NOT = r"""
import json, os, sys, threading
import newsclf
from newsclf._model import load_cached

if sys.argv[2] == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
clf = newsclf.load(sys.argv[1])
texts = json.loads(sys.argv[3])
expected = clf.predict(texts)
same = clf.predict(texts, n_jobs=2, batch_size=8) == expected
pool, ref = clf._workers, clf._artifact_ref()
# The worker's model of ref: this very object (forked: same address), or one it loaded.
adopted = pool._executor.submit(lambda: id(load_cached(*ref))).result() == id(clf)
pids = list(pool._executor._processes)
del clf  # no gc.collect(): the pool must not keep the classifier alive
gone = []
for pid in pids:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        gone.append(pid)
print(json.dumps({"same": same, "forked": pool.forked, "adopted": adopted,
                  "workers": len(pids), "stopped": gone == pids}))
"""


@pytest.mark.parametrize("threads", ["alone", "thread"])
def test_workers_are_forked_only_from_a_single_thread(model_dir: Path, threads: str) -> None:
    """In a process with no other thread (on Linux), the worker is forked and
    takes the classifier as its model instead of loading it; beside another
    thread it starts fresh and loads the model (forking could deadlock it,
    and Python 3.12+ warns: any warning is an error here).  Either way its
    answers are this process's, and dropping the classifier stops it at once
    (the pool holds the classifier only weakly)."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            FORK_OR_NOT,
            str(model_dir),
            threads,
            json.dumps(TEXTS, ensure_ascii=False),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    got = json.loads(done.stdout)
    forked = threads == "alone" and sys.platform.startswith("linux")
    assert got == {"same": True, "forked": forked, "adopted": forked, "workers": 1, "stopped": True}


def test_workers_die_with_their_parent(model_dir: Path, tmp_path: Path) -> None:
    """Regression: SIGKILL of the parent during classify_many(n_jobs=2) left the workers alive."""
    import signal
    import subprocess
    import sys
    import time

    pids_file = tmp_path / "pids"
    code = (
        "import newsclf, sys\n"
        f"clf = newsclf.load({str(model_dir)!r})\n"
        "texts = ['قصفت المدفعية مواقع المسلحين'] * 20000\n"
        "it = clf.classify_many(texts, n_jobs=2, batch_size=500)\n"
        "next(it)\n"
        "pids = clf._workers._executor._processes\n"
        f"open({str(pids_file)!r}, 'w').write(' '.join(map(str, pids)))\n"
        "import time; time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while not (pids_file.exists() and pids_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = [int(p) for p in pids_file.read_text().split()]
    assert len(pids) == 1  # n_jobs=2: this process and one worker
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            try:
                os.kill(pid, 0)
                # a zombie counts as gone: it has exited, waiting to be reaped by init
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split()[2] == "Z":
                        alive.discard(pid)
            except (ProcessLookupError, FileNotFoundError):
                alive.discard(pid)
        time.sleep(0.2)
    assert not alive, f"workers {alive} outlived their parent"


def test_map_ordered_does_not_wait_for_workers_still_starting() -> None:
    """Until a worker has answered once, this process computes the workers' tasks
    itself rather than wait for the worker's start-up; every result comes back
    once, in order."""
    import time

    from newsclf._parallel import WorkerPool

    pool = WorkerPool(1)
    try:  # the worker would take seconds per task; this process answers at once
        out = list(
            pool.map_ordered(
                lambda i: (time.sleep(2), ("worker", i))[1],
                ((i,) for i in range(40)),
                local=lambda i: ("here", i),
            )
        )
        assert out == [("here", i) for i in range(40)]
        # Once a worker has answered, its tasks are waited for, not taken back.
        assert list(pool.map_ordered(pow, [(3, 2)])) == [9]
        out = list(pool.map_ordered(pow, ((i, 2) for i in range(5)), local=lambda i, e: -1))
        assert out[0] == 0 and all(r in (i * i, -1) for i, r in enumerate(out))
    finally:
        pool.close()


def test_map_ordered_keeps_order_with_local_help() -> None:
    """Workers and this process share the tasks; every result comes back
    once, in input order, and the workers always get their share."""
    from newsclf._parallel import WorkerPool

    pool = WorkerPool(1)
    try:  # workers compute pow(i, 2) (an int), this process ("here", i ** 2)
        assert list(pool.map_ordered(pow, [(3, 2)])) == [9]  # the worker has answered once
        out = list(
            pool.map_ordered(pow, ((i, 2) for i in range(60)), local=lambda i, e: ("here", i**e))
        )
    finally:
        pool.close()
    assert [r if isinstance(r, int) else r[1] for r in out] == [i * i for i in range(60)]
    assert any(isinstance(r, int) for r in out)


def test_a_pool_closed_between_the_check_and_the_submit() -> None:
    """Review: the race the thread test can only hit by chance, made
    deterministic: another thread's ``close()`` lands between this stream's
    check of its executor and its submit (loky then raises "cannot schedule
    new futures after shutdown").  The stream goes on in this process,
    every result once, in order."""
    import types

    from newsclf._parallel import WorkerPool

    pool = WorkerPool(1)

    class ClosedUnderfoot:
        _flags = types.SimpleNamespace(broken=None)

        def submit(self, fn: Callable[..., object], *args: object) -> None:
            pool._executor = None  # what close() does first
            raise RuntimeError("cannot schedule new futures after shutdown")

    pool._executor, pool._owner = ClosedUnderfoot(), os.getpid()
    out = list(pool.map_ordered(pow, ((i, 2) for i in range(5)), local=lambda i, e: ("here", i)))
    assert out == [("here", i) for i in range(5)]


def test_a_classifier_collected_in_another_thread_does_not_wait_for_its_workers(
    model_dir: Path,
) -> None:
    """Regression (CI hang): a garbage collection runs finalizers in
    whatever thread it interrupts.  One ran a classifier's finalizer in
    loky's own queue thread, whose shutdown waited for threads that waited
    for that queue thread: the suite hung.  Off the main thread the
    finalizer now only signals the workers to stop; in the main thread
    (``del clf``) it still waits for them."""
    import threading

    clf = newsclf.load(model_dir)
    clf.predict(TEXTS, n_jobs=2, batch_size=8)
    executor = clf._workers._executor
    waits: list[bool] = []
    shutdown = executor.shutdown

    def record(wait: bool = True, **kwargs: object) -> None:
        waits.append(wait)
        shutdown(wait=wait, **kwargs)

    executor.shutdown = record
    finalizer = clf._finalizer
    thread = threading.Thread(target=finalizer)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and waits == [False]
