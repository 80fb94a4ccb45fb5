"""How the pad's "not sure - try again" thresholds (core/classify.py) treat real digits and nonsense.

Prints, for the ink check and for several score-margin thresholds, the share of digits each rejects
and the accuracy on those accepted: the MNIST test set as it is and through the pad's own to_mnist
(as `convsram classify` sees a PNG of it), scikit-learn's 1,797 load_digits (8x8, another source of
handwriting, through to_mnist), and, as the nonsense that should be refused, single taps and random
scribbles drawn like the pad draws. Needs scikit-learn (a test-only dependency: pip install -e '.[test]').

    OMP_NUM_THREADS=1 nice -n 10 python bench/bench_reject.py [--chip calibrated] [--seed 0] [--images 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.drawn_digits (the pad's strokes)

from convsram.core import classify  # noqa: E402
from convsram.core.configfile import preset  # noqa: E402
from convsram.core.digitize import to_mnist  # noqa: E402
from convsram.core.mnist import load  # noqa: E402
from convsram.core.network import load_model  # noqa: E402
from convsram.core.paths import DEFAULT_MODEL  # noqa: E402
from convsram.core.stats import wilson  # noqa: E402
from tests.drawn_digits import TAP, render, scribble  # noqa: E402

MARGINS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0)


def report(name: str, scores: np.ndarray, labels: np.ndarray | None, extents: np.ndarray,
           pixels: np.ndarray) -> None:
    n = len(scores)
    pred = scores.argmax(axis=1)
    top = np.sort(scores, axis=1)
    margin = top[:, -1] - top[:, -2]
    share = (pixels > 127).mean(axis=(1, 2))
    little, much = extents < classify.MIN_EXTENT, share > classify.MAX_INK
    ink_ok = ~little & ~much
    print(f"\n{name}: {n} pictures; ink extent min {extents.min():.2f}, 1st percentile "
          f"{np.percentile(extents, 1):.2f}, median {np.median(extents):.2f}; ink share median "
          f"{np.median(share):.3f}, 99.9th percentile {np.percentile(share, 99.9):.3f}, "
          f"max {share.max():.3f}\n"
          f"  rejected for too little ink {little.sum()} ({100 * little.mean():.2f} %), for too much ink "
          f"{(much & ~little).sum()} ({100 * (much & ~little).mean():.2f} %)")
    if labels is not None:
        right = pred == labels
        print(f"  accuracy with no rejection {100 * right.mean():.2f} %; margin percentiles 1/5/50: "
              f"{np.percentile(margin, 1):.2f} / {np.percentile(margin, 5):.2f} / {np.median(margin):.2f}; "
              f"margin of the wrong ones: median {np.median(margin[~right]) if (~right).any() else 0:.2f}")
    print("  margin >=  rejected (share)      accuracy on accepted (95 % CI)       wrong answers kept")
    for t in MARGINS:
        keep = ink_ok & (margin >= t)
        line = f"  {t:8.1f}  {n - keep.sum():5d} ({100 * (1 - keep.mean()):6.2f} %)"
        if labels is not None:
            k, m = int((pred[keep] == labels[keep]).sum()), int(keep.sum())
            lo, hi = wilson(k, m)
            wrong_kept = m - k
            line += f"    {100 * k / max(m, 1):6.2f} % ({100 * lo:.2f}-{100 * hi:.2f} %)" \
                    f"      {wrong_kept} of {int((pred != labels).sum())}"
        mark = "   <- MIN_MARGIN" if t == classify.MIN_MARGIN else ""
        print(line + mark)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chip", default="calibrated", help="chip preset (default calibrated, the demo's chip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--nonsense", type=int, default=300, help="scribbles to draw (default 300)")
    args = ap.parse_args()
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("bench_reject needs scikit-learn: pip install -e '.[test]'", file=sys.stderr)
        return 2
    model, config = load_model(DEFAULT_MODEL), preset(args.chip)
    print(f"chip {args.chip}, seed {args.seed}; thresholds: ink extent >= {classify.MIN_EXTENT}, ink share "
          f"<= {classify.MAX_INK}, "
          f"margin >= {classify.MIN_MARGIN}")
    t0 = time.perf_counter()
    test = load("test")
    images, labels = test.images[:args.images], test.labels[:args.images]
    ext = np.array([classify.ink_extent(im) for im in images])
    report("MNIST test set as is", classify.chip_scores(model, images, config, args.seed), labels, ext,
           images)
    padded = np.stack([to_mnist(im) for im in images])
    report("MNIST test set through to_mnist (what `convsram classify` does to a PNG of one)",
           classify.chip_scores(model, padded, config, args.seed), labels, ext, padded)
    digits = load_digits()
    small = digits.images.astype(np.float64) / 16.0  # ink bright on dark, 0..16
    ext = np.array([classify.ink_extent(im) for im in small])
    pix = np.stack([to_mnist(im) for im in small])
    report("scikit-learn load_digits (8x8) through to_mnist",
           classify.chip_scores(model, pix, config, args.seed),
           digits.target, ext, pix)
    # scribbles of 8, 15 and 40 random points: a few zig-zags to a scribbled-over box
    drawings = [render(TAP)] + [render(scribble(k, (8, 15, 40)[k % 3])) for k in range(args.nonsense)]
    ext = np.array([classify.ink_extent(d) for d in drawings])
    pix = np.stack([to_mnist(d) for d in drawings])
    report(f"nonsense: 1 tap and {args.nonsense} random scribbles (every one should be rejected)",
           classify.chip_scores(model, pix, config, args.seed), None, ext, pix)
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
