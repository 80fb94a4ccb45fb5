"""Digits drawn as a visitor would, as pen strokes on a square pad (coordinates in 0..1, y down), and
the nonsense the pad must refuse: a tap and scribbles. Used by the classify tests (strokes rendered with
Pillow) and the demo tests (strokes played as mouse or touch events on the pad)."""

from __future__ import annotations

import math

import numpy as np

Stroke = list[tuple[float, float]]


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> Stroke:
    """Points on an ellipse from angle a0 to a1 (degrees, 0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(a0, a1, n)]


DIGITS: dict[int, list[Stroke]] = {
    0: [_arc(0.5, 0.5, 0.22, 0.32, 0, 360, 40)],
    1: [[(0.42, 0.28), (0.52, 0.18), (0.52, 0.82)]],
    2: [_arc(0.5, 0.36, 0.2, 0.18, 200, 380) + [(0.3, 0.8), (0.74, 0.8)]],
    3: [_arc(0.48, 0.34, 0.2, 0.16, 210, 450) + _arc(0.48, 0.66, 0.22, 0.17, 270, 510)],
    4: [[(0.6, 0.18), (0.26, 0.62), (0.76, 0.62)], [(0.6, 0.36), (0.6, 0.84)]],
    5: [[(0.7, 0.2), (0.36, 0.2), (0.33, 0.46)] + _arc(0.5, 0.62, 0.22, 0.18, 235, 500)],
    6: [[(0.64, 0.18), (0.4, 0.42)] + _arc(0.5, 0.64, 0.2, 0.18, 200, 560)],
    7: [[(0.28, 0.2), (0.74, 0.2), (0.44, 0.84)]],
    8: [_arc(0.5, 0.34, 0.16, 0.15, 90, 450) + _arc(0.5, 0.66, 0.2, 0.17, -90, 270)],
    9: [_arc(0.5, 0.36, 0.2, 0.17, 0, 360) + [(0.7, 0.36), (0.64, 0.84)]],
}

TAP: list[Stroke] = [[(0.5, 0.5)]]


def scribble(seed: int, points: int = 40) -> list[Stroke]:
    """A random zig-zag over most of the pad (one stroke)."""
    rng = np.random.default_rng([seed, 7])
    return [[(float(x), float(y)) for x, y in rng.uniform(0.15, 0.85, size=(points, 2))]]


def render(strokes: list[Stroke], size: int = 280, stroke: float = 1 / 13) -> np.ndarray:
    """The strokes as a float picture (ink 1 on 0), drawn with round pens as the pad draws them."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    width = max(1, round(size * stroke))
    for s in strokes:
        pts = [(x * size, y * size) for x, y in s]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=width, joint="curve")
        for x, y in pts:
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(img, dtype=np.float32) / 255.0
