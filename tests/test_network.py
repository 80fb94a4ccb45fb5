"""The network's exact forward pass, its helpers, and the model file."""

from __future__ import annotations

import json
import math
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from convsram.core import network
from convsram.core.mnist import DataError
from convsram.core.network import LayerSpec, Model
from convsram.core.paths import DEFAULT_MODEL


# --- tiles and architecture --------------------------------------------------------------------
def test_tile_bounds_fc_800() -> None:
    tiles = network.tile_bounds(800)
    sizes = [b - a for a, b in tiles]
    assert sizes == [62] * 7 + [61] * 6
    assert tiles[0][0] == 0 and tiles[-1][1] == 800
    assert all(tiles[i][1] == tiles[i + 1][0] for i in range(len(tiles) - 1))


@pytest.mark.parametrize("length, expected", [(1, [1]), (64, [64]), (65, [33, 32]), (144, [48, 48, 48]),
                                              (129, [43, 43, 43]), (130, [44, 43, 43])])
def test_tile_bounds_sizes(length: int, expected: list[int]) -> None:
    assert [b - a for a, b in network.tile_bounds(length)] == expected
    assert len(network.tile_bounds(length)) == math.ceil(length / 64)


def test_tile_bounds_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        network.tile_bounds(0)


def test_default_architecture_fits_the_array() -> None:
    layers = network.lenet_bw()
    network.check_architecture(layers)
    assert [s.rows for s in layers] == [25, 144, 800]
    assert layers[1].tiles == ((0, 48), (48, 96), (96, 144))  # tile t = kernel row ky = t
    assert [s.n_tiles for s in layers] == [1, 3, 13]
    assert sum(s.columns for s in layers) == 16 + 96 + 130 <= 256
    assert [s.mode for s in layers] == ["relu", "signed", "signed"]


def test_check_architecture_catches_bad_tiles() -> None:
    layers = network.lenet_bw()
    bad = LayerSpec("fc", "fc", 1, 800, 10, ((0, 400), (400, 800)), "signed")
    with pytest.raises(ValueError, match="tiles"):
        network.check_architecture([layers[0], layers[1], bad])


# --- arithmetic --------------------------------------------------------------------------------
def test_input_codes_round_half_up() -> None:
    pix = np.arange(256, dtype=np.uint8)
    codes = network.input_codes(pix)
    expected = [math.floor(Fraction(int(p) * 127, 255) + Fraction(1, 2)) for p in pix]
    assert codes.tolist() == expected
    assert codes.tolist() == ((pix.astype(int) * 127 + 127) // 255).tolist()
    with pytest.raises(ValueError):
        network.input_codes(pix.astype(np.float32))


def test_adc_codes_integer_and_float_agree() -> None:
    s = np.arange(-3000, 3001)
    for step in (1, 3, 7, 15):
        exact = [min(127, max(-127, math.floor(Fraction(int(v), step) + Fraction(1, 2)))) for v in s]
        assert network.adc_codes(s, step, "signed").tolist() == exact
        assert np.array_equal(network.adc_codes(s.astype(np.float64), step, "signed"), exact)
    relu = network.adc_codes(s, 7, "relu")
    assert relu.min() == 0 and relu.max() == 127


def test_im2col_order() -> None:
    x = np.arange(2 * 5 * 5 * 3).reshape(2, 5, 5, 3)
    cols = network.im2col(x, 3)
    assert cols.shape == (2, 3, 3, 27)
    b, oy, ox = 1, 2, 1
    expected = [x[b, oy + ky, ox + kx, c] for ky in range(3) for kx in range(3) for c in range(3)]
    assert cols[b, oy, ox].tolist() == expected


# --- forward against a brute-force loop --------------------------------------------------------
def tiny_model(seed: int = 0) -> Model:
    rng = np.random.default_rng(seed)
    layers = [
        LayerSpec("conv1", "conv", 5, 1, 2, ((0, 25),), "relu", 2),
        LayerSpec("conv2", "conv", 3, 2, 3, ((0, 6), (6, 12), (12, 18)), "signed", 2),
        LayerSpec("fc", "fc", 1, 75, 10, tuple(network.tile_bounds(75, 40)), "signed", 0),
    ]
    return Model(layers=layers,
                 weights=[rng.choice([-1, 1], (s.rows, s.out_channels)) for s in layers],
                 alpha=[rng.uniform(0.3, 1.5, s.out_channels) for s in layers],
                 beta=[rng.uniform(-20, 20, s.out_channels) for s in layers],
                 adc_step=[5, 9, 13])


def brute_force(model: Model, codes: np.ndarray) -> tuple[list[float], dict[str, np.ndarray]]:
    """One image, Python integers and loops, straight from the written semantics."""
    def adc(s: int, step: int, mode: str) -> int:
        lo = 0 if mode == "relu" else -127
        return min(127, max(lo, (2 * s + step) // (2 * step)))

    a = codes.astype(int)[:, :, None]
    rec: dict[str, np.ndarray] = {}
    for li, spec in enumerate(model.layers):
        w = model.weights[li].astype(int)
        al, be = model.alpha[li].astype(np.float64), model.beta[li].astype(np.float64)
        if li == len(model.layers) - 1:  # the fc layer: class scores
            x = a.reshape(-1)
            p = [sum(adc(int(x[r0:r1] @ w[r0:r1, f]), model.adc_step[li], spec.mode) for r0, r1 in spec.tiles)
                 for f in range(spec.out_channels)]
            return [float(al[f] * p[f] + be[f]) for f in range(spec.out_channels)], rec
        k = spec.kernel
        o = a.shape[0] - k + 1
        act = np.zeros((o, o, spec.out_channels), dtype=int)
        for y in range(o):
            for xx in range(o):
                field = [a[y + ky, xx + kx, c]
                         for ky in range(k) for kx in range(k) for c in range(a.shape[2])]
                for f in range(spec.out_channels):
                    p = 0
                    for r0, r1 in spec.tiles:
                        p += adc(sum(int(field[r]) * int(w[r, f]) for r in range(r0, r1)), model.adc_step[li],
                                 spec.mode)
                    act[y, xx, f] = min(127, max(0, math.floor(float(al[f]) * p + float(be[f]) + 0.5)))
        h = o // 2
        pooled = np.array([[[max(act[2 * y + dy, 2 * x + dx, f] for dy in (0, 1) for dx in (0, 1))
                             for f in range(spec.out_channels)] for x in range(h)] for y in range(h)])
        rec[f"{spec.name}.act"], rec[f"{spec.name}.out"], rec[f"pool{li + 1}.out"] = act, act, pooled
        a = pooled
    raise AssertionError("no fc layer")


def test_forward_matches_brute_force() -> None:
    model = tiny_model()
    model.validate()
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 128, (2, 28, 28))
    codes[1, :10] = 0  # some blank area
    rec: dict[str, np.ndarray] = {}
    scores = network.forward(model, codes, record=rec, batch_size=1)
    assert scores.shape == (2, 10) and scores.dtype == np.float64
    for b in range(2):
        z, brute = brute_force(model, codes[b])
        assert scores[b].tolist() == z
        for key, value in brute.items():
            assert np.array_equal(rec[key][b], value), key
    assert rec["conv1.out"].dtype == np.uint8 and rec["conv1.P"].shape == (2, 24, 24, 2)


def test_forward_uses_the_pluggable_partial_codes() -> None:
    model = tiny_model()
    calls: list[tuple[int, int, tuple[int, ...]]] = []
    exact = network.exact_partial_codes(model)

    def spy(layer: int, tile: int, x: np.ndarray) -> np.ndarray:
        calls.append((layer, tile, x.shape))
        return exact(layer, tile, x)

    codes = np.random.default_rng(2).integers(0, 128, (3, 28, 28))
    assert np.array_equal(network.forward(model, codes, spy), network.forward(model, codes))
    assert calls[:5] == [(0, 0, (3 * 576, 25)), (1, 0, (300, 6)), (1, 1, (300, 6)), (1, 2, (300, 6)),
                         (2, 0, (3, 38))]


def test_forward_rejects_bad_input() -> None:
    model = tiny_model()
    with pytest.raises(ValueError):
        network.forward(model, np.zeros((1, 27, 28), dtype=int))
    with pytest.raises(ValueError):
        network.forward(model, np.full((1, 28, 28), 128))
    assert network.forward(model, np.zeros((0, 28, 28), dtype=int)).shape == (0, 10)


def test_op_counts_default() -> None:
    counts = network.op_counts(network.lenet_bw())
    assert [c.macs for c in counts] == [576 * 25 * 16, 100 * 144 * 32, 800 * 10]
    assert [c.conversions for c in counts] == [576 * 16, 100 * 3 * 32, 13 * 10]
    assert [c.tile_adds for c in counts] == [0, 100 * 2 * 32, 12 * 10]
    assert [c.pool_compares for c in counts] == [144 * 16 * 3, 25 * 32 * 3, 0]
    assert [c.argmax_compares for c in counts] == [0, 0, 9]
    assert counts[0].requant_mults == counts[0].requant_adds == 576 * 16


# --- the model file ----------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path: Path) -> None:
    model = tiny_model()
    model.training = {"seed": 3, "note": "tiny"}
    path = network.save_model(model, tmp_path / "m.npz")
    back = network.load_model(path)
    assert back.layers == model.layers and back.training == model.training
    for name in ("weights", "alpha", "beta"):
        for x, y in zip(getattr(model, name), getattr(back, name), strict=True):
            assert x.dtype == y.dtype and np.array_equal(x, y)
    assert back.adc_step == model.adc_step
    codes = np.random.default_rng(0).integers(0, 128, (2, 28, 28))
    assert np.array_equal(network.forward(model, codes), network.forward(back, codes))


def _rewrite(src: Path, dst: Path, **changes: np.ndarray) -> Path:
    with np.load(src) as z:
        data = {k: z[k] for k in z.files}
    data.update(changes)
    np.savez(dst, **data)
    return dst


@pytest.mark.parametrize("case, match", [
    ("missing", "not found"),
    ("truncated", "corrupt"),
    ("not_zip", "corrupt"),
    ("version", "version 3"),
    ("format", "format"),
    ("not_pm1", r"\+1 or -1"),
    ("shape", "shape"),
    ("alpha", "alpha"),
    ("step", "odd"),
    ("missing_key", "missing key"),
    ("arch_json", "graph node 0"),
])
def test_corrupt_model_files(tmp_path: Path, case: str, match: str) -> None:
    good = network.save_model(tiny_model(), tmp_path / "good.npz")
    bad = tmp_path / f"bad-{case}.npz"
    if case == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif case == "not_zip":
        bad.write_text("hello")
    elif case == "version":
        _rewrite(good, bad, version=np.array(3))
    elif case == "format":
        _rewrite(good, bad, format=np.array("something-else"))
    elif case == "not_pm1":
        w = np.ones((25, 2), np.int8)
        w[3, 1] = 0
        _rewrite(good, bad, **{"conv1.weights": w})
    elif case == "shape":
        _rewrite(good, bad, **{"conv2.weights": np.ones((17, 3), np.int8)})
    elif case == "alpha":
        _rewrite(good, bad, **{"fc.alpha": np.ones(9, np.float32)})
    elif case == "step":
        _rewrite(good, bad, **{"fc.adc_step": np.array(4)})
    elif case == "missing_key":
        with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
            for item in zin.namelist():
                if item != "fc.beta.npy":
                    zout.writestr(item, zin.read(item))
    elif case == "arch_json":
        _rewrite(good, bad, graph=np.array(json.dumps([{"name": "conv1"}])))
    with pytest.raises(DataError, match=match) as info:
        network.load_model(bad)
    message = str(info.value)
    assert str(bad) in message and "\n" not in message


# --- the shipped model -------------------------------------------------------------------------
@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="shipped model not present")
def test_shipped_model_loads_and_fits() -> None:
    model = network.load_model(DEFAULT_MODEL)
    assert model.columns <= 256
    assert all(b - a <= 64 for spec in model.layers for a, b in spec.tiles)
    assert all(s % 2 == 1 for s in model.adc_step)
    assert DEFAULT_MODEL.stat().st_size < 100_000
