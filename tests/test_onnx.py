"""ONNX: the exported exact path run by onnxruntime equals the ideal chip; convsram's own export imports
back exactly; a network trained in PyTorch (tools/make_onnx_fixtures.py) imports in every weight form
and runs on the ideal chip within 0.5 points of its own float accuracy; bad files are one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from convsram.cli import main
from convsram.core import mnist, network
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.paths import DEFAULT_MODEL
from tests.graphs import random_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from convsram.core.onnx_export import export_model  # noqa: E402
from convsram.core.onnx_import import import_onnx  # noqa: E402

DATA = Path(__file__).parent / "data" / "onnx"
FIXTURE = json.loads((DATA / "bnn.json").read_text())
NORMALIZE = tuple(FIXTURE["normalize"])


def run_onnx(path: Path, images: np.ndarray) -> np.ndarray:
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: images[:, None].astype(np.float32)})[0]


def same_model(a: network.Model, b: network.Model) -> bool:
    return a.graph == b.graph and a.adc_step == b.adc_step and all(
        np.array_equal(x, y) for name in ("weights", "alpha", "beta")
        for x, y in zip(getattr(a, name), getattr(b, name), strict=True))


@pytest.fixture(scope="module")
def test_set() -> mnist.Split:
    return mnist.load("test")


def test_exported_lenet_in_onnxruntime_equals_the_ideal_chip(tmp_path: Path, test_set: mnist.Split) -> None:
    """2,000 images here (10,000 take ~30 s in onnxruntime on this machine; `tools/onnx_check.py`)."""
    model = network.load_model(DEFAULT_MODEL)
    path = export_model(model, tmp_path / "lenet.onnx")
    images = test_set.images[:2000]
    scores = run_onnx(path, images)
    np.testing.assert_array_equal(scores, network.forward(model, network.input_codes(images)))
    chip = Chip(ChipConfig.ideal())
    amap, _ = programmed_chip(model, chip)
    ideal = network.forward(model, network.input_codes(images), ChipEvaluator(chip, model, amap))
    np.testing.assert_array_equal(scores.argmax(1), ideal.argmax(1))


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_export_exactly(tmp_path: Path, seed: int, test_set: mnist.Split) -> None:
    """Strides, padding, average pools, residual adds, flatten, hidden fc: bit for bit in onnxruntime."""
    model = random_model(seed)
    path = export_model(model, tmp_path / "m.onnx")
    images = test_set.images[:40]
    np.testing.assert_array_equal(run_onnx(path, images), network.forward(model, network.input_codes(images)))
    assert same_model(import_onnx(path, images[:1]), model)  # import(export(m)) == m


def test_lenet_round_trips(tmp_path: Path) -> None:
    model = network.load_model(DEFAULT_MODEL)
    back = import_onnx(export_model(model, tmp_path / "l.onnx"), np.zeros((1, 28, 28), np.uint8))
    assert same_model(back, model)


@pytest.mark.parametrize("form", ["pm_alpha", "sign", "bipolar"])
def test_a_pytorch_network_imports_in_every_weight_form(form: str, test_set: mnist.Split) -> None:
    calib = mnist.load("train", limit=500).images
    model = import_onnx(DATA / f"bnn-{form}.onnx", calib, normalize=NORMALIZE)
    acc = float(np.mean(network.predict(model, test_set.images) == test_set.labels))
    assert acc >= FIXTURE["float_accuracy"] - 0.005, (acc, FIXTURE["float_accuracy"])
    chip = Chip(ChipConfig.ideal())  # the ideal chip gives the exact path's answers
    amap, _ = programmed_chip(model, chip)
    x = network.input_codes(test_set.images[:500])
    np.testing.assert_array_equal(network.forward(model, x, ChipEvaluator(chip, model, amap)),
                                  network.forward(model, x))


def test_all_forms_give_one_model() -> None:
    calib = mnist.load("train", limit=200).images
    models = [import_onnx(DATA / f"bnn-{f}.onnx", calib, normalize=NORMALIZE) for f in ("sign", "bipolar")]
    assert same_model(*models)


def test_float_weights_need_binarize(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "f.npz"
    assert main(["import", str(DATA / "bnn-float.onnx"), "--out", str(out), "--calibration-images", "100",
                 "--check", "0"]) == 2
    err = capsys.readouterr().err
    assert "not binary" in err and "--binarize" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert main(["import", str(DATA / "bnn-float.onnx"), "--out", str(out), "--calibration-images", "100",
                 "--normalize", "0.1307,0.3081", "--binarize", "--check", "500"]) == 0
    cap = capsys.readouterr()
    assert "accuracy will drop" in cap.err and "wrote" in cap.out and out.is_file()


def test_import_and_export_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    npz, onnx_out = tmp_path / "m.npz", tmp_path / "m.onnx"
    assert main(["import", str(DATA / "bnn-bipolar.onnx"), "--out", str(npz), "--calibration-images", "200",
                 "--normalize", "0.1307,0.3081", "--check", "1000"]) == 0
    assert "accuracy on 1,000 test images" in capsys.readouterr().out
    assert main(["export", str(npz), "--out", str(onnx_out)]) == 0
    assert same_model(import_onnx(onnx_out, np.zeros((1, 28, 28), np.uint8)), network.load_model(npz))


def _tiny(tmp_path: Path, op: str = "Relu", channels: int = 1) -> Path:
    h = onnx.helper
    w = onnx.numpy_helper.from_array(np.ones((10, channels * 784), np.float32), "W")
    nodes = [h.make_node("Flatten", ["x"], ["f"]), h.make_node("Gemm", ["f", "W"], ["g"], transB=1),
             h.make_node(op, ["g"], ["y"])]
    x = h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, channels, 28, 28])
    y = h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 10])
    g = h.make_graph(nodes, "tiny", [x], [y], [w])
    path = tmp_path / f"tiny-{op}-{channels}.onnx"
    onnx.save(h.make_model(g), str(path))
    return path


@pytest.mark.parametrize("case, match", [("op", "op Tanh is not supported"),
                                         ("channels", "single-channel 28x28"),
                                         ("missing", "not found"), ("garbage", "not an ONNX model")])
def test_bad_files_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str,
                                           match: str) -> None:
    path = {"op": lambda: _tiny(tmp_path, "Tanh"), "channels": lambda: _tiny(tmp_path, channels=3),
            "missing": lambda: tmp_path / "none.onnx",
            "garbage": lambda: (tmp_path / "g.onnx").write_text("hello") and tmp_path / "g.onnx"}[case]()
    assert main(["import", str(path), "--out", str(tmp_path / "o.npz"), "--calibration-images", "10"]) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1
