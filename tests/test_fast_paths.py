"""The fast whole-layer paths give exactly what the plain tile-by-tile paths give: every score, every
ledger entry, on random graphs (negative alphas included), the shipped models and noisy chips."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from convsram.core import network
from convsram.core.chip import Chip, abs_sum
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.layers import arith
from convsram.core.mnist import load
from convsram.core.network import Model, load_model
from convsram.core.noise import KeyedNoise
from convsram.core.paths import MODELS_DIR
from tests.graphs import random_model

SEEDS = range(10)
NOISY = ChipConfig(comparator_noise_sigma=2e-3)  # codes move, predictions flip


@pytest.fixture(scope="module")
def codes() -> np.ndarray:
    return network.input_codes(load("test", limit=20).images)


def tile_by_tile(provider: Any) -> Any:
    """The same provider without its whole-layer method: forward goes tile by tile, requantises with
    arith.requantise and runs each max-pool node on its own."""
    return lambda layer, tile, x: provider(layer, tile, x)


def with_negative_alphas(model: Model, seed: int) -> Model:
    rng = np.random.default_rng(seed)
    model.alpha = [np.where(rng.random(a.shape) < 0.4, -a, a).astype(np.float32) for a in model.alpha]
    return model


@pytest.mark.parametrize("seed", SEEDS)
def test_exact_fast_path_equals_tile_by_tile(codes: np.ndarray, seed: int) -> None:
    model = with_negative_alphas(random_model(seed), seed)
    plain = network.forward(model, codes, tile_by_tile(network.exact_partial_codes(model)), record={})
    np.testing.assert_array_equal(network.forward(model, codes, batch_size=7), plain)
    rec: dict[str, np.ndarray] = {}
    np.testing.assert_array_equal(network.forward(model, codes, record=rec), plain)


def _chip_run(model: Model, codes: np.ndarray, config: ChipConfig, seed: int, fast: bool,
              keyed: bool) -> tuple[np.ndarray, ChipEvaluator]:
    chip = Chip(config, seed)
    amap, _ = programmed_chip(model, chip)
    rng = KeyedNoise(seed) if keyed else None
    ev = ChipEvaluator(chip, model, amap, rng=rng)
    out = []
    for start in range(0, len(codes), 8):
        part = codes[start:start + 8]
        if isinstance(rng, KeyedNoise):
            rng.begin(start, len(part))
        out.append(network.forward(model, part, ev if fast else tile_by_tile(ev), config=config))
    return np.concatenate(out), ev


def _same_ledgers(a: ChipEvaluator, b: ChipEvaluator) -> None:
    for la, lb in zip(a.ledger, b.ledger, strict=True):
        assert la.energy_pj == lb.energy_pj  # exactly: the same sums in the same order
        assert (la.invocations, la.time_ns) == (lb.invocations, lb.time_ns)


@pytest.mark.parametrize("seed", SEEDS[:6])
@pytest.mark.parametrize("keyed", [True, False])
def test_chip_fast_path_equals_tile_by_tile(codes: np.ndarray, seed: int, keyed: bool) -> None:
    model = with_negative_alphas(random_model(seed), seed)
    fast, ev_fast = _chip_run(model, codes, NOISY, seed, True, keyed)
    plain, ev_plain = _chip_run(model, codes, NOISY, seed, False, keyed)
    np.testing.assert_array_equal(fast, plain)
    _same_ledgers(ev_fast, ev_plain)


@pytest.mark.parametrize("name", ["lenet-bw", "resnet-bw"])
def test_shipped_models_fast_chip_path_equals_tile_by_tile(codes: np.ndarray, name: str) -> None:
    """The deeper model runs in phases (weights rewritten per batch): the same ledger either way."""
    model = load_model(MODELS_DIR / f"{name}.npz")
    harsh = ChipConfig(comparator_noise_sigma=3e-3, comparator_offset_sigma=4e-3)
    fast, ev_fast = _chip_run(model, codes, harsh, 3, True, True)
    plain, ev_plain = _chip_run(model, codes, harsh, 3, False, True)
    np.testing.assert_array_equal(fast, plain)
    _same_ledgers(ev_fast, ev_plain)


def test_abs_sum_is_exact_beyond_float32() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(-127, 128, (3, 400_000)).astype(np.float32)  # |sum| far beyond 2^24
    assert abs_sum(codes, 127) == float(np.abs(codes).sum(dtype=np.float64))
    relu = np.abs(codes)
    assert abs_sum(relu, 127, signed=False) == float(relu.sum(dtype=np.float64))


@pytest.mark.parametrize("channels,tiles", [(16, ((0, 48), (48, 96), (96, 144))),
                                            (32, ((0, 58), (58, 116), (116, 174), (174, 231), (231, 288)))])
def test_tile_patches_are_the_patches_cut_into_tiles(channels: int, tiles: tuple[tuple[int, int], ...]
                                                     ) -> None:
    x = np.random.default_rng(1).integers(0, 128, (3, 7, 7, channels)).astype(np.uint8)
    add = np.arange(9 * channels, dtype=np.uint16)
    for stride, pad in ((1, 1), (2, 0)):
        whole = arith.im2col(x, 3, stride, pad).reshape(-1, 9 * channels)
        parts = arith.im2col_tiles(x, 3, stride, pad, tiles, np.uint16, add)
        for (r0, r1), part in zip(tiles, parts, strict=True):
            assert part.flags.c_contiguous
            np.testing.assert_array_equal(part, whole[:, r0:r1] + add[r0:r1])


@pytest.mark.parametrize("name", ["lenet-bw", "resnet-bw"])
def test_results_do_not_depend_on_the_thread_count(monkeypatch: pytest.MonkeyPatch, codes: np.ndarray,
                                                  name: str) -> None:
    model = load_model(MODELS_DIR / f"{name}.npz")
    runs = []
    for threads in ("1", "3"):
        monkeypatch.setenv("CONVSRAM_THREADS", threads)
        exact = network.forward(model, codes, batch_size=7)
        scores, ev = _chip_run(model, codes, NOISY, 2, True, True)
        runs.append((exact, scores, ev))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    _same_ledgers(runs[0][2], runs[1][2])


def test_spans_cover_whole_units() -> None:
    from convsram.core.threads import spans

    for total, unit, most in ((1000, 1, 128), (500 * 576, 576, 16384), (10, 10, 5), (7, 1, 100)):
        s = spans(total, unit, most)
        assert s[0][0] == 0 and s[-1][1] == total
        assert all(a < b and a % unit == 0 and b - a <= max(most, unit) for a, b in s)
        assert all(s[i][1] == s[i + 1][0] for i in range(len(s) - 1))
