"""Throughput of the chip's batched path: invocations per second, nominal vs ideal chip, one run.

    python bench/bench_chip.py [--batch 100000] [--repeats 5]

Paper operating point: 50 rows, 16 columns (one per ADC group), uniformly random 7-b inputs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from convsram.core.chip import Chip
from convsram.core.config import ChipConfig


def rate(config: ChipConfig, x: np.ndarray, cols: np.ndarray, repeats: int, with_ideal: bool,
         detail: bool) -> float:
    chip = Chip(config, seed=0)
    chip.program(np.random.default_rng(1).choice([-1, 1], size=(x.shape[1], config.columns)))
    chip.invoke_batch(x[:1000], cols)  # warm caches
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        chip.invoke_batch(x, cols, with_ideal=with_ideal, detail=detail)
        best = min(best, time.perf_counter() - t0)
    return x.shape[0] / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    x = np.random.default_rng(0).integers(0, 128, size=(args.batch, 50))
    cols = np.arange(16) * 16
    print(f"batched chip path, {args.batch} invocations x 50 rows x 16 columns, best of {args.repeats}")
    for with_ideal, detail in ((False, False), (True, False), (True, True)):
        ideal = rate(ChipConfig.ideal(), x, cols, args.repeats, with_ideal, detail)
        nominal = rate(ChipConfig(), x, cols, args.repeats, with_ideal, detail)
        label = {(False, False): "bulk, codes only      ", (True, False): "bulk, + ideal codes   ",
                 (True, True): "detail (line voltages)"}[(with_ideal, detail)]
        print(f"  {label}: ideal {ideal / 1e6:6.2f} M inv/s   nominal {nominal / 1e6:6.2f} M inv/s   "
              f"nominal costs {ideal / nominal:4.2f}x ideal (limit 3x)")


if __name__ == "__main__":
    main()
