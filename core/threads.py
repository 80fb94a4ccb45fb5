"""Worker threads for the bulk evaluation paths.

numpy releases the interpreter lock inside its loops (arithmetic, casts, gathers, BLAS), so blocks of
one array operation run on several cores from plain threads. Every block writes its own slice and
reductions are exact (integer-valued sums) or done once over the whole array afterwards, so results do
not depend on the number of threads or on the block sizes.

The count: ``CONVSRAM_THREADS`` if set, else ``OMP_NUM_THREADS`` (what numpy's BLAS uses), else the
machine's CPU count; blocks that call BLAS themselves run on one thread unless BLAS is single-threaded
or ``CONVSRAM_THREADS`` is set.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _forget_pool() -> None:
    """In a forked child (a sweep's process pool): the parent's threads do not exist there, and work
    handed to its pool would wait forever; the child starts its own pool when it needs one."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


os.register_at_fork(after_in_child=_forget_pool)


def workers() -> int:
    """Threads the bulk paths use (at least 1)."""
    for name in ("CONVSRAM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return max(1, os.cpu_count() or 1)


def blas_workers() -> int:
    """Threads for blocks that call BLAS themselves: CONVSRAM_THREADS if set; else :func:`workers`
    when BLAS runs one thread per call (OMP_NUM_THREADS or OPENBLAS_NUM_THREADS = 1); else 1, so
    that BLAS threads of concurrent calls do not compete for the cores (measured: 10x slower on a
    loaded two-core machine)."""
    if os.environ.get("CONVSRAM_THREADS", "").strip().isdigit():
        return workers()
    single = any(os.environ.get(v, "").strip() == "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"))
    return workers() if single else 1


def run_blocks(fn: Callable[..., T], blocks: Sequence[tuple[Any, ...]], blas: bool = False) -> list[T]:
    """[fn(*b) for b in blocks], the blocks spread over the worker threads; results in block order.
    blas=True: the blocks call BLAS (see :func:`blas_workers`)."""
    global _pool, _pool_size
    n = blas_workers() if blas else workers()
    if n == 1 or len(blocks) < 2 or threading.current_thread().name.startswith("convsram-bulk"):
        return [fn(*b) for b in blocks]
    if _pool is None or _pool_size != n:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool, _pool_size = ThreadPoolExecutor(max_workers=n, thread_name_prefix="convsram-bulk"), n
    return list(_pool.map(lambda b: fn(*b), blocks))


def spans(total: int, unit: int, most: int) -> list[tuple[int, int]]:
    """[start, stop) ranges covering 0..total in whole units of `unit`, each at most `most` long (at
    least one unit), as equal as they come."""
    units = max(1, total // max(unit, 1))
    per = max(1, min(units, most // max(unit, 1)))
    count = -(-units // per)
    bounds = [round(i * units / count) * unit for i in range(count + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
