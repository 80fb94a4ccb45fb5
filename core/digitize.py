"""A hand-drawn digit made to look like an MNIST digit.

MNIST's preparation (LeCun et al.): the digit is size-normalised to fit a 20 x 20 box, keeping its
aspect ratio, with anti-aliasing, then placed in a 28 x 28 image so that its centre of mass is at
the centre. :func:`to_mnist` does the same to a drawing of any size (ink bright on dark, any range).
"""

from __future__ import annotations

import numpy as np

BOX, SIZE = 20, 28


def _resize(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Area-averaging resize (anti-aliased when shrinking, bilinear-like when growing)."""
    src_h, src_w = img.shape
    # supersample to a multiple of the target, then average blocks
    fy, fx = max(1, -(-src_h // h)), max(1, -(-src_w // w))
    ys = (np.arange(h * fy) + 0.5) * src_h / (h * fy) - 0.5
    xs = (np.arange(w * fx) + 0.5) * src_w / (w * fx) - 0.5
    rows = np.array([np.interp(xs, np.arange(src_w), r) for r in img])  # (src_h, w*fx)
    big = np.array([np.interp(ys, np.arange(src_h), c) for c in rows.T]).T  # (h*fy, w*fx)
    return big.reshape(h, fy, w, fx).mean(axis=(1, 3))


def to_mnist(drawing: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    """uint8 (28, 28) MNIST-like image of a drawing (2-D array, ink > background)."""
    img = np.asarray(drawing, dtype=np.float64)
    if img.ndim != 2 or min(img.shape) < 2:
        raise ValueError(f"a drawing must be a 2-D image, got shape {img.shape}")
    lo, hi = float(img.min()), float(img.max())
    if hi - lo <= 0:
        raise ValueError("the drawing is empty: draw a digit first")
    img = (img - lo) / (hi - lo)
    ys, xs = np.nonzero(img > threshold)
    crop = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.clip(_resize(crop, nh, nw), 0, 1)
    canvas = np.zeros((SIZE, SIZE))
    y0, x0 = (SIZE - nh) // 2, (SIZE - nw) // 2
    canvas[y0:y0 + nh, x0:x0 + nw] = small
    total = canvas.sum()
    cy = (canvas.sum(axis=1) * np.arange(SIZE)).sum() / total
    cx = (canvas.sum(axis=0) * np.arange(SIZE)).sum() / total
    dy, dx = round(SIZE / 2 - cy), round(SIZE / 2 - cx)  # MNIST digits have their mass at (14, 14)
    # shift by the centre of mass, without pushing ink off the canvas
    dy = int(np.clip(dy, -y0, SIZE - (y0 + nh)))
    dx = int(np.clip(dx, -x0, SIZE - (x0 + nw)))
    canvas = np.roll(canvas, (dy, dx), axis=(0, 1))
    return np.round(canvas * 255).astype(np.uint8)
