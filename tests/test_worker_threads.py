"""The worker threads' hold on BLAS (core/threads.py): blocks of BLAS calls run side by side with BLAS
on one thread per call, and BLAS gets its thread count back afterwards."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController

from convsram.core import threads
from convsram.core.chip import column_sums


def _blas_threads(controller: ThreadpoolController) -> list[int]:
    return [lib.num_threads for lib in controller.select(user_api="blas").lib_controllers]


@pytest.fixture
def two_blas_threads():
    """BLAS on two threads for the test (whatever the environment set), restored afterwards."""
    controller = ThreadpoolController()
    if not controller.select(user_api="blas").lib_controllers:
        pytest.skip("no BLAS library that threadpoolctl can control is loaded")
    with controller.limit(limits=2, user_api="blas"):
        assert set(_blas_threads(controller)) == {2}
        yield controller


def test_blas_blocks_run_on_one_blas_thread_each_and_restore_it(monkeypatch, two_blas_threads):
    def seen(blocks: int, blas: bool) -> set[int]:
        out = threads.run_blocks(lambda i: _blas_threads(two_blas_threads), [(i,) for i in range(blocks)],
                                 blas)
        return set().union(*map(set, out))

    monkeypatch.setenv("CONVSRAM_THREADS", "2")
    assert seen(3, blas=True) == {1}
    assert set(_blas_threads(two_blas_threads)) == {2}  # given back
    # blocks that do not call BLAS leave it alone; one block (or one worker) runs inline, BLAS as it is
    assert seen(2, blas=False) == {2}
    assert seen(1, blas=True) == {2}
    monkeypatch.setenv("CONVSRAM_THREADS", "1")
    assert seen(2, blas=True) == {2}


def test_the_hold_lasts_until_its_last_user_leaves(two_blas_threads):
    """Two evaluations on different threads (the app's worker and a chip-lab run): the first to finish
    must not hand BLAS its threads back under the other."""
    first, second = threads.one_blas_thread(), threads.one_blas_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert set(_blas_threads(two_blas_threads)) == {1}
    second.__exit__(None, None, None)
    assert set(_blas_threads(two_blas_threads)) == {2}
    with pytest.raises(ZeroDivisionError):  # an error inside gives the threads back too
        with threads.one_blas_thread():
            raise ZeroDivisionError
    assert set(_blas_threads(two_blas_threads)) == {2}


def test_column_sums_same_on_workers_as_in_one_call(monkeypatch, two_blas_threads):
    """The matmul split over two workers (BLAS held to one thread) gives the sums of one call on two
    BLAS threads, bit for bit."""
    rng = np.random.default_rng(5)
    m = rng.standard_normal((33, 58)).astype(np.float32)
    rows = rng.standard_normal((58, 5000)).astype(np.float32)
    monkeypatch.setenv("CONVSRAM_THREADS", "1")
    whole = column_sums(m, rows).copy()
    monkeypatch.setenv("CONVSRAM_THREADS", "2")
    assert np.array_equal(column_sums(m, rows), whole)
