"""Export, offscreen with the real window: pictures (PNG, SVG) of the window and of one view,
recordings (GIF, MP4), the frame's signals and the session's results (CSV, JSON). The files exist,
open, and hold what was on screen; a bad path gives a message box, never a traceback."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6 import QtGui, QtWidgets

from convsram.cli import main
from convsram.gui import export
from convsram.gui.transport import LAYER_PER_FRAME

pytest_plugins = ["tests.test_gui_support"]  # fixtures: window, model_path, no_qt_warnings, settings


def go(win, layer: int, step: int, image: int = 2) -> None:
    win.command("goto", image)
    win.command("frame", win.session.current.layer_start[layer] + step)
    win.refresh()


def answer_dialogs(monkeypatch, path, item: str | None = None) -> None:
    """File dialogs answer `path` (and the view chooser `item`) instead of waiting for a person."""
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    if item is not None:
        monkeypatch.setattr(QtWidgets.QInputDialog, "getItem", lambda *a, **k: (item, True))


def message_boxes(win) -> list[QtWidgets.QMessageBox]:
    return [b for b in win.findChildren(QtWidgets.QMessageBox) if b.isVisible()]


# --- pictures -------------------------------------------------------------------------------------------
def test_window_as_png_and_svg(window, tmp_path, monkeypatch):
    go(window, 1, 40)
    png, svg = tmp_path / "win.png", tmp_path / "win.svg"
    answer_dialogs(monkeypatch, png)
    window.named_actions["save_window"].trigger()
    img = QtGui.QImage(str(png))
    assert (img.width(), img.height()) == (window.width(), window.height())
    export.save_picture(window, svg)
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and root.get("viewBox") == f"0 0 {window.width()} {window.height()}"
    from PySide6.QtSvg import QSvgRenderer

    assert QSvgRenderer(str(svg)).isValid()
    text = svg.read_text()
    # what was on screen: the header's image number and the invocation counter are in the drawing
    assert f"image #{window.frame.image}" in text and "invocation" in text
    assert message_boxes(window) == []


def test_one_view_as_png_and_svg(window, tmp_path, monkeypatch):
    go(window, 0, 100)
    views = export.views(window)
    assert "ADC output codes" in views and len(views) >= 9
    out = tmp_path / "codes.png"
    answer_dialogs(monkeypatch, out, "ADC output codes")
    window.named_actions["save_view"].trigger()
    panel = views["ADC output codes"]
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (panel.width(), panel.height())
    svg = export.save_picture(panel, tmp_path / "codes.svg")
    assert "ADC output codes" in svg.read_text()


def test_a_bad_path_is_a_message_not_a_traceback(window, tmp_path, monkeypatch):
    answer_dialogs(monkeypatch, tmp_path / "no such folder" / "x.png")
    window.named_actions["save_window"].trigger()
    boxes = message_boxes(window)
    assert len(boxes) == 1 and "does not exist" in boxes[0].text()
    boxes[0].close()
    # a directory where the file should go: the write fails, and says so
    (tmp_path / "taken.csv").mkdir()
    answer_dialogs(monkeypatch, tmp_path / "taken.csv")
    window.named_actions["export_frame"].trigger()
    boxes = message_boxes(window)
    assert len(boxes) == 1 and "cannot write" in boxes[0].text() and "taken.csv" in boxes[0].text()
    boxes[0].close()
    answer_dialogs(monkeypatch, tmp_path / "results.txt")
    window.named_actions["export_results"].trigger()
    assert ".csv or .json" in message_boxes(window)[0].text()
    message_boxes(window)[0].close()


# --- data ----------------------------------------------------------------------------------------------
def test_frame_signals_as_csv_hold_what_is_on_screen(window, tmp_path, monkeypatch):
    go(window, 1, 123, image=6)
    out = tmp_path / "frame.csv"
    answer_dialogs(monkeypatch, out)
    window.named_actions["export_frame"].trigger()
    f = window.session.frame_at()
    assert f.index == window.frame.index
    with out.open() as fh:
        rows = list(csv.DictReader(fh))

    def column(name: str, kind=float) -> np.ndarray:
        return np.array([kind(r["value"]) for r in rows if r["quantity"] == name])

    np.testing.assert_array_equal(column("codes", int), f.codes)
    np.testing.assert_array_equal(column("ideal_codes", int), f.ideal_codes)
    np.testing.assert_array_equal(column("x", int), f.x)
    np.testing.assert_allclose(column("v_dac"), f.v_dac, rtol=1e-15)
    np.testing.assert_allclose(column("v_p"), f.v_p, rtol=1e-15)
    np.testing.assert_allclose(column("v_n"), f.v_n, rtol=1e-15)
    np.testing.assert_allclose(column("diff"), f.diff, rtol=1e-12)
    np.testing.assert_allclose(column("ideal_diff"), f.ideal_diff, rtol=1e-15)
    cols = [int(r["array_index"]) for r in rows if r["quantity"] == "codes"]
    assert cols == f.place.columns.tolist()
    energy = {r["array_index"]: float(r["value"]) for r in rows if r["quantity"] == "energy_invocation"}
    assert energy == pytest.approx(f.energy)
    head = {r["quantity"]: r["value"] for r in rows if r["index"] == ""}
    assert head["image"] == "6" and head["layer"] == "conv2" and head["step"] == str(f.index)
    assert head["invocations_so_far"] == str(f.invocations) and head["invocations"] == str(f.n_invocations)
    # the same numbers the codes view draws
    cv = window.codes_view
    shown = np.concatenate([np.asarray(cv.ok.opts["height"]), np.asarray(cv.bad.opts["height"])])
    assert sorted(shown.tolist()) == sorted(column("codes").tolist())


def test_frame_signals_as_json(window, tmp_path):
    go(window, 2, 5)
    s = window.session
    f = s.frame_at(s.image, s.current.n_frames - 1)  # the answer: prediction and scores too
    doc = json.loads(export.write_frame(f, s, tmp_path / "frame.json").read_text())
    assert doc["layer"] == doc["digital_step"] == "fc.scores"  # the last step: the class scores
    assert doc["prediction"] == f.prediction and len(doc["scores"]) == 10
    assert doc["columns"]["code"] == f.codes.tolist()
    assert doc["columns"]["ideal_code"] == f.ideal_codes.tolist()
    assert doc["rows"]["v_dac_V"] == f.v_dac.tolist()
    assert doc["energy_pj"]["image"] == pytest.approx(f.energy_image)


def test_session_results_as_csv_and_json(window, tmp_path):
    s = window.session
    for image in (0, 1, 2):
        window.command("goto", image)
        window.command("last")
    drawing = s.add_drawing(s.data.images[5])
    window.command("goto", drawing)
    window.command("last")
    rows = list(csv.DictReader(export.write_results(s, tmp_path / "r.csv").open()))
    assert [int(r["image"]) for r in rows] == [0, 1, 2, drawing]
    for r, res in zip(rows, s.stats.results, strict=True):
        assert int(r["prediction"]) == res.prediction
        assert float(r["energy_pj"]) == pytest.approx(sum(res.energy_pj.values()))
    assert rows[0]["label"] == str(s.data.labels[0]) and rows[0]["correct"] in ("True", "False")
    assert rows[3]["label"] == "" and rows[3]["correct"] == "" and rows[3]["drawn"] == "True"
    doc = json.loads(export.write_results(s, tmp_path / "r.json").read_text())
    assert doc["test_images"] == 3 and doc["correct"] == len(s.stats.correct)
    assert [d["image"] for d in doc["images"]] == [0, 1, 2, drawing]
    assert doc["images"][3]["label"] is None and doc["images"][3]["correct"] is None


# --- recordings ----------------------------------------------------------------------------------------
def test_record_playback_to_gif_from_the_menu(window, qtbot, tmp_path, monkeypatch):
    from PIL import Image

    out = tmp_path / "play.gif"
    answer_dialogs(monkeypatch, out)
    window.player.set_speed(LAYER_PER_FRAME)
    window.player.set_playing(True)
    action = window.named_actions["record"]
    action.trigger()
    rec = window.recorder
    assert rec is not None and action.isChecked()
    qtbot.waitUntil(lambda: rec.frames >= 4, timeout=5000)
    action.trigger()  # stop
    assert window.recorder is None and not action.isChecked()
    with Image.open(out) as gif:
        assert gif.size[0] == min(window.width(), export.RECORD_WIDTH)
        # Pillow merges identical consecutive frames (an answer held on screen) into one longer frame
        assert 2 <= gif.n_frames <= rec.frames and rec.frames >= 4
        total_ms = 0
        for k in range(gif.n_frames):
            gif.seek(k)
            total_ms += gif.info["duration"]
        assert total_ms == rec.frames * (1000 // export.RECORD_FPS)
    assert message_boxes(window) == []


def test_mp4(window, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    movie = export.Movie(tmp_path / "m.mp4", fps=5)
    for _ in range(3):
        window.command("step", 10)
        window.refresh()
        movie.add(export.qimage_rgb(window.grab().toImage()))
    path = movie.close()
    assert path.read_bytes()[4:8] == b"ftyp" and path.stat().st_size > 1000


def test_mp4_without_imageio_ffmpeg_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "mp4_available", lambda: False)
    with pytest.raises(export.ExportError, match=r"convsram\[video\]"):
        export.Movie(tmp_path / "m.mp4")


def test_record_command_writes_a_gif_of_k_frames(tmp_path, model_path, qapp, no_qt_warnings, capsys):
    from PIL import Image

    out = tmp_path / "film.gif"
    code = main(["record", "--out", str(out), "--model", str(model_path), "--image", "3", "--frames", "5",
                 "--every", "40", "--size", "960x540"])
    assert code == 0 and "5 frames" in capsys.readouterr().out
    with Image.open(out) as gif:
        assert gif.n_frames == 5 and gif.size == (960, 540)
    assert main(["record", "--out", str(tmp_path / "x.avi"), "--model", str(model_path)]) == 2
    assert ".gif or .mp4" in capsys.readouterr().err


def test_snapshot_demo(tmp_path, model_path, qapp, no_qt_warnings, capsys):
    out = tmp_path / "demo.png"
    assert main(["snapshot", "--demo", "--out", str(out), "--model", str(model_path), "--size", "1280x720",
                 "--layer", "fc", "--step", "12"]) == 0
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (1280, 720)
    # black, high-contrast ground (the dashboard's is #0d1017)
    assert QtGui.QColor(img.pixel(2, 2)).name() == "#000000"
