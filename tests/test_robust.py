"""Hostile input and lost output (issue 9): every bad input is a one-line error, no writer destroys an
existing file, and readers stay within bounded memory and time."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from convsram.cli import main
from convsram.core import files, mnist
from convsram.core.config import ChipConfig
from convsram.core.configfile import ConfigError, from_dict, load_config, save_config
from convsram.core.mnist import DataError
from convsram.core.network import load_model, save_model
from convsram.core.paths import MNIST_DIR
from convsram.core.script import ScriptError, apply, parse
from convsram.core.script import load as load_script
from convsram.core.session import Session
from convsram.core.sweep import parse_knob
from tests.helpers import random_model, random_model_file

OLD = b"old output, must survive\n"


def _one_line_error(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def _main(argv: list[str]) -> int:
    """cli.main, with argparse's usage errors (SystemExit) as their exit status."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


# --- the atomic writer ---------------------------------------------------------------------------
@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_atomic_write_keeps_the_old_file_on_any_exception(tmp_path, exc):
    target = tmp_path / "out.csv"
    target.write_bytes(OLD)
    with pytest.raises(exc), files.atomic_open(target, "wb") as f:
        f.write(b"half")
        raise exc
    assert target.read_bytes() == OLD
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left


def test_atomic_write_replaces_when_complete(tmp_path):
    target = tmp_path / "out.txt"
    target.write_bytes(OLD)
    files.write_text(target, "new")
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]


def test_chip_config_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "chip.toml"
    target.write_bytes(OLD)

    def boom(config):
        raise KeyboardInterrupt

    monkeypatch.setattr("convsram.core.configfile.dumps", boom)
    with pytest.raises(KeyboardInterrupt):
        save_config(ChipConfig(), target)
    assert target.read_bytes() == OLD


def test_model_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "model.npz"
    target.write_bytes(OLD)

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        save_model(random_model(), target)
    assert target.read_bytes() == OLD


# --- output paths checked before any work ------------------------------------------------------------
def test_sweep_bad_workers_keeps_the_old_csv(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    out.write_bytes(OLD)
    _one_line_error(capsys, _main(["sweep", "--workers", "-1", "--out", str(out), "--chips", "1",
                                  "--images", "5"]))
    assert out.read_bytes() == OLD


def test_sweep_plot_path_checked_before_the_work(tmp_path, capsys, monkeypatch):
    out = tmp_path / "sweep.csv"
    out.write_bytes(OLD)
    monkeypatch.setattr("convsram.core.sweep_engines.run", lambda *a, **k: pytest.fail("ran the sweep"))
    err = _one_line_error(capsys, _main(["sweep", "--out", str(out), "--plot", str(tmp_path / "no" / "p.png"),
                                        "--chips", "1", "--images", "5"]))
    assert "does not exist" in err and out.read_bytes() == OLD


def test_sweep_refuses_a_billion_chips(capsys):
    err = _one_line_error(capsys, _main(["sweep", "--chips", "1000000000"]))
    assert "at most" in err


def test_train_out_checked_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("convsram.core.train.train", lambda *a, **k: pytest.fail("trained"))
    err = _one_line_error(capsys, _main(["train", "--out", str(tmp_path / "missing" / "m.npz")]))
    assert "does not exist" in err


def test_record_zero_frames_keeps_the_old_gif(tmp_path, capsys):
    out = tmp_path / "film.gif"
    out.write_bytes(OLD)
    err = _one_line_error(capsys, _main(["record", "--out", str(out), "--frames", "0"]))
    assert "--frames" in err and out.read_bytes() == OLD


def test_record_bounds_what_it_attempts(tmp_path, capsys):
    err = _one_line_error(capsys, _main(["record", "--out", str(tmp_path / "f.gif"), "--frames", "1000",
                                        "--size", "7680x4320"]))
    assert "million pixels" in err


# --- MNIST: corrupt, bombs ------------------------------------------------------------------------
def _mnist_copy(tmp_path: Path) -> Path:
    d = tmp_path / "mnist"
    shutil.copytree(MNIST_DIR, d, ignore=shutil.ignore_patterns("*.md"))
    return d


def test_gzip_corrupt_mid_stream_is_a_data_error(tmp_path, capsys):
    d = _mnist_copy(tmp_path)
    images = d / "t10k-images-idx3-ubyte.gz"
    data = bytearray(images.read_bytes())
    data[5000:5100] = bytes(255 - b for b in data[5000:5100])
    images.write_bytes(bytes(data))
    with pytest.raises(DataError, match="t10k-images"):
        mnist.load("test", d)
    err = _one_line_error(capsys, _main(["eval", "--mnist", str(d), "--images", "5"]))
    assert "t10k-images" in err


def test_app_opens_its_error_page_on_a_corrupt_gzip(tmp_path):
    from convsram.gui.app import open_session

    d = _mnist_copy(tmp_path)
    images = d / "t10k-images-idx3-ubyte.gz"
    data = bytearray(images.read_bytes())
    data[5000:5100] = bytes(100)
    images.write_bytes(bytes(data))
    session, error = open_session(None, d, 0, 0)
    assert session is None and "t10k-images" in error


def test_gzip_bomb_is_read_in_bounded_memory(tmp_path):
    d = tmp_path / "bomb"
    d.mkdir()
    header = struct.pack(">4i", mnist.IMAGE_MAGIC, 10, 28, 28)
    with gzip.open(d / "t10k-images-idx3-ubyte.gz", "wb", compresslevel=9) as f:
        f.write(header)
        block = bytes(1 << 20)
        for _ in range(300):  # 300 MB of zeros, about 300 KB compressed
            f.write(block)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="header promises"):
            mnist.read_idx(d / "t10k-images-idx3-ubyte.gz", mnist.IMAGE_MAGIC)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6, peak


def test_lying_mnist_header_is_refused(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(struct.pack(">4i", mnist.IMAGE_MAGIC, 2**31 - 1, 28, 28) + bytes(100))
    with pytest.raises(DataError, match="promises"):
        mnist.read_idx(path, mnist.IMAGE_MAGIC)


# --- model files ---------------------------------------------------------------------------------------
def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _npy_header_only(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_npy_renamed_to_npz(tmp_path):
    path = tmp_path / "m.npz"
    np.save(tmp_path / "m.npy", np.zeros(3))
    (tmp_path / "m.npy").rename(path)
    with pytest.raises(DataError, match="not a .npz"):
        load_model(path)


def test_member_declaring_2_to_45_elements_is_refused_unread(tmp_path):
    members = _members(random_model_file(tmp_path))
    members["conv1.alpha.npy"] = _npy_header_only((2**45,))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="conv1.alpha"):
            load_model(_write_zip(tmp_path / "big.npz", members))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6


def test_unused_huge_member_is_ignored_unread(tmp_path):
    members = _members(random_model_file(tmp_path))
    members["junk.npy"] = _npy(np.zeros(20_000_000, np.uint8))  # 20 MB, compresses to 20 KB
    t0 = time.perf_counter()
    tracemalloc.start()
    try:
        model = load_model(_write_zip(tmp_path / "junk.npz", members))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(model.layers) == 3 and peak < 10e6 and time.perf_counter() - t0 < 5


def _with_architecture(tmp_path: Path, edit) -> Path:
    """The model file with its architecture edited: the version-2 graph of nodes (what save_model
    writes; its first node is conv1 with the same fields as a version-1 layer)."""
    members = _members(random_model_file(tmp_path))
    arch = json.loads(str(np.load(io.BytesIO(members["graph.npy"]))))
    members["graph.npy"] = _npy(np.array(edit(arch)))
    return _write_zip(tmp_path / "edited.npz", members)


def test_architecture_json_nested_1000_deep(tmp_path):
    path = _with_architecture(tmp_path, lambda a: "[" * 1000 + "]" * 1000)
    with pytest.raises(DataError, match="nested"):
        load_model(path)


def test_architecture_kernel_float_is_refused(tmp_path):
    def edit(arch):
        arch[0]["kernel"] = float(arch[0]["kernel"])
        return json.dumps(arch)

    with pytest.raises(DataError, match="kernel must be an integer"):
        load_model(_with_architecture(tmp_path, edit))


@pytest.mark.parametrize("key,value,match", [
    ("version.npy", np.array(1.7), "version"),
    ("conv1.adc_step.npy", np.array(15.9), "adc_step"),
])
def test_silently_coerced_model_values_are_errors(tmp_path, key, value, match):
    members = _members(random_model_file(tmp_path))
    members[key] = _npy(value)
    with pytest.raises(DataError, match=match):
        load_model(_write_zip(tmp_path / "coerced.npz", members))


def test_eval_model_with_deep_json_exits_2(tmp_path, capsys):
    path = _with_architecture(tmp_path, lambda a: "[" * 1000 + "]" * 1000)
    _one_line_error(capsys, _main(["eval", "--model", str(path), "--images", "5"]))


# --- chip configs ----------------------------------------------------------------------------------------
def test_toml_nested_500_deep(tmp_path, capsys):
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(ConfigError, match="nested"):
        load_config(path)
    _one_line_error(capsys, _main(["config", "--check", str(path)]))
    _one_line_error(capsys, _main(["eval", "--config", str(path), "--images", "5"]))


def test_config_check_dev_zero_is_bounded(capsys):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    t0 = time.perf_counter()
    err = _one_line_error(capsys, _main(["config", "--check", "/dev/zero"]))
    assert "larger than" in err and time.perf_counter() - t0 < 5


@pytest.mark.parametrize("text", ["rows = 64.0", "columns = 256.0", "adc_groups = 16.0", "rows = true",
                                  "ktc_noise = 1", "ktc_noise = 'maybe'", "vdd = nan", "vdd = inf"])
def test_config_fields_parsed_by_type(tmp_path, text):
    path = tmp_path / "chip.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError):
        load_config(path)


def test_long_unknown_key_is_quoted_short():
    with pytest.raises(ConfigError) as info:
        from_dict({"x" * 10_000_000: 1})
    assert len(str(info.value)) < 1000


def test_sweep_knob_parsed_by_the_field_type():
    assert parse_knob("rows=32,64") == ("rows", [32, 64])
    assert all(type(v) is int for v in parse_knob("rows=32,64")[1])
    assert parse_knob("ktc_noise=on,off") == ("ktc_noise", [True, False])
    for bad in ("rows=64.5", "ktc_noise=maybe", "cap_mismatch_sigma=nan"):
        with pytest.raises(ValueError):
            parse_knob(bad)


# --- demo scripts -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line", ["speed nan", "wait inf", "knob ktc_noise maybe", "knob rows 64.0",
                                  "seed -5", "seed x", "goto two", "ideal maybe", "frame"])
def test_script_values_checked_when_read(line):
    with pytest.raises(ScriptError, match="script:1"):
        parse(line)


def test_binary_script_names_the_file(tmp_path):
    path = tmp_path / "demo.bin"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ScriptError, match="demo.bin"):
        load_script(path)


def test_failed_chip_step_does_not_break_later_ones():
    s = Session(random_model(), mnist.load("test", limit=3))
    with pytest.raises(ValueError):
        s.set_chip(seed=-5)
    with pytest.raises(ValueError):
        s.set_chip(s.config.with_(rows=32))  # the model's tiles do not fit 32 rows
    assert s.seed == 0 and s.config == ChipConfig()
    for step in parse("preset ideal\nknob cap_mismatch_sigma 0.05\nseed 3\nideal off"):
        apply(s, step)
    assert s.seed == 3 and s.config == ChipConfig()


class _FakePlayer:
    def set_speed(self, speed):
        pass

    def set_playing(self, playing):
        pass


def test_script_runs_at_most_one_chip_rebuild_per_tick():
    from convsram.gui.demo.script_runner import ScriptRunner

    s = Session(random_model(), mnist.load("test", limit=3))
    runner = ScriptRunner(parse("seed 1\nseed 2\nloop"), s, _FakePlayer())
    for expected in (1, 2, 1, 2):
        t0 = time.perf_counter()
        runner.advance(0.0)
        assert s.seed == expected
        assert time.perf_counter() - t0 < 1.0  # one rebuild, not 32


def test_a_failing_chip_step_at_run_time_leaves_the_script_working():
    from convsram.gui.demo.script_runner import ScriptRunner

    s = Session(random_model(), mnist.load("test", limit=3))
    # rows 32 parses (a valid config) but the model's tiles do not fit: it fails when it runs
    runner = ScriptRunner(parse("knob rows 32\npreset ideal\nseed 4\nknob cap_mismatch_sigma 0.05"), s,
                          _FakePlayer())
    for _ in range(10):
        runner.advance(0.0)
    assert len(runner.errors) == 1 and "rows" in runner.errors[0]
    assert s.seed == 4 and s.config == ChipConfig.ideal(cap_mismatch_sigma=0.05)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "fast", "1e999", "9" * 5000])
def test_settings_numbers_must_be_finite(tmp_path, text):
    from PySide6 import QtCore

    from convsram.gui.settings import read_float, read_int

    path = tmp_path / "s.ini"
    path.write_text(f"[General]\nspeed={text}\nimage={text}\n")
    store = QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)
    assert read_float(store, "speed", 100.0) == 100.0
    assert read_int(store, "image", 0) == 0


def test_demo_script_chip_steps_are_built_off_the_display_thread(monkeypatch):
    """The demo's runner builds a chip step's chip (and simulates the image on it) in a worker; the
    display thread only swaps it in, and the steps still take effect in order."""
    import threading

    from convsram.gui.demo.script_runner import ScriptRunner

    s = Session(random_model(), mnist.load("test", limit=3))
    built_on: list[str] = []
    make_chip = Session._make_chip

    def spy(self, config, seed):
        built_on.append(threading.current_thread().name)
        return make_chip(self, config, seed)

    monkeypatch.setattr(Session, "_make_chip", spy)
    runner = ScriptRunner(parse("seed 1\nknob cap_mismatch_sigma 0.05\nknob rows 32\nideal on\nseed 2"), s,
                          _FakePlayer(), background=True)
    seen = []
    deadline = time.perf_counter() + 30
    while not runner.finished and time.perf_counter() < deadline:
        runner.advance(0.0)
        seen.append((s.seed, s.config.cap_mismatch_sigma))
        time.sleep(0.002)
    runner.close()
    assert runner.finished
    assert s.seed == 2 and s.config.is_ideal()
    assert (1, 0.05) in seen  # the knob step ran after the seed step
    assert len(runner.errors) == 1 and "rows" in runner.errors[0]  # a failing build reports as before
    # every build ran in the worker, except the failing step's retry, which reports its error
    assert built_on and built_on.count(threading.main_thread().name) == 1
    assert s.is_simulated(s.image)  # the prebuilt image came with the chip
