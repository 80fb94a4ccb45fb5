"""Where sweep tasks run, all behind ``concurrent.futures``: this process (one worker), a local
process pool (``--workers N``), or an existing Dask cluster (``--scheduler tcp://HOST:PORT``, the
optional ``cluster`` extra; Dask's own ``ClientExecutor`` is a ``concurrent.futures.Executor``).

:func:`run` hands tasks to an engine a few at a time and yields each task's result as it finishes. A
worker killed mid-sweep costs only its running tasks: Dask re-runs them on another worker by itself;
a local pool whose process died is started again and its unfinished tasks resubmitted. Each task's
result is yielded once.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import os
import re
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from convsram.core.sweep_tasks import DataSpec, Result, Task, init_pool_worker, run_task, worker_versions

POLL_S = 0.2  # how often a waiting sweep looks at its cancel flag
SHUTDOWN_S = 5.0  # closing a local pool waits at most this long before killing its processes
CONNECT_S = 10.0  # how long to try reaching a Dask scheduler
REFRESH_S = 5.0  # how often a cluster sweep looks up how many worker threads there are
RESTARTS = 3  # a local pool broken more often than this (a task that kills its process) ends the sweep
ENV_SCHEDULER = "CONVSRAM_SCHEDULER"


class EngineError(ValueError):
    """The engine cannot run the sweep (bad address, unreachable scheduler, unfit workers): one line."""


class SweepError(RuntimeError):
    """A task failed while the sweep ran (its message says which)."""


class Engine:
    """Runs tasks; a context manager (entering starts it, leaving ends its processes or connection)."""

    name = "this process"

    def start(self, spec: DataSpec) -> None:
        self.spec = spec

    def slots(self) -> int:
        """How many tasks to keep submitted at once."""
        return 1

    def submit(self, task: Task, base: dict[str, Any]) -> cf.Future[Result]:
        future: cf.Future[Result] = cf.Future()
        try:
            future.set_result(run_task(task, base, self.spec))
        except Exception as exc:  # reported by run() with the task's name
            future.set_exception(exc)
        return future

    def restart(self) -> None:
        raise SweepError("the engine cannot be restarted")

    def worker_pids(self) -> list[int]:
        return [os.getpid()]

    def close(self) -> None:
        pass

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalPool(Engine):
    """`workers` processes on this machine (forked where the platform can: they share the parent's
    loaded modules). Worker processes ignore Ctrl-C; the parent ends them."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.name = f"{workers} local processes"
        self.pool: cf.ProcessPoolExecutor | None = None

    def start(self, spec: DataSpec) -> None:
        super().start(spec)
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=init_pool_worker,
                                           initargs=(spec,))

    def slots(self) -> int:
        return 2 * self.workers

    def submit(self, task: Task, base: dict[str, Any]) -> cf.Future[Result]:
        assert self.pool is not None, "start() first"
        return self.pool.submit(run_task, task, base, self.spec)

    def restart(self) -> None:
        self.close()
        self.start(self.spec)

    def worker_pids(self) -> list[int]:
        return [p.pid for p in list(getattr(self.pool, "_processes", {}).values()) if p.pid]

    def close(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            close_pool(pool)


def close_pool(pool: cf.ProcessPoolExecutor, timeout: float = SHUTDOWN_S) -> None:
    """Cancel `pool`'s queued tasks, terminate its processes and wait at most `timeout` seconds for
    them, then kill what is left."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        try:
            p.terminate()
        except (OSError, AttributeError, ValueError):
            pass
    done = threading.Event()

    def join() -> None:
        for p in processes:
            p.join()
        done.set()

    threading.Thread(target=join, name="sweep-shutdown", daemon=True).start()
    if not done.wait(timeout):
        for p in processes:
            try:
                p.kill()
            except (OSError, AttributeError, ValueError):
                pass


_ADDRESS = re.compile(r"^(?:(tcp|tls|ucx|inproc)://)?([A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$")


def scheduler_address(text: str) -> str:
    """'tcp://HOST:PORT' from 'tcp://HOST:PORT', 'HOST:PORT' or 'HOST' (port 8786, Dask's default)."""
    m = _ADDRESS.match(text.strip())
    if not m or (m.group(3) and not 0 < int(m.group(3)) < 65536):
        raise EngineError(f"--scheduler {text[:80]!r}: write the Dask scheduler's address as "
                          f"tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")
    return f"{m.group(1) or 'tcp'}://{m.group(2)}:{m.group(3) or 8786}"


class DaskCluster(Engine):
    """The workers of an existing Dask cluster. The model and test images go to every worker once
    (scattered); tasks are submitted with ``pure=False`` so Dask never merges two of them into one."""

    def __init__(self, address: str, connect_s: float | None = None) -> None:
        self.address = scheduler_address(address)
        self.connect_s = CONNECT_S if connect_s is None else connect_s
        self.name = f"the Dask cluster at {self.address}"
        self.client: Any = None
        self.executor: cf.Executor | None = None
        self.data: Any = None
        self.threads = 1
        self.counted = 0.0

    def start(self, spec: DataSpec) -> None:
        super().start(spec)
        try:
            from distributed import Client
        except ImportError:
            raise EngineError("--scheduler needs Dask: pip install 'convsram[cluster]' (or leave out "
                              f"--scheduler and {ENV_SCHEDULER} to use this machine's cores)") from None
        quiet_dask()
        try:
            self.client = Client(self.address, timeout=self.connect_s, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {self.address} ({_first_line(exc)}); "
                              "start one with `dask scheduler` and workers with `dask worker "
                              f"{self.address}`, or check the address") from None
        try:
            self._check_workers()
            self.data = self.client.scatter(spec.load(), broadcast=True, hash=False)
            self.executor = self.client.get_executor(pure=False)
        except BaseException:
            self.close()
            raise

    def _check_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=self.connect_s)
        except (OSError, TimeoutError):
            raise EngineError(f"the Dask scheduler at {self.address} has no workers; start some with "
                              f"`dask worker {self.address}`") from None
        mine = worker_versions()
        found = self.client.run(worker_versions, on_error="return")
        for worker, theirs in sorted(found.items()):
            if isinstance(theirs, BaseException):
                raise EngineError(f"Dask worker {worker} cannot run convsram ({type(theirs).__name__}: "
                                  f"{_first_line(theirs)}); install it on every worker: pip install "
                                  "'convsram[cluster]', the same version as here")
            for what, value in mine.items():
                if theirs.get(what) != value:
                    raise EngineError(f"Dask worker {worker} has {what} {theirs.get(what)}, this machine "
                                      f"{value}: install the same convsram and numpy on every worker and "
                                      "restart the workers (a worker keeps the code it started with; "
                                      "results must not depend on where a task runs)")
        self.threads = max(1, sum(self.client.nthreads().values()))
        self.counted = time.monotonic()

    def slots(self) -> int:
        """A few tasks per worker thread; the thread count is looked up again every REFRESH_S (it is a
        round trip to the scheduler: not once per finished task)."""
        now = time.monotonic()
        if now - self.counted >= REFRESH_S:
            self.counted = now
            try:
                self.threads = max(1, sum(self.client.nthreads().values()))
            except Exception:  # a scheduler busy or briefly gone: keep the last count
                pass
        return 4 * self.threads + 4  # results come back a few round trips after a task ends: keep
        # enough queued on the workers to cover them

    def submit(self, task: Task, base: dict[str, Any]) -> cf.Future[Result]:
        assert self.executor is not None, "start() first"
        return self.executor.submit(run_task, task, base, self.data)

    def worker_pids(self) -> list[int]:
        return sorted(self.client.run(os.getpid).values())

    def close(self) -> None:
        executor, self.executor = self.executor, None
        client, self.client = self.client, None
        if executor is not None:
            executor.shutdown(wait=False)  # cancels what is queued or running
        if client is not None:
            try:
                client.close(timeout=SHUTDOWN_S)
            except Exception:  # a scheduler gone away: nothing left to close
                pass


def quiet_dask() -> None:
    """Dask logs connection retries and worker losses as warnings on stderr; the sweep reports what
    matters in its own words (its errors, the progress bar)."""
    for name in ("distributed", "distributed.client", "distributed.worker", "distributed.scheduler"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def make_engine(workers: int = 0, scheduler: str | None = None) -> Engine:
    """The engine for `scheduler` (a Dask address) or `workers` local processes (0: all cores; 1: this
    process)."""
    if scheduler:
        return DaskCluster(scheduler)
    workers = workers or os.cpu_count() or 1
    return Engine() if workers == 1 else LocalPool(workers)


def run(tasks: Sequence[Task], base: dict[str, Any], engine: Engine,
        cancel: threading.Event | None = None) -> Iterator[Result]:
    """Yield each task's result as it finishes (in finishing order). Setting `cancel` (from another
    thread) ends the sweep within :data:`POLL_S`; the caller closes the engine."""
    queue = deque(tasks)
    pending: dict[cf.Future[Result], Task] = {}
    restarts = 0
    while queue or pending:
        if cancel is not None and cancel.is_set():
            return
        while queue and len(pending) < engine.slots():
            task = queue.popleft()
            pending[engine.submit(task, base)] = task
        done, _ = cf.wait(pending, timeout=POLL_S, return_when=cf.FIRST_COMPLETED)
        broken = False
        for future in sorted(done, key=lambda f: pending[f].index):
            task = pending.pop(future)
            try:
                result = future.result()
            except BrokenProcessPool:
                queue.appendleft(task)
                broken = True
                continue
            except cf.CancelledError:
                raise SweepError(f"task {task.describe()} was cancelled by the engine") from None
            except Exception as exc:
                raise SweepError(f"task {task.describe()} failed: {type(exc).__name__}: "
                                 f"{_first_line(exc)}") from exc
            yield result
        if broken:  # a pool process died (killed, out of memory): start again, re-run what was lost
            restarts += 1
            if restarts > RESTARTS:
                raise SweepError(f"the local worker processes died {restarts} times; last task lost: "
                                 f"{task.describe()}")
            queue.extendleft(sorted(pending.values(), key=lambda t: t.index, reverse=True))
            pending.clear()
            engine.restart()
