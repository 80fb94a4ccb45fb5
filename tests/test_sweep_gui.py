"""The chip lab's Monte Carlo tab on a Dask cluster: the same chips as on this computer, the same
cancel, and a message (the window keeps running) when the cluster cannot be used."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from PySide6 import QtCore

pytest.importorskip("distributed")

from distributed import LocalCluster  # noqa: E402

from convsram.core import sweep_engines  # noqa: E402

pytest_plugins = ["tests.test_gui_support"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two workers as threads of this process, on loopback (the tab's client talks TCP to them)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                      host="127.0.0.1", dashboard_address=None) as c:
        yield c


def test_monte_carlo_tab_on_a_cluster_matches_this_computer_and_cancels(window, lab, qtbot,  # type: ignore
                                                                        cluster: LocalCluster) -> None:
    lab.select("montecarlo")
    mc = lab.views["montecarlo"]
    window.command("seed", 3)
    mc.start(chips=3, images=20, workers=2, scheduler="")
    qtbot.waitUntil(lambda: not mc.running, timeout=60000)
    here = dict(mc.accuracies)
    assert mc.state == "done" and sorted(here) == [3, 4, 5]
    mc.start(chips=3, images=20, scheduler=cluster.scheduler_address)
    assert mc.running and "Dask cluster" in mc.summary.text()
    qtbot.waitUntil(lambda: not mc.running, timeout=60000)
    assert mc.state == "done" and mc.accuracies == here
    # a long sweep on the cluster, cancelled after its first chip
    mc.start(chips=40, images=200, scheduler=cluster.scheduler_address)
    qtbot.waitUntil(lambda: len(mc.accuracies) >= 1, timeout=60000)
    qtbot.mouseClick(mc.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not mc.running, timeout=30000)
    assert mc.state == "cancelled" and 1 <= len(mc.accuracies) < 40
    assert mc.run_button.isEnabled() and not mc.cancel_button.isEnabled()


def test_a_cluster_that_cannot_be_used_is_a_message(window, lab, qtbot,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    lab.select("montecarlo")
    mc = lab.views["montecarlo"]
    mc.start(chips=2, images=20, scheduler="no such address!")
    assert not mc.running and mc.state == "failed" and "tcp://HOST:PORT" in mc.summary.text()
    monkeypatch.setattr(sweep_engines, "CONNECT_S", 1.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mc.start(chips=2, images=20, scheduler=f"tcp://127.0.0.1:{port}")
    qtbot.waitUntil(lambda: not mc.running, timeout=60000)
    assert mc.state == "failed" and "cannot reach the Dask scheduler" in mc.summary.text()
    assert mc.run_button.isEnabled()
    mc.start(chips=2, images=20, workers=2, scheduler="")  # and this computer still works
    qtbot.waitUntil(lambda: not mc.running, timeout=60000)
    assert mc.state == "done" and len(mc.accuracies) == 2
