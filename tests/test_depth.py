"""The depth experiment: per-layer error of the chip against the bit-exact path, own and accumulated;
the `convsram depth` command (CSV + PNG) and the chip lab's Depth tab."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6 import QtCore

from convsram.cli import main
from convsram.core import depth, mnist
from convsram.core.config import ChipConfig
from convsram.core.network import save_model
from tests.helpers import random_model

pytest_plugins = ["tests.test_gui_support"]


@pytest.fixture(scope="module")
def images():
    return mnist.load("test", limit=12).images


def test_the_ideal_chip_has_no_error_at_any_depth(images) -> None:
    rows = depth.measure(random_model(), images, ChipConfig.ideal(), [0], batch_size=5)
    assert [(d.layer, d.run) for d in rows] == [(n, r) for r in depth.RUNS for n in ("conv1", "conv2", "fc")]
    for d in rows:
        assert d.sqnr_db > 200 and d.rms_code_error_lsb == 0 and d.fraction_differ == 0  # float rounding only


def test_a_real_chip_errs_and_the_first_layer_has_only_its_own_error(images) -> None:
    rows = depth.measure(random_model(), images, ChipConfig(), [0, 1], batch_size=12)
    by = {(d.layer, d.run): d for d in rows}
    assert by[("conv1", "own")] == depth.LayerDepth(**{**by[("conv1", "accumulated")].__dict__, "run": "own"})
    for d in rows:
        assert 0 < d.sqnr_db < 80 and d.rms_code_error_lsb > 0 and 0 <= d.saturation_rate < 1
    assert by[("conv1", "own")].conversions == 2 * 12 * 576 * 16
    # the harsh chip is worse at every layer
    harsh = {(d.layer, d.run): d for d in depth.measure(random_model(), images, ChipConfig.harsh(), [0, 1])}
    assert all(harsh[k].sqnr_db < by[k].sqnr_db for k in by)


def test_depth_command_writes_csv_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = save_model(random_model(), tmp_path / "m.npz")
    out = tmp_path / "d.csv"
    assert main(["depth", "--model", str(model), "--also", str(model), "--images", "6", "--chips", "1",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "conv2" in text and "accumulated" in text and "first layer" in text
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 3 and {r["run"] for r in rows} == {"own", "accumulated"}
    assert float(rows[0]["sqnr_db"]) > 0 and out.with_suffix(".png").stat().st_size > 10_000
    with pytest.raises(SystemExit) as bad:
        main(["depth", "--model", str(model), "--images", "0", "--out", str(out)])
    assert bad.value.code == 2
    assert main(["depth", "--model", str(tmp_path / "none.npz"), "--out", str(out)]) == 2
    assert "none.npz" in capsys.readouterr().err


def test_the_lab_depth_tab_measures_this_chip_and_follows_the_knobs(window, qtbot) -> None:
    from convsram.gui.lab.actions import lab_for

    window.do("chip_lab")
    lab = lab_for(window)
    qtbot.waitExposed(lab)
    try:
        view = lab.select("depth")
        view.images.setValue(10)
        with qtbot.waitSignal(view.computed, timeout=60_000):
            lab.refresh()
        first = list(view.result)
        assert len(first) == 2 * len(window.session.model.layers)
        _legend_off_the_points(view)
        with qtbot.waitSignal(view.computed, timeout=60_000):
            lab.apply_config(window.session.config.with_(cap_mismatch_sigma=0.2))
            lab.refresh()
        assert view.result[0].sqnr_db < first[0].sqnr_db  # more mismatch, less SQNR
    finally:
        lab.shutdown()
        lab.close()


def _legend_off_the_points(view) -> None:
    """The depth tab's legends (top right) sit in a band above every plotted point (they sat on the
    highest points)."""
    for plot in (view.sqnr_plot, view.differ_plot):
        item = plot.getPlotItem()
        legend = item.legend.sceneBoundingRect()
        for curve in item.listDataItems():
            xs, ys = curve.getData()
            for x, y in zip(xs, ys, strict=True):
                at = item.vb.mapViewToScene(QtCore.QPointF(float(x), float(y)))
                assert at.y() > legend.bottom() + 4, (curve.name(), x, y)
