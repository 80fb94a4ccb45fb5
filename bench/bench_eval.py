"""Speed of the full test-set evaluation, every figure from one run of this script:

* the exact integer path (``forward`` with the ideal chip in integer arithmetic);
* the nominal chip (the default, calibrated ``ChipConfig``; analog path in bulk mode, noise keyed per
  image, batches of 500 as ``convsram eval``);
* a float32 numpy forward and, when PyTorch is importable, a PyTorch CPU float32 forward of the same
  network (the reference users know; PyTorch is never a dependency of the app or the tests).

Targets (issue 10): exact path <= 1.5x the PyTorch forward's time, nominal chip <= 3x.

The float references compute the model's network in float32 with one conv / linear per weight layer:
weights +/-1 x alpha / ADC step, bias beta + 0.5, then floor and clip to 0..M (the requantisation;
M = 127), max-pool, average-pool rounded half up, residual add clipped to 0..M, scores alpha P + beta.
They leave out the per-tile ADC rounding and clipping (that needs one conv per row tile); the script
prints their accuracy and how many predictions agree with the exact path. ``--tile-exact`` adds a
PyTorch forward that does the per-tile ADC too (all tiles of a layer as one conv with masked weights,
so it does tiles x the multiply-adds): the very network, its predictions equal to the exact path's.

    python bench/bench_eval.py [--images 10000] [--model PATH] [--tile-exact]

Threads: convsram's worker threads (core/threads.py) and PyTorch use --threads, else CONVSRAM_THREADS,
else OMP_NUM_THREADS, else the CPU count; numpy's BLAS follows OMP_NUM_THREADS (set before starting),
except inside convsram's blocks of BLAS calls, which hold it to one thread per call while the workers
run them side by side (the default, with no variable set, is what ``convsram eval`` does). Run it with a
Python that has torch, threadpoolctl and convsram (e.g. a torch venv after ``pip install -e . --no-deps``
and ``pip install threadpoolctl`` there).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.layers import FC, Add, AvgPool, Conv, Flatten, MaxPool, WeightLayer
from convsram.core.mnist import load
from convsram.core.network import Model, forward, input_codes, load_model
from convsram.core.noise import KeyedNoise
from convsram.core.paths import DEFAULT_MODEL
from convsram.core.threads import workers

M = 127.0  # highest activation code at 7 b (the shipped models)


def float_params(model: Model) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per weight layer: (rows, filters) float32 weights +/-1 x alpha / step, and the bias (beta, plus
    0.5 where floor follows), as float64 first, then float32."""
    out = []
    for li, w in enumerate(model.weights):
        scale = model.alpha[li].astype(np.float64) / model.adc_step[li]
        bias = model.beta[li].astype(np.float64) + (0.0 if model.graph.is_output(li) else 0.5)
        out.append(((w.astype(np.float64) * scale).astype(np.float32), bias.astype(np.float32)))
    return out


def numpy_forward(model: Model, codes: np.ndarray, batch: int = 1000) -> np.ndarray:
    """The float reference (module doc) in numpy float32: im2col + one matmul per weight layer."""
    params = float_params(model)
    graph = model.graph
    out = []
    for start in range(0, len(codes), batch):
        values: dict[str, np.ndarray] = {"input": codes[start:start + batch, :, :, None].astype(np.float32)}
        for node in graph.nodes:
            xs = [values[n] for n in node.inputs]
            if isinstance(node, WeightLayer):
                li = graph.index[node.name]
                flat, grid = node.patches(xs[0])
                y = (flat @ params[li][0] + params[li][1]).reshape(len(xs[0]), *grid, -1)
                values[node.name] = y if graph.is_output(li) else np.clip(np.floor(y, out=y), 0, M, out=y)
            elif isinstance(node, AvgPool):
                values[node.name] = np.floor(node.float_forward(xs) + np.float32(0.5))
            elif isinstance(node, Add):
                values[node.name] = np.clip(node.float_forward(xs), 0, M)
            else:
                values[node.name] = node.float_forward(xs)
        out.append(values[graph.output])
    return np.concatenate(out)


def torch_forward(model: Model, codes: np.ndarray, tile_exact: bool = False, batch: int = 1000
                  ) -> Callable[[], np.ndarray]:
    """A PyTorch CPU float32 forward of the float reference (NCHW); tile_exact=True adds each row
    tile's ADC rounding and clipping (one conv per layer with tiles x filters masked outputs)."""
    import torch
    import torch.nn.functional as F

    graph = model.graph
    layers: dict[str, Any] = {}
    for li, (w, b) in enumerate(float_params(model)):
        node = graph.layers[li]
        rows, filters = w.shape
        tiles = node.tiles if tile_exact else ((0, rows),)
        raw = model.weights[li].astype(np.float32) if tile_exact else w  # tile-exact: S in integers
        stacked = np.zeros((rows, len(tiles) * filters), np.float32)
        for t, (r0, r1) in enumerate(tiles):
            stacked[r0:r1, t * filters:(t + 1) * filters] = raw[r0:r1]
        src = graph.shapes[graph.layer_source(li)]
        if isinstance(node, Conv):
            k, c = node.kernel, node.in_channels
            wt = stacked.reshape(k, k, c, -1).transpose(3, 2, 0, 1)  # (out, C, ky, kx)
        elif len(src) == 3:  # an fc reading maps: rows in (h, w, c) order, torch flattens (c, h, w)
            h, ww, c = src
            wt = stacked.reshape(h, ww, c, -1).transpose(3, 2, 0, 1).reshape(stacked.shape[1], -1)
        else:
            wt = stacked.T
        layers[node.name] = (torch.from_numpy(np.ascontiguousarray(wt)), torch.from_numpy(b), len(tiles),
                             filters, li)

    def weighted(node: WeightLayer, x: Any) -> Any:
        wt, b, n_tiles, filters, li = layers[node.name]
        conv = isinstance(node, Conv)
        if conv:
            y = F.conv2d(x, wt, None if tile_exact else b, stride=node.stride, padding=node.padding)
        else:
            y = F.linear(x.flatten(1), wt, None if tile_exact else b)
        if tile_exact:  # per tile: clip(floor(S / step + 0.5)), summed; then alpha P + beta
            lo = 0.0 if node.mode == "relu" else -M
            y = y.mul_(1.0 / model.adc_step[li]).add_(0.5).floor_().clamp_(lo, M)
            y = y.view(len(y), n_tiles, filters, *y.shape[2:]).sum(1)
            scale = torch.from_numpy(np.array(model.alpha[li], dtype=np.float32))
            shape = (1, filters, 1, 1) if conv else (1, filters)
            y = y * scale.view(shape) + b.view(shape)
        return y if graph.is_output(li) else y.floor_().clamp_(0.0, M)

    def run_batch(x: Any) -> Any:
        values = {"input": x}
        for node in graph.nodes:
            xs = [values[n] for n in node.inputs]
            if isinstance(node, (Conv, FC)):
                y = weighted(node, xs[0])
            elif isinstance(node, MaxPool):
                y = F.max_pool2d(xs[0], node.size, node.step)
            elif isinstance(node, AvgPool):
                y = F.avg_pool2d(xs[0], node.size, node.step).add_(0.5).floor_()
            elif isinstance(node, Add):
                y = sum(xs[1:], xs[0]).clamp_(0.0, M)
            elif isinstance(node, Flatten):
                y = xs[0].flatten(1)
            else:
                raise ValueError(f"{node.where()}: no PyTorch reference for this kind")
            values[node.name] = y
        return values[graph.output]

    x_all = torch.from_numpy(codes[:, None].astype(np.float32))

    def run() -> np.ndarray:
        with torch.inference_mode():
            return torch.cat([run_batch(x_all[s:s + batch]) for s in range(0, len(x_all), batch)]).numpy()

    return run


def chip_forward(model: Model, codes: np.ndarray, config: ChipConfig, batch: int = 500) -> np.ndarray:
    """The chip path as ``convsram eval`` runs it (programming included): keyed noise, batches."""
    chip = Chip(config, seed=0)
    amap, _ = programmed_chip(model, chip)
    keyed = KeyedNoise(0)
    ev = ChipEvaluator(chip, model, amap, rng=keyed)
    out = []
    for start in range(0, len(codes), batch):
        part = codes[start:start + batch]
        keyed.begin(start, len(part))
        out.append(forward(model, part, ev, config=config, batch_size=batch))
    return np.concatenate(out)


def timed(fn: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    """Best wall time of `repeats` runs (after one warm-up run) and the result."""
    result = fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each path (best is shown)")
    ap.add_argument("--tile-exact", action="store_true", help="also time the tile-exact PyTorch forward")
    ap.add_argument("--threads", type=int, default=0,
                    help="threads for PyTorch and convsram's workers (default: CONVSRAM_THREADS, else "
                         "OMP_NUM_THREADS, else the CPU count); numpy's BLAS keeps OMP_NUM_THREADS")
    args = ap.parse_args()
    model = load_model(args.model)
    data = load("test", limit=args.images)
    codes = input_codes(data.images)
    n = len(codes)
    blas = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS") or "all CPUs"
    if args.threads:
        os.environ["CONVSRAM_THREADS"] = str(args.threads)
    threads = workers()

    rows: list[tuple[str, float, np.ndarray]] = []
    try:
        import torch

        torch.set_num_threads(threads)
        rows.append(("PyTorch float32 forward", *timed(torch_forward(model, codes), args.repeats)))
        if args.tile_exact:
            rows.append(("PyTorch tile-exact", *timed(torch_forward(model, codes, True), args.repeats)))
    except ImportError:
        print("(PyTorch not importable: no PyTorch reference; run with a Python that has torch)")
    rows.append(("numpy float32 forward", *timed(lambda: numpy_forward(model, codes), args.repeats)))
    rows.append(("exact integer path", *timed(lambda: forward(model, codes), args.repeats)))
    nominal = ChipConfig()
    rows.append(("nominal chip (analog)", *timed(lambda: chip_forward(model, codes, nominal), args.repeats)))

    exact = rows[[r[0] for r in rows].index("exact integer path")][2].argmax(1)
    print(f"{args.model}: {n} MNIST test images, {threads} thread(s) (PyTorch; convsram's workers; numpy's "
          f"BLAS: {blas}, one per call in convsram's worker blocks), best of {args.repeats} runs")
    for name, t, s in rows:
        pred = s.argmax(1)
        acc, same = 100 * np.mean(pred == data.labels), 100 * np.mean(pred == exact)
        print(f"  {name:24s} {t:7.3f} s {n / t:9.0f} images/s   accuracy {acc:6.2f} %   "
              f"same prediction as exact {same:6.2f} %")
    times = {name: t for name, t, _ in rows}
    ref = "PyTorch float32 forward" if "PyTorch float32 forward" in times else "numpy float32 forward"
    print(f"  ratios to the {ref} (time / its time):")
    targets = (("numpy float32 forward", None), ("exact integer path", 1.5), ("nominal chip (analog)", 3.0))
    for name, limit in targets:
        if name != ref:
            verdict = "" if limit is None or ref != "PyTorch float32 forward" else \
                f"  (target <= {limit}x: {'met' if times[name] / times[ref] <= limit else 'NOT met'})"
            print(f"    {name:24s} {times[name] / times[ref]:5.2f}x{verdict}")


if __name__ == "__main__":
    main()
