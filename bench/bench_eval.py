"""Speed of the full test-set evaluation, from one run:

* the nominal chip (analog path through Chip, bulk mode), limit: at most 3x the ideal integer path;
* the ideal integer path (exact_partial_codes), limit: within 2x of a plain float32 forward;
* a plain float32 numpy forward of the same network (no tiles, no ADC quantisation).

    python bench/bench_eval.py [--images 10000] [--model PATH]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.layers import WeightLayer
from convsram.core.mnist import load
from convsram.core.network import Model, forward, input_codes, load_model
from convsram.core.paths import DEFAULT_MODEL


def float32_forward(model: Model, codes: np.ndarray, batch: int = 1000) -> np.ndarray:
    """The same network in plain float32: +/-1 x alpha weights, ReLU, pooling, no quantisation."""
    out = []
    w = [m.astype(np.float32) * a.astype(np.float32) for m, a in zip(model.weights, model.alpha, strict=True)]
    beta = [b.astype(np.float32) for b in model.beta]
    graph = model.graph
    for start in range(0, len(codes), batch):
        values = {"input": codes[start:start + batch, :, :, None].astype(np.float32)}
        for node in graph.nodes:
            xs = [values[n] for n in node.inputs]
            if isinstance(node, WeightLayer):
                li = graph.index[node.name]
                flat, grid = node.patches(xs[0])
                y = (flat @ w[li] + beta[li]).reshape(len(xs[0]), *grid, -1)
                values[node.name] = y if graph.is_output(li) else np.maximum(y, 0)
            else:
                values[node.name] = node.float_forward(xs)
        out.append(values[graph.output])
    return np.concatenate(out)


def timed(fn) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    args = ap.parse_args()
    model = load_model(args.model)
    data = load("test", limit=args.images)
    codes = input_codes(data.images)
    n = len(codes)

    t_float, s_float = timed(lambda: float32_forward(model, codes))
    t_int, s_int = timed(lambda: forward(model, codes))
    chip = Chip(ChipConfig(), seed=0)
    amap, _ = programmed_chip(model, chip)
    t_chip, s_chip = timed(lambda: forward(model, codes, ChipEvaluator(chip, model, amap)))

    def acc(s: np.ndarray) -> float:
        return 100 * float(np.mean(s.argmax(1) == data.labels))

    print(f"full evaluation of {n} MNIST test images (one run, this machine)")
    for name, t, s in (("float32 numpy forward", t_float, s_float), ("ideal integer path", t_int, s_int),
                       ("nominal chip (analog)", t_chip, s_chip)):
        print(f"  {name:24s} {t:7.2f} s  {n / t:8.0f} images/s   accuracy {acc(s):6.2f} %")
    print(f"  ideal integer path / float32: {t_int / t_float:4.2f}x (limit 2x)")
    print(f"  nominal chip / ideal integer: {t_chip / t_int:4.2f}x (limit 3x)")


if __name__ == "__main__":
    main()
