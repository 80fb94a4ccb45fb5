"""Seeded random networks for tests: conv (stride, padding), fc, max/avg-pool, residual add, flatten,
with shapes that fit the rules and the array (one macro, 256 columns)."""

from __future__ import annotations

import numpy as np

from convsram.core.config import ChipConfig
from convsram.core.layers import FC, Add, AvgPool, Conv, Flatten, MaxPool, Node
from convsram.core.layers.arith import conv_out
from convsram.core.mapping import place
from convsram.core.network import Model, tile_bounds


def _tiles(rng: np.random.Generator, rows: int) -> tuple[tuple[int, int], ...]:
    return tuple(tile_bounds(rows, int(rng.integers(16, 65))))


def random_nodes(rng: np.random.Generator) -> list[Node]:
    """One random graph (may not fit the array: see :func:`random_model`)."""
    nodes: list[Node] = []
    names = iter(f"n{i}" for i in range(1000))
    cur, (h, c) = "input", (28, 1)

    def conv(k: int, stride: int, pad: int, c_out: int, src: str, c_in: int) -> Conv:
        rows = k * k * c_in
        return Conv(next(names), (src,), c_in, c_out, _tiles(rng, rows), str(rng.choice(["relu", "signed"])),
                    k, stride, pad)

    k = int(rng.choice([3, 5]))
    first = conv(k, int(rng.integers(1, 3)), int(rng.integers(0, 2)), int(rng.integers(2, 6)), cur, c)
    nodes.append(first)
    cur, h, c = first.name, conv_out(h, first.kernel, first.stride, first.padding), first.out_channels
    for _ in range(int(rng.integers(1, 4))):
        op = str(rng.choice(["conv", "maxpool", "avgpool", "residual"]))
        if op in ("maxpool", "avgpool") and h >= 4:
            size = int(rng.choice([2, 3]))
            stride = int(rng.choice([0, 1, 2]))
            node: Node = (MaxPool if op == "maxpool" else AvgPool)(next(names), (cur,), size, stride)
            nodes.append(node)
            h = conv_out(h, size, stride or size)
            cur = node.name
        elif op == "residual" and h >= 3:
            a = conv(3, 1, 1, c, cur, c)
            b = conv(3, 1, 1, c, a.name, c)
            add = Add(next(names), (cur, b.name))
            nodes += [a, b, add]
            cur = add.name
        elif h >= 4:
            node = conv(3, int(rng.integers(1, 3)), int(rng.integers(0, 2)), int(rng.integers(2, 6)), cur, c)
            nodes.append(node)
            cur, h, c = node.name, conv_out(h, 3, node.stride, node.padding), node.out_channels
    n_in = h * h * c
    if rng.random() < 0.5:
        flat = Flatten(next(names), (cur,))
        nodes.append(flat)
        cur = flat.name
    if rng.random() < 0.3 and n_in <= 300:
        hidden = FC(next(names), (cur,), n_in, int(rng.integers(4, 12)), _tiles(rng, n_in), "signed")
        nodes.append(hidden)
        cur, n_in = hidden.name, hidden.out_channels
    nodes.append(FC(next(names), (cur,), n_in, 10, _tiles(rng, n_in), "signed"))
    return nodes


def random_model(seed: int, config: ChipConfig | None = None) -> Model:
    """A random graph that fits one macro of `config` (default geometry), with random parameters."""
    rng = np.random.default_rng(seed)
    for _ in range(200):
        nodes = random_nodes(rng)
        try:
            model = Model(layers=nodes, weights=[], alpha=[], beta=[], adc_step=[])
            place(model, config)
        except ValueError:
            continue
        layers = model.layers
        model.weights = [rng.choice(np.array([-1, 1], np.int8), (s.rows, s.out_channels)) for s in layers]
        model.alpha = [rng.uniform(0.2, 1.5, s.out_channels).astype(np.float32) for s in layers]
        model.beta = [rng.uniform(-10, 20, s.out_channels).astype(np.float32) for s in layers]
        model.adc_step = [int(2 * rng.integers(0, 12) + 1) for _ in layers]
        model.validate()
        return model
    raise AssertionError("no random graph fitted the array in 200 tries")
