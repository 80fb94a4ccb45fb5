"""The drawing pad's pipeline for any picture: find the ink, make it an MNIST-like digit
(:func:`core.digitize.to_mnist`), run it through a chip, and say whether the answer can be trusted.

A reading is rejected ("not sure - try again") when the picture holds too little ink to be a digit
(a tap, a dot: its ink spans less than :data:`MIN_EXTENT` of the picture's shorter side), too much
(a scribbled-over box: more than :data:`MAX_INK` of the MNIST-like picture is ink), or when the chip's
best class score beats the runner-up by less than :data:`MIN_MARGIN`. The thresholds were
chosen on data (``bench/bench_reject.py`` prints the shares they reject on the MNIST test set and on
scikit-learn's 1,797 ``load_digits``; the model card records them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convsram.core.config import ChipConfig
from convsram.core.digitize import to_mnist
from convsram.core.network import Model, forward, input_codes

INK_LEVEL = 0.25  # a pixel is ink above this share of the way from background to the darkest ink
# [chosen on data, bench/bench_reject.py]: the ink's extent (its bounding box's larger side over the
# picture's shorter side). MNIST test digits span 0.50-0.71 (their 20-pixel box in 28), scikit-learn's
# digits 1.0; a tap on the pad spans 1/13 = 0.08 (the pen width).
MIN_EXTENT = 0.25
# [chosen on data, bench/bench_reject.py]: share of the 28 x 28 MNIST-like picture above half ink.
# MNIST test digits: median 0.13, 99.9th percentile 0.30; scikit-learn's digits at most 0.22; a dense
# scribble on the pad 0.29-0.34.
MAX_INK = 0.30
# [chosen on data, bench/bench_reject.py]: best class score minus the runner-up (the fc layer's
# alpha * P + beta, arbitrary units). Calibrated chip, seed 0, with the ink checks: rejects 2.05 % of
# the MNIST test digits (accuracy on the rest 99.81 %, from 99.23 %), 30.9 % of scikit-learn's 8x8
# digits (97.83 % on the rest, from 88.87 %) and 65 % of random scribbles; 1.0 would reject 1.1 % /
# 16 % / 50 %. The model card has the table.
MIN_MARGIN = 2.0
MAX_PIXELS = 40_000_000  # a larger picture file is refused (decoding it would take gigabytes)

NOT_SURE = "not sure - try again"


@dataclass(frozen=True)
class Reading:
    """What the chip made of a picture, and whether to believe it."""

    digit: int  # the chip's best class (even when rejected)
    margin: float  # best score minus the runner-up
    scores: np.ndarray  # (10,) class scores
    extent: float  # ink's extent over the picture's shorter side
    reason: str  # "" when accepted, else why not: "too little ink", "too much ink", "too small a margin"
    pixels: np.ndarray | None = None  # the (28, 28) uint8 digit the chip saw (None without ink)
    ink: float = 0.0  # share of those pixels above half ink

    @property
    def sure(self) -> bool:
        return not self.reason

    def as_dict(self) -> dict[str, Any]:
        return {"digit": self.digit if self.sure else None, "best_guess": self.digit,
                "margin": round(self.margin, 4), "sure": self.sure, "reason": self.reason or None,
                "ink_extent": round(self.extent, 4), "ink_share": round(self.ink, 4),
                "scores": [round(float(s), 4) for s in self.scores]}

    def line(self) -> str:
        """One line for a terminal."""
        if self.reason == "too little ink":
            return (f"{NOT_SURE} (too little ink: it spans {self.extent:.0%} of the picture, a digit at "
                    f"least {MIN_EXTENT:.0%})")
        if self.reason == "too much ink":
            return (f"{NOT_SURE} (too much ink: {self.ink:.0%} of the digit's picture, a digit at most "
                    f"{MAX_INK:.0%})")
        if not self.sure:
            return f"{NOT_SURE} (best guess {self.digit}, margin {self.margin:.2f} < {MIN_MARGIN:g})"
        return f"digit {self.digit} (margin {self.margin:.2f})"


def ink_extent(drawing: np.ndarray) -> float:
    """Larger side of the ink's bounding box over the picture's shorter side (0 without ink); `drawing`
    is ink bright on dark, any range."""
    img = np.asarray(drawing, dtype=np.float64)
    if img.ndim != 2 or img.size == 0:
        return 0.0
    lo, hi = float(img.min()), float(img.max())
    if hi - lo <= 0:
        return 0.0
    ys, xs = np.nonzero(img > lo + INK_LEVEL * (hi - lo))
    if len(ys) == 0:
        return 0.0
    span = max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)
    return float(span / min(img.shape))


def too_little_ink(drawing: np.ndarray) -> bool:
    """True for a tap, a dot or an empty picture: not enough ink to be a digit."""
    return ink_extent(drawing) < MIN_EXTENT


def ink_share(pixels: np.ndarray) -> float:
    """Share of a (28, 28) uint8 MNIST-like picture's pixels above half ink."""
    return float(np.mean(np.asarray(pixels) > 127))


def margin(scores: np.ndarray) -> float:
    """Best class score minus the runner-up."""
    top = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    return float(top[-1] - top[-2]) if top.size > 1 else float("inf")


def judge(scores: np.ndarray, extent: float, pixels: np.ndarray | None = None) -> Reading:
    """A Reading from the class scores, the ink's extent and the MNIST-like picture (the thresholds
    above)."""
    scores = np.asarray(scores, dtype=np.float64)
    m = margin(scores)
    ink = ink_share(pixels) if pixels is not None else 0.0
    reason = ("too little ink" if extent < MIN_EXTENT else "too much ink" if ink > MAX_INK
              else "too small a margin" if m < MIN_MARGIN else "")
    return Reading(int(np.argmax(scores)), m, scores, extent, reason, pixels, ink)


def chip_scores(model: Model, pixels: np.ndarray, config: ChipConfig | None = None, seed: int = 0,
                first: int = 0) -> np.ndarray:
    """Class scores (batch, 10) of (batch, 28, 28) uint8 digits on chip (config, seed); noise keyed on
    (seed, first + index), as in ``convsram eval``."""
    from convsram.core.chip import Chip
    from convsram.core.inference import ChipEvaluator, programmed_chip
    from convsram.core.noise import KeyedNoise

    config = config or ChipConfig()
    pix = np.asarray(pixels, dtype=np.uint8)
    codes = input_codes(pix, config.input_bits)
    if config.is_ideal():
        return forward(model, codes, config=config)
    chip = Chip(config, seed)
    amap, _ = programmed_chip(model, chip)
    keyed = KeyedNoise(seed)
    keyed.begin(first, len(codes))
    return forward(model, codes, ChipEvaluator(chip, model, amap, rng=keyed), config=config,
                   batch_size=max(1, len(codes)))


def ideal_prediction(model: Model, pixels: np.ndarray, config: ChipConfig | None = None) -> int:
    """What the ideal chip (this operating point, every non-ideality off; bit-exact with the integer
    path) answers for one (28, 28) uint8 picture."""
    config = (config or ChipConfig()).idealised()
    return int(np.argmax(chip_scores(model, np.asarray(pixels)[None], config)[0]))


def read_drawing(model: Model, drawing: np.ndarray, config: ChipConfig | None = None,
                 seed: int = 0) -> Reading:
    """The pad's pipeline on a drawing (2-D, ink bright on dark): ink check, to_mnist, chip, verdict."""
    extent = ink_extent(drawing)
    if extent <= 0:
        return Reading(0, 0.0, np.zeros(10), 0.0, "too little ink", None)
    pixels = to_mnist(drawing)
    return judge(chip_scores(model, pixels[None], config, seed)[0], extent, pixels)


def load_picture(path: Path | str) -> np.ndarray:
    """A picture file as greyscale floats in 0..1 with the ink bright (a light background, the usual
    pen on paper, is inverted: the border's median decides which is the background). ValueError with
    one line for a file that is not a readable picture."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ValueError(f"{path}: {im.width}x{im.height} pixels is too large; scale it below "
                                 f"{MAX_PIXELS // 10**6} million pixels")
            im.load()
            flat: Image.Image = im
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                flat = Image.alpha_composite(white, rgba)  # transparent = paper
            grey = np.asarray(flat.convert("L"), dtype=np.float64) / 255.0
    except ValueError:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise ValueError(f"{path}: not a picture that can be read (PNG, JPEG, BMP, ...): "
                         f"{str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}") from None
    if grey.ndim != 2 or min(grey.shape) < 2:
        raise ValueError(f"{path}: a picture of {grey.shape} pixels is too small to hold a digit")
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1.0 - grey if np.median(border) > 0.5 else grey


def classify_file(path: Path | str, model: Model, config: ChipConfig | None = None,
                  seed: int = 0) -> Reading:
    """`convsram classify`: the pad's pipeline for a picture file."""
    return read_drawing(model, load_picture(path), config, seed)
