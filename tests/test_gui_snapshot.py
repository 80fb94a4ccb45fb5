"""`convsram snapshot`: a PNG of the requested size; bad options give one line and exit status 2."""

from __future__ import annotations

import pytest
from PySide6 import QtGui

from convsram.cli import main

pytest_plugins = ["tests.test_gui_support"]


def test_snapshot_writes_a_png_of_the_requested_size(tmp_path, model_path, qapp, no_qt_warnings, capsys):
    out = tmp_path / "shot.png"
    code = main(["snapshot", "--out", str(out), "--model", str(model_path), "--layer", "conv2",
                 "--step", "300", "--size", "1280x720", "--image", "4"])
    assert code == 0
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (1280, 720)
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("args,needle", [
    (["--size", "big"], "WIDTHxHEIGHT"),
    (["--size", "100x100"], "out of range"),
    (["--layer", "conv9"], "not a layer"),
    (["--layer", "fc", "--step", "13"], "out of range"),
    (["--step", "-1"], "--step"),
    (["--image", "10000"], "out of range"),
    (["--seed", "-3"], "--seed"),
])
def test_snapshot_bad_options_exit_2_with_one_line(tmp_path, model_path, args, needle, capsys):
    code = main(["snapshot", "--out", str(tmp_path / "x.png"), "--model", str(model_path), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and needle in err
    assert not (tmp_path / "x.png").exists()


def test_snapshot_reports_a_missing_model(tmp_path, capsys):
    code = main(["snapshot", "--out", str(tmp_path / "x.png"), "--model", str(tmp_path / "none.npz")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "not found" in err and len(err.splitlines()) == 1


def test_snapshot_needs_a_png_name(tmp_path, model_path, capsys):
    code = main(["snapshot", "--out", str(tmp_path / "x.jpg"), "--model", str(model_path)])
    assert code == 2 and ".png" in capsys.readouterr().err
