"""Fuzzing the readers (issue 9): any input to the chip TOML loader, the demo-script parser, the
settings reader, the model reader and the MNIST reader gives a result or the project's one-line
error, never another exception."""

from __future__ import annotations

import gzip
import math
import struct
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convsram.core import mnist
from convsram.core.config import ChipConfig
from convsram.core.configfile import ConfigError, load_config
from convsram.core.mnist import DataError
from convsram.core.network import Model, load_model, save_model
from convsram.core.script import PLAYER, ScriptError, parse
from tests.helpers import random_model

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = list(ChipConfig.__dataclass_fields__)
WORK = Path(tempfile.mkdtemp(prefix="convsram-fuzz-"))


def _one_line(exc: Exception) -> None:
    assert "\n" not in str(exc) and len(str(exc)) < 3000, str(exc)[:200]


numbers = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from(["nan", "inf", "-inf", "1e400", "64.0", "0x10", "1_000"]))
toml_values = st.one_of(
    numbers.map(lambda v: str(v) if not isinstance(v, float) or math.isfinite(v) else "nan"),
    st.sampled_from(["true", "false", '"maybe"', "[]", "[[1]]", "{}", "{a = 1}", "1979-05-27"]),
    st.text(max_size=20).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'))
toml_lines = st.tuples(st.one_of(st.sampled_from(FIELDS + ["preset"]), st.from_regex(r"[a-z_]{1,12}",
                                                                                     fullmatch=True)),
                       toml_values).map(lambda kv: f"{kv[0]} = {kv[1]}")
toml_text = st.one_of(st.lists(toml_lines, max_size=8).map("\n".join), st.text(max_size=300),
                      st.builds(lambda n, c: c * n, st.integers(1, 3000), st.sampled_from(["[", "{", "a=["])))


@FUZZ
@given(toml_text)
def test_fuzz_chip_toml(text):
    path = WORK / "chip.toml"
    path.write_bytes(text.encode("utf-8", "replace"))
    try:
        config = load_config(path)
    except ConfigError as exc:
        _one_line(exc)
    else:
        assert isinstance(config, ChipConfig)


words = st.one_of(st.sampled_from([*PLAYER, "knob", "preset", "seed", "goto", "step", "ideal", "frame",
                                   "next_layer", "nominal", "ideal", "harsh", "on", "maybe", *FIELDS]),
                  numbers.map(str), st.text(max_size=12))
script_text = st.one_of(st.lists(st.lists(words, max_size=4).map(" ".join), max_size=12).map("\n".join),
                        st.text(max_size=200))


@FUZZ
@given(script_text)
def test_fuzz_demo_script(text):
    try:
        steps = parse(text)
    except ScriptError as exc:
        _one_line(exc)
    else:
        for step in steps:
            for arg in step.args:
                assert not isinstance(arg, float) or math.isfinite(arg)


@FUZZ
@given(st.one_of(st.text(max_size=200), st.lists(st.tuples(st.sampled_from(["image", "speed", "geometry",
                                                                              "x"]), words), max_size=5)
                 .map(lambda kv: "[General]\n" + "\n".join(f"{k}={v}" for k, v in kv))))
def test_fuzz_settings_reader(text):
    pytest.importorskip("PySide6")
    from PySide6 import QtCore

    from convsram.gui.settings import read_float, read_int

    path = WORK / "settings.ini"
    path.write_bytes(text.encode("utf-8", "replace"))
    store = QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)
    assert isinstance(read_int(store, "image", 0), int)
    speed = read_float(store, "speed", 100.0, 0.0, 1e9)
    assert math.isfinite(speed) and 0 <= speed <= 1e9


def _model_bytes() -> bytes:
    path = WORK / "base.npz"
    if not path.exists():
        save_model(random_model(), path)
    return path.read_bytes()


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 40_000), st.integers(0, 255)), max_size=8),
       st.one_of(st.none(), st.integers(0, 40_000)))
@example(flips=[(3190, 13)], cut=None)  # a header byte that made numpy's header parser raise TokenError
def test_fuzz_model_reader(flips, cut):
    data = bytearray(_model_bytes())
    for at, value in flips:
        data[at % len(data)] = value
    if cut is not None:
        data = data[:cut]
    path = WORK / "fuzzed.npz"
    path.write_bytes(bytes(data))
    try:
        model = load_model(path)
    except DataError as exc:
        _one_line(exc)
    else:
        assert isinstance(model, Model)


@FUZZ
@given(st.integers(2040, 2060), st.lists(st.integers(-5, 70_000), min_size=3, max_size=3),
       st.binary(max_size=3000), st.booleans(), st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)),
                                                         max_size=4))
def test_fuzz_mnist_reader(magic, shape, payload, zipped, flips):
    raw = struct.pack(">4i", magic, *shape) + payload
    data = bytearray(gzip.compress(raw) if zipped else raw)
    for at, value in flips:
        data[at % len(data)] = value
    path = WORK / ("t10k-images-idx3-ubyte" + (".gz" if zipped else ""))
    path.write_bytes(bytes(data))
    try:
        images = mnist.read_idx(path, mnist.IMAGE_MAGIC)
    except DataError as exc:
        _one_line(exc)
    else:
        assert images.ndim == 3 and images.shape[1:] == (28, 28)
