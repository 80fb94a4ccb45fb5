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


@pytest.mark.parametrize("channels", [1, 3, 16])
def test_conv_tile_patches_are_the_patches_cut_into_tiles(channels: int) -> None:
    from convsram.core.layers import Conv
    from convsram.core.network import tile_bounds

    x = np.random.default_rng(1).integers(0, 128, (3, 9, 9, channels)).astype(np.uint8)
    rows = 9 * channels
    for stride, pad in ((1, 1), (2, 0), (2, 1)):
        tiles = tuple(tile_bounds(rows, max(1, rows // 3)))
        conv = Conv("c", ("input",), channels, 4, tiles, "relu", 3, stride, pad)
        win = np.lib.stride_tricks.sliding_window_view(np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0))),
                                                       (3, 3), axis=(1, 2))[:, ::stride, ::stride]
        whole = win.transpose(0, 1, 2, 4, 5, 3).reshape(-1, rows)  # (ky, kx, c) order
        for dtype in (np.uint16, np.float32):
            parts, _ = conv.tile_patches(x, dtype)
            for (r0, r1), part in zip(tiles, parts, strict=True):
                assert part.flags.c_contiguous and part.dtype == dtype
                np.testing.assert_array_equal(part, whole[:, r0:r1].astype(dtype))


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


def test_keyed_draws_are_splitmix_of_image_and_counter() -> None:
    """The keyed stream's definition (core/noise.py), high counters included: word w of image i is
    SplitMix64((i << 40 | w) + key); the fast path must not change a single draw."""
    keyed = KeyedNoise(12345)
    keyed.begin(10**6, 7)
    keyed.used = (1 << 40) - 5000
    draw = keyed.reserve((3, 7 * 100))
    x = (keyed.images[:, None] << np.uint64(40)) | (np.uint64(draw[1]) + np.arange(draw[2], dtype=np.uint64))
    x += keyed.key
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    want = x.view(np.uint16)[:, :300].reshape(7, 3, 100).transpose(1, 0, 2)
    np.testing.assert_array_equal(keyed.block(draw, 0, 7), want)
    np.testing.assert_array_equal(keyed.block(draw, 2, 5), want[:, 2:5])


def test_bulk_plans_follow_the_weights_written() -> None:
    """Plans are cached on their columns' weights: rewriting other weights (or fewer rows) into the
    same columns gives what a chip holding only those weights gives."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, 128, (50, 40))
    cols = np.arange(8) * 16
    w1, w2 = (rng.choice(np.array([-1, 1]), (40, 8)) for _ in range(2))
    chip = Chip(NOISY, 1)
    chip.program(w1, cols)
    chip.invoke_batch(x, cols, detail=False)
    for w in (w2, w1[:30]):
        chip.program(w, cols)
        fresh = Chip(NOISY, 1)
        fresh.program(w, cols)
        xs = x[:, :len(w)]
        got = chip.invoke_batch(xs, cols, detail=False, rng=np.random.default_rng(0))
        want = fresh.invoke_batch(xs, cols, detail=False, rng=np.random.default_rng(0))
        np.testing.assert_array_equal(got.codes, want.codes)
        assert got.energy_pj == want.energy_pj
    with pytest.raises(ValueError, match="programmed rows"):
        chip.invoke_batch(x, cols, detail=False)  # 40 rows driven, 30 written


@pytest.mark.parametrize("tiles", [((0, 48), (48, 96), (96, 144)),
                                   ((0, 30), (30, 100), (100, 101), (101, 144))])
def test_im2col_tiles_are_the_patches_cut_into_tiles(tiles: tuple[tuple[int, int], ...]) -> None:
    """Tiles of whole kernel rows and tiles that cut kernel rows and cells anywhere."""
    from convsram.core.layers import arith

    x = np.random.default_rng(2).integers(0, 128, (2, 7, 8, 16)).astype(np.uint8)
    for stride, pad in ((1, 1), (2, 0), (2, 1)):
        whole = arith.im2col(x, 3, stride, pad).reshape(-1, 144)
        for dtype in (np.float32, np.uint16):
            parts = arith.im2col_tiles(x, 3, stride, pad, tiles, dtype)
            for (r0, r1), part in zip(tiles, parts, strict=True):
                assert part.flags.c_contiguous
                np.testing.assert_array_equal(part, whole[:, r0:r1].astype(dtype))


def test_chip_path_refuses_codes_beyond_its_dac(codes: np.ndarray) -> None:
    """A forward without the chip's config checks codes against 7 b; the chip (5 b here) still says no."""
    model = load_model(MODELS_DIR / "lenet-bw.npz")
    config = ChipConfig(input_bits=5)
    chip = Chip(config, 0)
    amap, _ = programmed_chip(model, chip)
    with pytest.raises(ValueError, match="0..31"):
        network.forward(model, codes, ChipEvaluator(chip, model, amap))


@pytest.mark.parametrize("channels, size, stride", [(16, 5, 1), (32, 4, 1), (16, 9, 2), (3, 6, 1)])
def test_exact_layer_codes_are_the_integer_adc_codes(channels: int, size: int, stride: int) -> None:
    """The exact path's whole-layer codes (w / step folded into float32 weights, the patches in one
    pass or per tile) are clip(round_half_up(S / step)) of the integer tile sums: extreme uint8 inputs,
    tiles of up to FOLD_ROWS rows, small and huge odd steps."""
    from types import SimpleNamespace

    from convsram.core.layers import Conv, arith
    from convsram.core.network import FOLD_ROWS, ExactPartialCodes, tile_bounds

    rng = np.random.default_rng(channels + size)
    rows = 9 * channels
    x = rng.choice(np.array([0, 1, 127, 128, 254, 255], np.uint8), (5, size, size, channels))
    for most in (rows, FOLD_ROWS, 64, 17):
        tiles = tuple(tile_bounds(rows, min(most, FOLD_ROWS)))
        for step in (1, 3, 17, 101, 40_001):
            for mode in ("relu", "signed"):
                conv = Conv("c", ("input",), channels, 6, tiles, mode, 3, stride, 1)
                w = rng.choice(np.array([-1, 1], np.int8), (rows, 6))
                model = SimpleNamespace(weights=[w], adc_step=[step], layers=[conv])
                got = ExactPartialCodes(model).layer_codes(0, conv, x)  # type: ignore[arg-type]
                flat = arith.im2col(x.astype(np.int64), 3, stride, 1).reshape(-1, rows)
                want = sum(arith.adc_codes(flat[:, a:b] @ w[a:b].astype(np.int64), step, mode)
                           for a, b in tiles)
                np.testing.assert_array_equal(got.reshape(-1, 6), want)


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_chunks_side_by_side_equal_tile_by_tile(monkeypatch: pytest.MonkeyPatch, codes: np.ndarray,
                                                seed: int) -> None:
    """On two workers the bulk path runs a layer's chunks of filters side by side (noise reserved in
    invocation order): the same scores and ledger as the plain path, on random graphs and resnet-bw."""
    monkeypatch.setenv("CONVSRAM_THREADS", "2")
    models = [with_negative_alphas(random_model(seed), seed)]
    if seed == 0:
        models.append(load_model(MODELS_DIR / "resnet-bw.npz"))  # 32-filter layers: two chunks
    for model in models:
        fast, ev_fast = _chip_run(model, codes, NOISY, seed, True, True)
        plain, ev_plain = _chip_run(model, codes, NOISY, seed, False, True)
        np.testing.assert_array_equal(fast, plain)
        _same_ledgers(ev_fast, ev_plain)


def test_im2col_rows_is_im2col_transposed() -> None:
    from convsram.core.layers import arith

    x = np.random.default_rng(3).integers(0, 256, (2, 8, 9, 3)).astype(np.uint8)
    for stride, pad in ((1, 0), (2, 1), (1, 2)):
        whole = arith.im2col(x, 3, stride, pad)
        rows = arith.im2col_rows(x, 3, stride, pad)
        assert rows.dtype == np.float32 and rows.flags.c_contiguous
        np.testing.assert_array_equal(rows, np.moveaxis(whole, -1, 0))


@pytest.mark.parametrize("stride,pad,channels", [(1, 0, 1), (1, 1, 5), (2, 1, 8), (2, 0, 3), (1, 2, 16)])
def test_rows_into_are_the_patches_transposed(stride: int, pad: int, channels: int) -> None:
    """The chip path's rows-first patches (any block of rows, cutting kernel cells or not) are the
    patches transposed plus each row's table base, for conv and fc."""
    from convsram.core.layers import FC, Conv

    rng = np.random.default_rng(channels)
    x = rng.integers(0, 128, (3, 9, 8, channels)).astype(np.uint8)
    conv = Conv(name="c", inputs=("input",), in_channels=channels, out_channels=4, tiles=((0, 9 * channels),),
                mode="signed", kernel=3, stride=stride, padding=pad)
    fc = FC(name="f", inputs=("input",), in_channels=x[0].size, out_channels=4, tiles=((0, x[0].size),),
            mode="signed")
    for node in (conv, fc):
        flat, _ = node.patches(x)
        base = (rng.integers(0, 50, node.rows) * 128).astype(np.uint16)
        want = flat.T.astype(np.uint16) + base[:, None]
        source = node.row_source(x)
        got = np.full(want.shape, 65535, np.uint16)
        cuts = sorted({0, node.rows, *rng.integers(1, node.rows, 4).tolist()})
        for j0, j1 in zip(cuts[:-1], cuts[1:], strict=True):
            node.rows_into(source, j0, j1, got[j0:j1], base[j0:j1])
        np.testing.assert_array_equal(got, want)


def test_column_sums_do_not_depend_on_the_batch() -> None:
    """Each column's float32 sums are the same whether it comes alone, in a short batch or in a long
    one (a plain sgemm rounds the last columns of some widths differently: a conversion's code could
    then depend on the batch size)."""
    from convsram.core.chip import column_sums

    rng = np.random.default_rng(7)
    for n, k in ((58, 17), (25, 17), (48, 11), (64, 33)):
        m = rng.standard_normal((k, n)).astype(np.float32)
        rows = rng.random((n, 2000), dtype=np.float32)
        whole = column_sums(m, rows)
        for a, width in ((0, 1), (0, 38), (5, 149), (100, 260), (0, 1000), (37, 1963)):
            np.testing.assert_array_equal(column_sums(m, rows[:, a:a + width]), whole[:, a:a + width])
