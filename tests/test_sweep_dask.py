"""`convsram sweep --scheduler` on a 2-worker Dask LocalCluster (processes, loopback only): the same
rows as the local pool, a worker killed mid-sweep, and clusters that cannot run the sweep."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from distributed import Client, LocalCluster  # noqa: E402

from convsram.core import sweep_engines  # noqa: E402
from convsram.core.sweep_engines import run  # noqa: E402
from tests.sweep_cli import one_line_error, sweep  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("local") / "s.csv"
    assert sweep(out, "--workers", "2") == 0
    return out.read_bytes()


def test_a_dask_cluster_gives_the_local_pools_rows(cluster: LocalCluster, local_rows: bytes,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    assert sweep(out, "--scheduler", cluster.scheduler_address) == 0
    assert out.read_bytes() == local_rows
    # twice on the same cluster: no result of the first run is reused under the same key (pure=False)
    again = tmp_path / "again.csv"
    assert sweep(again, "--scheduler", cluster.scheduler_address) == 0
    assert again.read_bytes() == local_rows


def test_the_environment_names_the_scheduler(cluster: LocalCluster, local_rows: bytes, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONVSRAM_SCHEDULER", cluster.scheduler_address)
    out = tmp_path / "s.csv"
    assert sweep(out) == 0
    assert out.read_bytes() == local_rows


def test_a_worker_killed_mid_sweep_costs_only_its_tasks(cluster: LocalCluster, local_rows: bytes,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    killed: list[int] = []

    def kill_one_worker(tasks, base, engine, cancel=None):  # type: ignore[no-untyped-def]
        for result in run(tasks, base, engine, cancel):
            yield result
            if not killed:
                pid = engine.worker_pids()[0]
                os.kill(pid, signal.SIGKILL)  # the nanny starts a new worker process
                killed.append(pid)

    monkeypatch.setattr(sweep_engines, "run", kill_one_worker)
    out = tmp_path / "s.csv"
    assert sweep(out, "--scheduler", cluster.scheduler_address) == 0
    assert killed
    assert out.read_bytes() == local_rows  # every task's row, once, in task order
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)  # the cluster heals for the next test


def test_interrupt_on_the_cluster_then_resume(cluster: LocalCluster, local_rows: bytes, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def four_then_ctrl_c(tasks, base, engine, cancel=None):  # type: ignore[no-untyped-def]
        for i, result in enumerate(run(tasks, base, engine, cancel)):
            yield result
            if i == 3:
                raise KeyboardInterrupt

    out = tmp_path / "s.csv"
    monkeypatch.setattr(sweep_engines, "run", four_then_ctrl_c)
    assert sweep(out, "--scheduler", cluster.scheduler_address) == 130
    monkeypatch.undo()
    assert sweep(out, "--resume", "--workers", "1") == 0  # resumed on another engine: the same rows
    assert out.read_bytes() == local_rows


def bare_scheduler() -> LocalCluster:
    """A scheduler on loopback with no workers of its own (in this process)."""
    return LocalCluster(n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1",
                        dashboard_address=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_engines, "CONNECT_S", 1.0)
    out = tmp_path / "s.csv"
    out.write_bytes(b"old results\n")
    address = f"tcp://127.0.0.1:{_free_port()}"
    err = one_line_error(capsys, sweep(out, "--scheduler", address))
    assert "cannot reach the Dask scheduler" in err and address in err
    assert out.read_bytes() == b"old results\n" and not Path(str(out) + ".part").exists()


# a `dask worker` whose Python cannot import convsram (as on a machine where it is not installed)
_WITHOUT_CONVSRAM = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "convsram" or name.startswith("convsram."):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
from distributed.cli.dask_worker import main
sys.argv = ["dask-worker", sys.argv[1], "--no-nanny", "--nthreads", "1", "--host", "127.0.0.1",
            "--no-dashboard"]
main()
"""


def test_workers_without_convsram_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.csv"
    out.write_bytes(b"old results\n")
    with bare_scheduler() as bare:
        worker = subprocess.Popen([sys.executable, "-c", _WITHOUT_CONVSRAM, bare.scheduler_address],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with Client(bare.scheduler_address, set_as_default=False) as client:
                client.wait_for_workers(1, timeout=60)
            err = one_line_error(capsys, sweep(out, "--scheduler", bare.scheduler_address))
        finally:
            worker.terminate()
            worker.wait(30)
    assert "cannot run convsram" in err and "convsram[cluster]" in err
    assert out.read_bytes() == b"old results\n" and not Path(str(out) + ".part").exists()


def test_a_scheduler_without_workers_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_engines, "CONNECT_S", 1.0)
    out = tmp_path / "s.csv"
    with bare_scheduler() as bare:
        started = time.monotonic()
        err = one_line_error(capsys, sweep(out, "--scheduler", bare.scheduler_address))
    assert "has no workers" in err and time.monotonic() - started < 30
    assert not out.exists()
