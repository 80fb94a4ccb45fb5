"""Worker threads for the bulk evaluation paths.

numpy releases the interpreter lock inside its loops (arithmetic, casts, gathers, BLAS), so blocks of
one array operation run on several cores from plain threads. Every block writes its own slice and
reductions are exact (integer-valued sums) or done once over the whole array afterwards, so results do
not depend on the number of threads or on the block sizes.

The count: ``CONVSRAM_THREADS`` if set, else ``OMP_NUM_THREADS`` (what numpy's BLAS uses), else the
machine's CPU count. Blocks that call BLAS themselves run side by side on the workers with BLAS held to
one thread per call while they run (threadpoolctl; restored afterwards): BLAS's own threads would
otherwise compete with the workers for the cores (measured on two cores, 10,000 images of resnet-bw:
exact path 1.21 s with BLAS on two threads and one block at a time, 0.90 s this way; nominal chip
4.92 s and 3.67 s).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from threadpoolctl import ThreadpoolController

T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_blas_lock = threading.Lock()
_blas_users = 0  # run_blocks calls holding BLAS to one thread now
_blas_limit: Any = None  # their threadpoolctl limit, undone by the last of them
_controller: ThreadpoolController | None = None


def _forget_pool() -> None:
    """In a forked child (a sweep's process pool): the parent's threads do not exist there, and work
    handed to its pool would wait forever; the child starts its own pool when it needs one."""
    global _pool, _pool_size, _blas_lock, _blas_users, _blas_limit
    _pool, _pool_size = None, 0
    _blas_lock, _blas_users, _blas_limit = threading.Lock(), 0, None  # (a lock held at the fork stays held)


os.register_at_fork(after_in_child=_forget_pool)


def workers() -> int:
    """Threads the bulk paths use (at least 1)."""
    for name in ("CONVSRAM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return _cpus()


@cache
def _cpus() -> int:
    """The machine's CPU count, read once (os.cpu_count parses a /sys file: ~10 us a call)."""
    return max(1, os.cpu_count() or 1)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread per call inside (the process's BLAS libraries, through threadpoolctl; their
    thread counts restored when the last concurrent user leaves). Results do not change: every
    matmul of the bulk paths gives the same sums on any number of BLAS threads (chip.column_sums)."""
    global _blas_users, _blas_limit, _controller
    with _blas_lock:
        if _blas_users == 0:
            if _controller is None:  # finds the loaded BLAS libraries once (about a millisecond)
                _controller = ThreadpoolController()
            _blas_limit = _controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None


def run_blocks(fn: Callable[..., T], blocks: Sequence[tuple[Any, ...]], blas: bool = False) -> list[T]:
    """[fn(*b) for b in blocks], the blocks spread over the worker threads; results in block order.
    blas=True: the blocks call BLAS, on one thread each while they run side by side
    (:func:`one_blas_thread`)."""
    global _pool, _pool_size
    n = workers()
    if n == 1 or len(blocks) < 2 or threading.current_thread().name.startswith("convsram-bulk"):
        return [fn(*b) for b in blocks]
    if _pool is None or _pool_size != n:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool, _pool_size = ThreadPoolExecutor(max_workers=n, thread_name_prefix="convsram-bulk"), n
    if not blas:
        return list(_pool.map(lambda b: fn(*b), blocks))
    with one_blas_thread():
        return list(_pool.map(lambda b: fn(*b), blocks))


def spans(total: int, unit: int, most: int) -> list[tuple[int, int]]:
    """[start, stop) ranges covering 0..total in whole units of `unit`, each at most `most` long (at
    least one unit), as equal as they come."""
    units = max(1, total // max(unit, 1))
    per = max(1, min(units, most // max(unit, 1)))
    count = -(-units // per)
    bounds = [round(i * units / count) * unit for i in range(count + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
