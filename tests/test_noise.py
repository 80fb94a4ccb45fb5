"""The table sampler behind per-operation noise has the moments of a standard normal."""

import numpy as np

from convsram.core.noise import standard_normal


def test_moments_match_standard_normal():
    z = standard_normal(np.random.default_rng(0), (2_000_000,))
    assert abs(z.mean()) < 0.003
    assert abs(z.std() - 1.0) < 0.002
    kurtosis = np.mean(z**4) / np.mean(z**2) ** 2
    assert abs(kurtosis - 3.0) < 0.03
    # tail probabilities as a Gaussian's (P(|z| > 2) = 0.0455, P(|z| > 3) = 0.0027)
    assert abs(np.mean(np.abs(z) > 2) - 0.0455) < 0.001
    assert abs(np.mean(np.abs(z) > 3) - 0.0027) < 0.0003


def test_seeded_and_shaped():
    a = standard_normal(np.random.default_rng(4), (3, 5))
    b = standard_normal(np.random.default_rng(4), (3, 5))
    c = standard_normal(np.random.default_rng(5), (3, 5))
    assert a.shape == (3, 5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
