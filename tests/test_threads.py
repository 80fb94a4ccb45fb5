"""The bulk paths' worker threads survive a fork: a sweep's process pool forks after the parent has used
them (the child inherited a pool without threads and waited forever: the lab's Monte Carlo hung)."""

from __future__ import annotations

import multiprocessing

import pytest

from convsram.core import threads


def _square_sum(n: int) -> int:
    return sum(threads.run_blocks(lambda a, b: sum(i * i for i in range(a, b)), [(0, n // 2), (n // 2, n)]))


@pytest.mark.timeout(60)
def test_worker_threads_work_in_a_forked_child(monkeypatch):
    monkeypatch.setenv("CONVSRAM_THREADS", "2")
    assert _square_sum(100) == sum(i * i for i in range(100))  # the parent's pool now exists
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        assert pool.apply_async(_square_sum, (100,)).get(timeout=30) == sum(i * i for i in range(100))
