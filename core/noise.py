"""Fast Gaussian draws for per-operation noise (kT/C, comparator).

A bulk evaluation of the test set draws about 190 million Gaussians (one per ADC conversion), which
with numpy's ziggurat sampler costs more than the rest of the chip model together. Here a draw is an
inverse-CDF lookup: 16 random bits pick one of 2^16 equiprobable quantiles of the standard normal
(the midpoint of each probability bin). [assumed approximation] The draws have variance 0.99998
and are truncated at +/-4.32 sigma (probability 1.5e-5 per draw of a more extreme value under a true
Gaussian); tests/test_noise.py checks the moments. All draws come from the caller's seeded Generator.
"""

from __future__ import annotations

import math
from functools import cache
from statistics import NormalDist

import numpy as np

LEVELS = 1 << 16


@cache
def _table() -> np.ndarray:
    inv = NormalDist().inv_cdf
    return np.array([inv((i + 0.5) / LEVELS) for i in range(LEVELS)])


@cache
def _table32() -> np.ndarray:
    return _table().astype(np.float32)


def standard_normal(rng: np.random.Generator | KeyedNoise, shape: tuple[int, ...], dtype: type = np.float64
                    ) -> np.ndarray:
    """Standard-normal array of `shape` from `rng` (table sampler, see the module doc)."""
    if isinstance(rng, KeyedNoise):
        idx = rng.indices(shape, copy=False)  # take reads the transposed view: no copy of its own
        return np.take(_table() if dtype == np.float64 else _table32(), idx, mode="wrap").reshape(shape)
    n = int(np.prod(shape))
    words = -(-n // 4)  # four 16-bit indices per 64-bit word
    idx = rng.bit_generator.random_raw(words).view(np.uint16)[:n]
    return np.take(_table() if dtype == np.float64 else _table32(), idx, mode="wrap").reshape(shape)


def keyed_block(rng: KeyedNoise, draw: tuple[tuple[int, ...], int, int], i0: int, i1: int,
                dtype: type = np.float32) -> np.ndarray:
    """Standard normals of a :meth:`KeyedNoise.reserve` d columns-first draw (k, rows) for images
    i0..i1-1 of the batch: their (k, rows of those images) block, as :func:`standard_normal` gives it."""
    idx = rng.block(draw, i0, i1)
    # take (every index is in range: 16-bit indices into 2^16 entries) gathers faster than indexing
    table = _table() if dtype == np.float64 else _table32()
    return np.take(table, idx, mode="wrap").reshape(idx.shape[0], -1)


class KeyedNoise:
    """A noise source whose draws are keyed on (seed, image index, draw number): each image gets the
    same noise however the images are batched (``convsram eval --batch-size`` does not change the
    result). Pass it as the ``rng`` of :class:`core.inference.ChipEvaluator`; call :meth:`begin` before
    each batch. Draws are 16-bit indices from a SplitMix64 hash (a bijective mix of a counter, so the
    streams of different images never overlap). The chip asks for arrays with one axis over the
    batch's rows (images x output positions, image-major): ``rows_first`` says which axis."""

    def __init__(self, seed: int, stream: int = 2) -> None:
        state = np.random.SeedSequence([int(seed), stream]).generate_state(1, np.uint64)
        self.key = np.uint64(state[0])
        self.rows_first = False
        self.begin(0, 1)

    def begin(self, first: int, count: int) -> None:
        """The next draws are for images first .. first + count - 1 (each from its first draw)."""
        self.images = np.arange(first, first + count, dtype=np.uint64)
        self.used = 0  # 64-bit words drawn so far by each image of the batch

    def indices(self, shape: tuple[int, ...], copy: bool = True) -> np.ndarray:
        """uint16 table indices of `shape`, each image's share drawn from its own keyed stream
        (copy=False: maybe a view of another shape with the same elements in the same C order)."""
        draw = self.reserve(shape)
        idx = self.block(draw, 0, self.images.size)
        return idx.reshape(shape) if copy or self.rows_first else idx

    def reserve(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
        """Claim the next draws of `shape` for the batch: (shape, first word, words per image), for
        :meth:`block` (the images' counters move on as if the draws were made)."""
        count = self.images.size
        rows = shape[0] if self.rows_first else shape[-1]
        total = math.prod(shape)
        if rows % count or total % count:
            raise ValueError(f"{rows} rows do not split over {count} images")
        words = -(-(total // count) // 4)
        if self.used + words >= 1 << 40:
            raise ValueError("too many draws for one image")
        first = self.used
        self.used += words
        return shape, first, words

    def block(self, draw: tuple[tuple[int, ...], int, int], i0: int, i1: int) -> np.ndarray:
        """The indices of a :meth:`reserve` d draw for images i0..i1-1 of the batch: rows-first, an
        (rows, k) array; else a (k, images, positions) view (flat: the (k, rows) block in C order)."""
        shape, first, words = draw
        count = self.images.size
        per_image = math.prod(shape) // count
        # (image << 40 | counter) + key, the counter below 2^40: the same as image << 40 + key + counter
        # (mod 2^64), made in one broadcast add
        start = (self.images[i0:i1] << np.uint64(40)) + self.key
        x = np.add(start[:, None], np.uint64(first) + np.arange(words, dtype=np.uint64)[None, :])
        t = np.empty_like(x)  # one scratch array for the three shifts
        x ^= np.right_shift(x, np.uint64(30), out=t)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= np.right_shift(x, np.uint64(27), out=t)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= np.right_shift(x, np.uint64(31), out=t)
        idx = x.view(np.uint16)[:, :per_image]  # (images, per-image draws)
        if self.rows_first:  # (rows, k): image-major rows, each image's draws row by row
            return idx.reshape(-1, shape[1])
        # (k, rows): column c of image i's position p is draw c * positions + p of image i (whole
        # runs of positions stay contiguous: a cheap block copy, not a strided gather)
        k = math.prod(shape) // shape[-1]
        return idx.reshape(i1 - i0, k, shape[-1] // count).transpose(1, 0, 2)
