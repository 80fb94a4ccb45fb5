"""The chip lab's Scaling tab, driven through the real main window offscreen: it runs core.scaling on
this chip in the background and shows every node with its energy band, accuracy and named baseline."""

from __future__ import annotations

from convsram.core import scaling

pytest_plugins = ["tests.test_gui_support"]


def test_scaling_tab_runs_every_node_and_names_its_baseline(lab, qtbot):
    view = lab.select("scaling")
    assert lab.current_view() == "scaling"
    assert "Stillmaker" in view.energy_plot.toolTip() and "Pelgrom" in view.acc_plot.toolTip()
    with qtbot.waitSignal(view.finished, timeout=180_000):
        view.start(chips=1, images=20)
    assert view.state == "done"
    assert [p.node_nm for p in view.points] == list(scaling.NODES)
    text = view.summary.text()
    assert "7 nm" in text and "weight-stationary binary-weight datapath" in text
    energies = [p.energy_per_image_nj[1] for p in view.points]
    assert energies[-1] < energies[0]  # 7 nm costs less than 65 nm
    lab.refresh()  # the session moving on does not disturb the result
    assert view.points


def test_scaling_tab_cancels_and_keeps_running(lab, qtbot):
    view = lab.select("scaling")
    with qtbot.waitSignal(view.finished, timeout=60_000):
        view.start(chips=20, images=500)
        view.cancel()
    assert view.state == "cancelled" and view.run_button.isEnabled() and not view.running
