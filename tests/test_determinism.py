"""Every random draw comes from a visible seed, and results do not depend on how work is batched."""

from __future__ import annotations

import numpy as np

from convsram.core.config import ChipConfig
from convsram.core.evaluate import evaluate
from convsram.core.mnist import load
from convsram.core.network import load_model
from convsram.core.noise import KeyedNoise, standard_normal
from convsram.core.paths import DEFAULT_MODEL


def test_keyed_noise_of_an_image_does_not_depend_on_its_batch():
    def draws(first, count, rows_first):
        keyed = KeyedNoise(7)
        keyed.rows_first = rows_first
        keyed.begin(first, count)
        shape = (count * 3, 5) if rows_first else (5, count * 3)  # 3 positions, 5 columns per image
        a = standard_normal(keyed, shape)
        b = standard_normal(keyed, shape)  # the next call continues each image's stream
        return a, b

    for rows_first in (True, False):
        whole = draws(0, 4, rows_first)
        for i in range(4):
            alone = draws(i, 1, rows_first)
            for w, s in zip(whole, alone, strict=True):
                part = w[3 * i:3 * i + 3] if rows_first else w[:, 3 * i:3 * i + 3]
                np.testing.assert_array_equal(part, s)
        assert not np.array_equal(whole[0], whole[1])
    assert not np.array_equal(draws(0, 2, True)[0], _other_seed())


def _other_seed():
    keyed = KeyedNoise(8)
    keyed.rows_first = True
    keyed.begin(0, 2)
    return standard_normal(keyed, (6, 5))


def test_keyed_noise_is_gaussian():
    keyed = KeyedNoise(0)
    keyed.begin(0, 100)
    z = standard_normal(keyed, (10, 100 * 100))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01


def test_eval_independent_of_batch_size():
    model = load_model(DEFAULT_MODEL)
    data = load("test", limit=60)
    noisy = ChipConfig(comparator_noise_sigma=4e-3)  # noise large enough to flip predictions
    runs = [evaluate(model, data.images, data.labels, noisy, seed=7, batch_size=b) for b in (60, 7, 1)]
    assert runs[0]["accuracy"] < 1.0  # the noise matters
    for r in runs[1:]:
        assert r["correct"] == runs[0]["correct"]
        assert r["energy_per_image_pj"] == runs[0]["energy_per_image_pj"] or \
            abs(r["energy_per_image_pj"] / runs[0]["energy_per_image_pj"] - 1) < 1e-9
