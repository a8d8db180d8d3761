"""Worker processes for scoring batches: a pool each classifier owns.

The pool is a loky ``ProcessPoolExecutor`` (joblib's process backend) that
belongs to one :class:`~newsclf.Classifier` -- never joblib's shared
reusable executor, which any other ``joblib.Parallel`` call in the process
can resize or reconfigure.  Nothing about the model is stored in a worker
at start-up: every task carries what it needs (the task function and its
arguments; for newsclf, the artifact path and its digest), and the worker
keeps whatever it loads in a cache keyed by those arguments.  So a task
can only ever be scored by the model it names.

On Linux, when this process runs no other thread, workers are forked from
it: a worker is ready in about 0.1 s with this process's modules and memory
(shared copy-on-write), and adopts the model this process already holds
instead of importing and loading it again (before, a cold ``n_jobs=2`` call
on 40,000 paragraphs was slower than one process: benchmarks/SCALE.md).
Elsewhere, and in a process with other threads (where forking could
deadlock the child, and Python 3.12 warns), workers start fresh, with
loky's start method, and load the model themselves.

Workers exit when their parent dies (a watchdog thread notices the parent
is gone), so a killed parent leaves no orphans.  At most ``2 × n_jobs``
tasks are with the workers, and a few more results wait in this process,
so memory stays bounded on any stream; results come back in input order.
Until a worker has answered once, this process never waits for one (it
still pays for starting it: the new process competes for the CPUs).
"""

from __future__ import annotations

import numbers
import os
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # imported when a pool runs: loading a model needs none of it
    from concurrent.futures import Future

__all__ = [
    "ForkSafeLock",
    "WorkerPool",
    "available_cpus",
    "can_fork",
    "can_start_workers",
    "check_n_jobs",
    "tune_allocator",
]

T = TypeVar("T")
R = TypeVar("R")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_n_jobs(n_jobs: object) -> int:
    """``n_jobs`` as a worker count: a positive int, capped at the available
    CPUs; ``-1`` means all of them.  Raises :class:`InputTypeError` for a
    non-int and :class:`ValueError`-derived :class:`NewsclfError` for 0 or
    another negative number."""
    from newsclf._errors import InputTypeError, InvalidArgumentError, describe

    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise InputTypeError(f"n_jobs must be an int (-1 for all CPUs), got {describe(n_jobs)}")
    if n_jobs == -1:
        return available_cpus()
    if n_jobs < 1:
        raise InvalidArgumentError(f"n_jobs must be a positive int or -1, got {n_jobs}")
    return min(int(n_jobs), available_cpus())


#: Whether this process's allocator was tuned (see :func:`tune_allocator`).
_TUNED = False


def tune_allocator() -> None:
    """Raise glibc's mmap and trim thresholds in this process, once
    (``mallopt``: 32 and 64 MiB; a no-op elsewhere): for worker processes
    and newsclf's own commands, never a user's process.

    A worker's tasks allocate and free arrays and strings of a few MiB each:
    with glibc's defaults, memory freed at the top of the heap goes back to
    the system and the next task faults it in again, page by page (measured
    on ``newsclf classify --jobs 2``: 450,000 page faults, 1.5 s of system
    time, against 70,000 and 0.35 s with these thresholds).  The worker
    then holds at most that much freed memory back from the system."""
    global _TUNED
    if _TUNED:
        return
    _TUNED = True
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 2**20)
    mallopt(m_trim_threshold, 64 * 2**20)


def can_start_workers() -> bool:
    """Whether this process may start processes: not a daemonic one (a Dask
    worker, a ``multiprocessing.Pool`` worker), which may have no children."""
    import multiprocessing

    return not multiprocessing.current_process().daemon


def can_fork() -> bool:
    """Whether workers started now may be forked from this process: on
    Linux, with no thread but this one."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _start_worker(parent: int, adopt: Callable[[], None] | None) -> None:
    """Worker initializer: ignore Ctrl-C (a terminal sends it to the whole
    process group, and an idle worker it stopped broke the pool: the caller
    owns the interrupt), tune the allocator, run ``adopt`` (forked workers
    only), and exit as soon as the parent process is gone."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_allocator()
    if adopt is not None:
        adopt()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="newsclf-parent-watch").start()


class ForkSafeLock:
    """A lock (``threading.Lock``, or ``RLock`` with ``reentrant``) that a
    forked copy of the process gets afresh: the copy of a lock another
    thread held at the fork would stay held in the child for ever (a
    ``multiprocessing.Process`` forked while a classifier saved or closed)."""

    def __init__(self, *, reentrant: bool = False) -> None:
        self._factory = threading.RLock if reentrant else threading.Lock
        self._pid = os.getpid()
        self._lock = self._factory()

    def __enter__(self) -> bool:
        if self._pid != os.getpid():
            self._pid, self._lock = os.getpid(), self._factory()
        return self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class WorkerPool:
    """``n_jobs`` worker processes, started on first use, shut down by
    :meth:`close` (or when the owner is garbage-collected or the
    interpreter exits)."""

    def __init__(self, n_jobs: int, *, adopt: Callable[[], None] | None = None) -> None:
        self.n_jobs = n_jobs
        #: Run first in each forked worker (see the module's docstring).
        self.adopt = adopt
        #: Whether the current workers were forked from this process.
        self.forked = False
        self._executor: Any = None
        #: The process that started the executor (a forked copy has none of its workers).
        self._owner = 0
        #: Whether a worker of this executor has finished a task yet.
        self._answered = False
        #: Shuts the executor down, once: from :meth:`close`, or at the exit of
        #: the process that started it (see :meth:`_get`).
        self._shutdown: Any = None
        #: Threads sharing the pool start, replace and stop one executor at a time.
        self._lock = ForkSafeLock()

    def _get(self) -> Any:
        with self._lock:
            return self._get_locked()

    def _submit(self, executor: Any, fn: Callable[..., R], a: tuple[Any, ...]) -> Future[R] | None:
        """``executor.submit(fn, *a)``, or ``None`` when another thread has
        closed it since this one last looked, or a worker of it died
        (:meth:`_lost`)."""
        from concurrent.futures.process import BrokenProcessPool  # loky's errors derive from it

        try:
            future: Future[R] = executor.submit(fn, *a)
        except BrokenProcessPool:  # a worker died: the caller goes on without these workers
            self._lost(executor)
            return None
        except RuntimeError:  # loky's ShutdownExecutorError: "cannot schedule ... after shutdown"
            if self._executor is executor:
                raise
            return None
        return future

    def _get_locked(self) -> Any:
        if self._executor is not None and self._owner != os.getpid():
            self._executor = None  # this is a forked copy: the workers are the parent's
        if self._executor is not None and getattr(self._executor._flags, "broken", None):
            # A worker died (an interrupt, the OOM killer): start new ones.
            self._stop_now(self._executor)
            self._executor = None
        if self._executor is None:
            import multiprocessing
            import multiprocessing.util

            from joblib.externals.loky.process_executor import ProcessPoolExecutor

            # They start at the first task, in this thread: still the only one.
            self.forked = can_fork()
            context = multiprocessing.get_context("fork") if self.forked else None
            self._executor = ProcessPoolExecutor(
                max_workers=self.n_jobs,
                context=context,
                initializer=_start_worker,
                initargs=(os.getpid(), self.adopt if self.forked else None),
            )
            self._owner = os.getpid()
            self._answered = False
            # A multiprocessing child ends with multiprocessing's exit hook, not
            # the interpreter's: it runs these finalizers, then waits for the
            # child's own processes (workers that would wait for the child to
            # go).  Priority 20 runs it before the queues' own finalizers (10),
            # which stop the queue that carries the workers' stop signal.
            # Finalize runs only in the process that made it.
            self._shutdown = multiprocessing.util.Finalize(
                self, self._executor.shutdown, kwargs={"wait": True}, exitpriority=20
            )
        return self._executor

    def map_ordered(
        self,
        fn: Callable[..., R],
        args: Iterable[tuple[Any, ...]],
        *,
        local: Callable[..., R] | None = None,
    ) -> Iterator[R]:
        """``fn(*a)`` for each ``a`` of ``args``, computed in the workers,
        yielded in order, with at most ``2 × n_jobs`` with the workers.  With
        ``local``, this process helps instead of waiting: while the oldest
        task is not done (workers still starting, or all busy), it computes
        the next one itself with ``local(*a)`` -- the workers' share is
        topped up first, so they never wait for this process -- keeping at
        most ``8 × (n_jobs + 1)`` results in all.  And until a worker has
        finished a task once (the workers are still starting), it does not
        wait for them at all: it computes the oldest task itself, and the
        worker's result for it is dropped when it comes -- so a short call
        on a pool that is still starting never waits for its start-up."""
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool  # loky's errors derive from it

        executor = self._get()
        # (future, computed by a worker?, its arguments), in input order.
        pending: deque[tuple[Future[R], bool, tuple[Any, ...]]] = deque()
        remote = 0
        # Tasks taken back from workers that had not started: still theirs until done.
        taken: list[Future[R]] = []
        todo = iter(args)
        while True:
            if any(f.done() for f in taken):
                self._answered = True
                taken = [f for f in taken if not f.done()]
            if self._executor is not executor and local is None:
                executor = self._get()  # closed or replaced while this stream was read
            while (
                self._executor is executor  # else: closed mid-stream, this process goes on
                and remote + len(taken) < 2 * self.n_jobs
                and (a := next(todo, None)) is not None
            ):
                submitted = self._submit(executor, fn, a)
                if submitted is None:  # closed by another thread just now
                    if local is None:
                        executor = self._get()
                        todo = chain([a], todo)
                        continue
                    here: Future[R] = Future()
                    here.set_result(local(*a))
                    pending.append((here, False, a))
                    break
                pending.append((submitted, True, a))
                remote += 1
            if not pending:
                # Only tasks taken back hold the workers' share: this process goes on.
                if local is None or (a := next(todo, None)) is None:
                    return
                yield local(*a)
                continue
            future, by_worker, first = pending[0]
            if local is not None and not future.done():
                if len(pending) < 8 * (self.n_jobs + 1) and (a := next(todo, None)) is not None:
                    here = Future()
                    here.set_result(local(*a))
                    pending.append((here, False, a))
                    continue
                if by_worker and not self._answered:
                    pending.popleft()
                    remote -= 1
                    taken.append(future)
                    yield local(*first)
                    continue
            pending.popleft()
            remote -= by_worker
            try:
                result = future.result()
            except BrokenProcessPool:
                if local is None:
                    raise
                self._lost(executor)
                result = local(*first)
            else:
                self._answered |= by_worker
            yield result

    def _lost(self, executor: Any) -> None:
        """A worker of ``executor`` died (the OOM killer, a kill): forget and
        stop the executor, and warn, once (unless another thread has already).
        The calls streaming from it compute their tasks in their own process
        (none is lost); the next call starts new workers."""
        with self._lock:
            if self._executor is not executor:
                return
            self._executor = None
            self._stop_now(executor)
        warnings.warn(
            "a newsclf worker process died (killed, or out of memory); its batches and the "
            "rest of this call are scored in this process",
            RuntimeWarning,
            stacklevel=2,
        )

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers (idempotent; in a forked copy of the process that
        started them, only forget them: they are the parent's).  ``wait``:
        until they have gone (see :func:`newsclf._model._close_collected`
        for when it must not)."""
        with self._lock:
            executor, self._executor = self._executor, None  # first: see _submit
            if executor is not None and self._owner == os.getpid():
                if wait:
                    self._shutdown()
                else:
                    self._stop_now(executor)

    def _stop_now(self, executor: Any) -> None:
        """Stop ``executor`` without waiting for its workers, and drop the
        exit-time shutdown that would wait for them."""
        self._shutdown.cancel()
        executor.shutdown(wait=False)
