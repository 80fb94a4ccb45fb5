"""Worker threads for the bulk evaluation paths.

numpy releases the interpreter lock inside its loops (arithmetic, casts, gathers, BLAS), so blocks of
one array operation run on several cores from plain threads. Every block writes its own slice and
reductions are exact (integer-valued sums) or done once over the whole array afterwards, so results do
not depend on the number of threads or on the block sizes.

The count: ``CONVSRAM_THREADS`` if set, else ``OMP_NUM_THREADS`` (what numpy's BLAS uses), else the
machine's CPU count.
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


def run_blocks(fn: Callable[..., T], blocks: Sequence[tuple[Any, ...]]) -> list[T]:
    """[fn(*b) for b in blocks], the blocks spread over the worker threads; results in block order."""
    global _pool, _pool_size
    n = workers()
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
