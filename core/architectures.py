"""Networks the trainer can build, by name: the shipped LeNet and a deeper residual network.

Each builder takes two widths (channels of the first and of the later stages) and returns graph nodes
(:mod:`core.layers`); tiles are cut to the 64-row array (:func:`core.network.conv_tiles`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from convsram.core.layers import FC, Add, AvgPool, Conv, Flatten, MaxPool, Node
from convsram.core.network import conv_tiles, lenet_graph, tile_bounds


def _conv(name: str, src: str, k: int, c_in: int, c_out: int, stride: int = 1,
          padding: int = 0) -> Conv:
    tiles = conv_tiles(k, c_in)  # several tiles: a signed ADC keeps the negative partial sums
    return Conv(name, (src,), c_in, c_out, tiles, "relu" if len(tiles) == 1 else "signed", k, stride, padding)


def resnet_bw(c1: int = 16, c2: int = 32) -> list[Node]:
    """A binary-weight residual network for MNIST: 9 weight layers, 3 residual adds.

    conv0 5x5 (c1) -> pool 2 (12x12) -> block: conv 3x3 p1, conv 3x3 p1, + shortcut -> conv 3x3 /2 p1 to
    c2 (6x6) -> two blocks of (conv 3x3 p1, conv 3x3 p1, + shortcut) -> mean 2x2 (3x3) -> fc 10."""
    n: list[Node] = [_conv("conv0", "input", 5, 1, c1), MaxPool("pool0", ("conv0",), 2)]
    n += [_conv("conv1a", "pool0", 3, c1, c1, padding=1), _conv("conv1b", "conv1a", 3, c1, c1, padding=1),
          Add("add1", ("pool0", "conv1b"))]
    n += [_conv("conv2", "add1", 3, c1, c2, stride=2, padding=1)]
    n += [_conv("conv3a", "conv2", 3, c2, c2, padding=1), _conv("conv3b", "conv3a", 3, c2, c2, padding=1),
          Add("add3", ("conv2", "conv3b"))]
    n += [_conv("conv4a", "add3", 3, c2, c2, padding=1), _conv("conv4b", "conv4a", 3, c2, c2, padding=1),
          Add("add4", ("add3", "conv4b"))]
    fc_in = 3 * 3 * c2
    n += [AvgPool("pool4", ("add4",), 2), Flatten("flat", ("pool4",)),
          FC("fc", ("flat",), fc_in, 10, tuple(tile_bounds(fc_in)), "signed")]
    return n


ARCHITECTURES: dict[str, Callable[[int, int], list[Node]]] = {"lenet": lenet_graph, "resnet": resnet_bw}


def describe(nodes: Sequence[Node]) -> str:
    """What a network is, in words for the screen: "LeNet" for the LeNet structure (whatever its
    widths), "residual network of 9 weight layers" for one with residual adds, else "network of N
    weight layers"."""
    kinds = [type(n).__name__ for n in nodes]
    if kinds == [type(n).__name__ for n in lenet_graph(16, 32)]:
        return "LeNet"
    weighted = sum(isinstance(n, (Conv, FC)) for n in nodes)
    return f"{'residual ' if 'Add' in kinds else ''}network of {weighted} weight layers"
