"""The mapping onto the array and the analog path: one source of truth with the integer path."""

import numpy as np
import pytest

from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.mapping import place
from convsram.core.mnist import load
from convsram.core.network import forward, input_codes
from tests.helpers import random_model


@pytest.fixture(scope="module")
def images():
    d = load("test", limit=200)
    return input_codes(d.images)


def test_placement_fits_and_respects_adc_groups():
    model = random_model()
    amap = place(model.layers)
    cols = np.concatenate([c.ravel() for c in amap.columns])
    assert cols.size == 242 and np.unique(cols).size == cols.size and cols.max() < 256
    per_group = amap.config.columns_per_group
    for li, chunks in enumerate(amap.chunks):
        for t, tile_chunks in enumerate(chunks):
            covered = np.sort(np.concatenate(tile_chunks))
            np.testing.assert_array_equal(covered, np.arange(model.layers[li].out_channels))
            for filters in tile_chunks:
                groups = amap.columns[li][t, filters] // per_group
                assert np.unique(groups).size == groups.size <= 16
    assert amap.invocations_per_image() == [576, 600, 13]
    assert sum(1 for _ in amap.places()) == 1189


def test_programmed_array_holds_each_tile_in_its_column():
    model = random_model()
    chip = Chip(ChipConfig.ideal())
    amap, writes = programmed_chip(model, chip)
    assert sum(w.bits for w in writes) == sum(w.size for w in model.weights)
    owner = amap.owner()
    for col in (0, 17, 100, 241):
        li, t, f = owner[col]
        r0, r1 = model.layers[li].tiles[t]
        np.testing.assert_array_equal(chip.weights[: r1 - r0, col], model.weights[li][r0:r1, f])
        assert (chip.weights[r1 - r0:, col] == 0).all()


def test_ideal_chip_equals_integer_path_bit_for_bit(images):
    model = random_model(3)
    chip = Chip(ChipConfig.ideal(), seed=5)
    amap, _ = programmed_chip(model, chip)
    rec_int, rec_chip = {}, {}
    ref = forward(model, images, record=rec_int)
    out = forward(model, images, ChipEvaluator(chip, model, amap), record=rec_chip)
    np.testing.assert_array_equal(out, ref)
    for key in rec_int:
        np.testing.assert_array_equal(rec_chip[key], rec_int[key])


def test_detailed_and_bulk_paths_agree_on_an_ideal_chip(images):
    model = random_model(1)
    chip = Chip(ChipConfig.ideal())
    amap, _ = programmed_chip(model, chip)
    bulk = forward(model, images[:20], ChipEvaluator(chip, model, amap))
    ev = ChipEvaluator(chip, model, amap, detail=True)
    detail = forward(model, images[:20], ev)
    np.testing.assert_array_equal(bulk, detail)
    assert sum(r.n_invocations for r in ev.records.values()) == 20 * 1189


def test_nonideal_chip_changes_codes_and_counts_energy(images):
    model = random_model(2)
    chip = Chip(ChipConfig.harsh(), seed=1)
    amap, _ = programmed_chip(model, chip)
    ev = ChipEvaluator(chip, model, amap)
    rec_chip, rec_int = {}, {}
    forward(model, images[:50], ev, record=rec_chip)
    forward(model, images[:50], record=rec_int)
    assert (rec_chip["conv1.P"] != rec_int["conv1.P"]).mean() > 0.01
    total = ev.totals()
    assert total.invocations == 50 * 1189
    assert total.time_ns == pytest.approx(50 * 1189 * 150.0)
    assert all(total.energy_pj[k] > 0 for k in ("dac", "array", "adc"))
