"""Small shared builders for tests (a random model that has the shipped architecture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convsram.core.network import Model, lenet_bw, save_model


def random_model(seed: int = 0) -> Model:
    """The shipped architecture with random +/-1 weights: fast to build, exercises every path."""
    layers = lenet_bw()
    rng = np.random.default_rng(seed)
    return Model(layers=layers, weights=[rng.choice([-1, 1], (s.rows, s.out_channels)) for s in layers],
                 alpha=[np.full(s.out_channels, 0.5) for s in layers],
                 beta=[np.zeros(s.out_channels) for s in layers], adc_step=[11, 31, 51])


def random_model_file(directory: Path, seed: int = 0) -> Path:
    return save_model(random_model(seed), directory / "random.npz")
