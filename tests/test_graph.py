"""Networks as graphs of layer objects: the registry, the version-2 model file, version-1 files giving
bit-identical results, and random graphs bit-exact between the integer path, the trainer and the
ideal chip."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convsram.core import network, train
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.layers import FC, REGISTRY, Add, Conv, Flatten, Graph, MaxPool, Node, register
from convsram.core.layers.base import RunContext
from convsram.core.mnist import DataError, load
from convsram.core.paths import DEFAULT_MODEL
from tests.graphs import random_model

SEEDS = range(12)


@pytest.fixture(scope="module")
def codes() -> np.ndarray:
    return network.input_codes(load("test", limit=24).images)


# --- version 1 and version 2 files ---------------------------------------------------------------
def test_shipped_lenet_v1_and_v2_give_identical_codes_and_predictions(tmp_path: Path) -> None:
    with np.load(DEFAULT_MODEL) as z:
        assert int(z["version"]) == 1  # the shipped file is a version-1 file: this reads it
    v1 = network.load_model(DEFAULT_MODEL)
    assert [n.name for n in v1.graph.nodes] == ["conv1", "pool1", "conv2", "pool2", "fc"]
    path = network.save_model(v1, tmp_path / "lenet-v2.npz")
    with np.load(path) as z:
        assert int(z["version"]) == 2 and "graph" in z.files and "architecture" not in z.files
    v2 = network.load_model(path)
    assert v2.graph == v1.graph and v2.layers == v1.layers
    data = load("test", limit=2000)
    x = network.input_codes(data.images)
    rec1: dict[str, np.ndarray] = {}
    rec2: dict[str, np.ndarray] = {}
    s1, s2 = network.forward(v1, x, record=rec1), network.forward(v2, x, record=rec2)
    np.testing.assert_array_equal(s1, s2)
    assert rec1.keys() == rec2.keys()
    for key in rec1:
        np.testing.assert_array_equal(rec1[key], rec2[key])
    chip1, chip2 = Chip(ChipConfig.ideal()), Chip(ChipConfig.ideal())
    c1 = network.forward(v1, x[:300], ChipEvaluator(chip1, v1, programmed_chip(v1, chip1)[0]))
    c2 = network.forward(v2, x[:300], ChipEvaluator(chip2, v2, programmed_chip(v2, chip2)[0]))
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(c1, s1[:300])


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_round_trips_through_a_v2_file(tmp_path: Path, seed: int) -> None:
    model = random_model(seed)
    back = network.load_model(network.save_model(model, tmp_path / "m.npz"))
    assert back.graph == model.graph
    for name in ("weights", "alpha", "beta", "adc_step"):
        for a, b in zip(getattr(model, name), getattr(back, name), strict=True):
            np.testing.assert_array_equal(a, b)


# --- bit-exactness on random graphs ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_ideal_chip_equals_exact_path(codes: np.ndarray, seed: int) -> None:
    model = random_model(seed)
    chip = Chip(ChipConfig.ideal(), seed=seed)
    amap, _ = programmed_chip(model, chip)
    rec_int: dict[str, np.ndarray] = {}
    rec_chip: dict[str, np.ndarray] = {}
    ref = network.forward(model, codes, record=rec_int, batch_size=7)
    out = network.forward(model, codes, ChipEvaluator(chip, model, amap), record=rec_chip)
    np.testing.assert_array_equal(out, ref)
    assert rec_int.keys() == rec_chip.keys()
    for key in rec_int:
        np.testing.assert_array_equal(rec_chip[key], rec_int[key], err_msg=key)
    # the graph does something: some activations are neither all zero nor all saturated
    acts = [v for k, v in rec_int.items() if k.endswith(".act")]
    assert any(0 < v.mean() < 127 for v in acts)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_trainer_eval_forward_equals_exact_path(codes: np.ndarray, seed: int) -> None:
    model = random_model(seed)
    rec_net: dict[str, np.ndarray] = {}
    rec_train: dict[str, np.ndarray] = {}
    z_net = network.forward(model, codes, record=rec_net)
    z_train, _ = train.Trainer.from_model(model).forward(codes, record=rec_train)
    np.testing.assert_array_equal(z_net, z_train)
    for key, value in rec_train.items():
        np.testing.assert_array_equal(rec_net[key], value, err_msg=key)


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_random_graph_trains(seed: int) -> None:
    """A training step runs on every kind and its gradients have the parameters' shapes."""
    model = random_model(seed)
    t = train.Trainer.from_model(model)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 128, (6, 28, 28))
    z, caches = t.forward(x, train=True, rng=rng, noise=0.5)
    grads = t.backward(caches, train.cross_entropy(z, np.arange(6))[1])
    for key, g in grads.items():
        assert g.shape == t.params[key].shape and np.isfinite(g).all()
    assert any(np.abs(grads[f"w{i}"]).sum() > 0 for i in range(len(model.layers)))


# --- the registry and the rules ---------------------------------------------------------------------
def test_every_kind_is_registered_once() -> None:
    assert {"conv", "fc", "maxpool", "avgpool", "add", "flatten"} <= set(REGISTRY)
    with pytest.raises(ValueError, match="twice"):
        register(MaxPool)


def test_a_new_kind_is_one_class_and_its_registration() -> None:
    @dataclass(frozen=True)
    class Halve(Node):
        kind = "halve-test"

        def out_shape(self, shapes: Any) -> Any:
            return shapes[0]

        def forward(self, xs: list[np.ndarray], ctx: RunContext) -> np.ndarray:
            return xs[0] // 2

    register(Halve)
    try:
        nodes = [Conv("c", ("input",), 1, 2, ((0, 9),), "relu", 3), Halve("h", ("c",)),
                 FC("fc", ("h",), 26 * 26 * 2, 10, tuple(network.tile_bounds(26 * 26 * 2)), "signed")]
        rng = np.random.default_rng(0)
        model = network.Model(nodes, [rng.choice([-1, 1], (s.rows, s.out_channels)) for s in nodes[::2]],
                              [np.ones(2), np.ones(10)], [np.zeros(2), np.zeros(10)], [3, 21])
        rec: dict[str, np.ndarray] = {}
        network.forward(model, np.full((1, 28, 28), 100), record=rec)
        np.testing.assert_array_equal(rec["h.out"], rec["c.out"] // 2)
        back = network.Model([REGISTRY[d["kind"]].from_dict(d, "node") for d in model.graph.to_list()],
                             model.weights, model.alpha, model.beta, model.adc_step)
        assert back.graph == model.graph
    finally:
        del REGISTRY["halve-test"]


@pytest.mark.parametrize("nodes, match", [
    ([FC("fc", ("nowhere",), 784, 10, ((0, 64),), "signed")], "not an earlier node"),
    ([Conv("c", ("input",), 1, 4, ((0, 9),), "relu", 3), Add("a", ("c", "input")), Flatten("f", ("a",)),
      FC("fc", ("f",), 2704, 10, tuple(network.tile_bounds(2704)), "signed")], "differ in shape"),
    ([Conv("c", ("input",), 1, 4, ((0, 9),), "relu", 3)], "last node"),
    ([Conv("c", ("input",), 2, 4, ((0, 18),), "relu", 3)], "2 channels"),
    ([Conv("c", ("input",), 1, 4, ((0, 9),), "relu", 3), Conv("d", ("input",), 1, 4, ((0, 9),), "relu", 3),
      Flatten("f", ("d",)), FC("fc", ("f",), 2704, 10, tuple(network.tile_bounds(2704)), "signed")],
     "output of c is never used"),
    ([FC("fc", ("input",), 784, 10, ((0, 700), (700, 784)), "signed")], "tiles"),
])
def test_graph_rules_are_one_line_errors(nodes: list[Node], match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        Graph(nodes)
    assert "\n" not in str(info.value)


def test_bad_graph_json_in_a_file_is_a_data_error(tmp_path: Path) -> None:
    good = network.save_model(random_model(0), tmp_path / "good.npz")
    with np.load(good) as z:
        data = {k: z[k] for k in z.files}
    graph = json.loads(str(data["graph"]))
    for change, match in ((lambda g: g[0].update(kind="lstm"), "kind 'lstm'"),
                          (lambda g: g[0].update(stride=1.5), "stride must be an integer"),
                          (lambda g: g[-1].update(inputs=["input", 3]), "inputs"),
                          (lambda g: g[0].update(colour="red"), "unknown field")):
        bad_graph = json.loads(json.dumps(graph))
        change(bad_graph)
        data["graph"] = np.array(json.dumps(bad_graph))
        np.savez(tmp_path / "bad.npz", **data)
        with pytest.raises(DataError, match=match):
            network.load_model(tmp_path / "bad.npz")


def test_op_counts_book_digital_nodes_to_the_layer_before() -> None:
    from convsram.core.architectures import resnet_bw

    counts = network.op_counts(resnet_bw())
    assert counts[0].pool_compares == 12 * 12 * 16 * 3  # pool0 after conv0
    assert counts[2].residual_adds == 12 * 12 * 16  # add1 after conv1b
    assert counts[-2].pool_adds == 3 * 3 * 32 * 4 and counts[-1].argmax_compares == 9


def test_the_shipped_deeper_model_is_a_residual_graph() -> None:
    from convsram.core.layers import Add as AddNode

    path = DEFAULT_MODEL.with_name("resnet-bw.npz")
    with np.load(path) as z:
        assert int(z["version"]) == 2
    model = network.load_model(path)
    assert len(model.layers) >= 8 and sum(isinstance(n, AddNode) for n in model.graph.nodes) >= 2
    data = load("test", limit=500)
    assert np.mean(network.predict(model, data.images) == data.labels) > 0.98
