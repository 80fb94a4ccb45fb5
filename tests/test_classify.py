"""The drawing pad's pipeline (core/classify.py) and `convsram classify`: drawn digits are read right and
accepted, a tap and scribbles are refused, a PNG of an MNIST test digit gives its label."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from convsram.cli import main
from convsram.core import classify
from convsram.core.mnist import load
from convsram.core.network import load_model
from convsram.core.paths import DEFAULT_MODEL
from tests.drawn_digits import DIGITS, TAP, render, scribble


@pytest.fixture(scope="module")
def model():
    return load_model(DEFAULT_MODEL)


@pytest.mark.parametrize("digit", sorted(DIGITS))
def test_drawn_digits_are_accepted_and_right(model, digit):
    reading = classify.read_drawing(model, render(DIGITS[digit]))
    assert reading.sure, reading.line()
    assert reading.digit == digit


def test_a_tap_is_refused_for_too_little_ink(model):
    reading = classify.read_drawing(model, render(TAP))
    assert not reading.sure and reading.reason == "too little ink"
    assert "not sure" in reading.line()


def test_an_empty_picture_is_refused(model):
    assert classify.read_drawing(model, np.zeros((40, 40))).reason == "too little ink"


@pytest.mark.parametrize("seed", range(6))
def test_scribbles_are_refused(model, seed):
    reading = classify.read_drawing(model, render(scribble(seed)))
    assert not reading.sure, f"scribble {seed} read as a sure {reading.digit} (margin {reading.margin:.2f})"


def test_margin_is_best_minus_runner_up():
    assert classify.margin(np.array([0.0, 5.0, 3.5, -1.0])) == pytest.approx(1.5)
    r = classify.judge(np.array([0.0, 5.0, 3.5]), extent=0.7)
    assert r.digit == 1 and r.reason == "too small a margin" and r.as_dict()["digit"] is None


@pytest.mark.parametrize("light_background", [True, False])
def test_classify_command_reads_an_mnist_png(tmp_path, capsys, light_background):
    test = load("test")
    k = 3
    pixels = test.images[k]
    big = Image.fromarray(255 - pixels if light_background else pixels).resize((140, 140))
    path = tmp_path / "digit.png"
    big.save(path)
    assert main(["classify", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["digit"] == int(test.labels[k]) and out["sure"]
    assert main(["classify", str(path), "--chip", "ideal"]) == 0
    assert f": digit {int(test.labels[k])} (margin " in capsys.readouterr().out


def test_classify_command_says_not_sure_for_a_tap(tmp_path, capsys):
    path = tmp_path / "tap.png"
    Image.fromarray((render(TAP) * 255).astype(np.uint8)).save(path)
    assert main(["classify", str(path)]) == 0
    assert "not sure - try again" in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"", b"not a picture", b"\x89PNG\r\n\x1a\n" + b"\0" * 20])
def test_classify_unreadable_file_is_one_line_exit_2(tmp_path, capsys, content):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    assert main(["classify", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.png" in err and "Traceback" not in err


def test_classify_missing_file(tmp_path, capsys):
    assert main(["classify", str(tmp_path / "none.png")]) == 2
    assert "no such file" in capsys.readouterr().err
