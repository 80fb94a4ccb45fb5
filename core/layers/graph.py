"""A network as a graph of named nodes, checked once: shapes, weight-layer order, the output.

Rules: nodes are listed in topological order and each input names an earlier node or ``input`` (the
28x28x1 image); names are unique; every node's output is used except the last one's; the last node is
a weight layer giving the class scores (a vector of ``N_CLASSES``); tiles fit the array's height."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from convsram.core.layers.base import INPUT, Node, Shape
from convsram.core.layers.digital import MaxPool
from convsram.core.layers.weighted import FC, Conv, WeightLayer

IMAGE_SHAPE: Shape = (28, 28, 1)
N_CLASSES = 10
MAX_NODES = 256


class Graph:
    """Nodes in topological order with their shapes; the weight layers in order, indexed by name."""

    def __init__(self, nodes: Iterable[Node], max_rows: int = 64) -> None:
        self.nodes: tuple[Node, ...] = tuple(nodes)
        if not self.nodes:
            raise ValueError("the network has no layers")
        if len(self.nodes) > MAX_NODES:
            raise ValueError(f"the network has {len(self.nodes)} nodes, more than {MAX_NODES}")
        self.shapes: dict[str, Shape] = {INPUT: IMAGE_SHAPE}
        self.by_name: dict[str, Node] = {}
        used: set[str] = set()
        for node in self.nodes:
            if node.name in self.shapes:
                raise ValueError(f"two nodes are named {node.name!r} (or a node is named 'input')")
            for name in node.inputs:
                if name not in self.shapes:
                    raise ValueError(f"{node.where()}: input {name!r} is not an earlier node")
            if isinstance(node, WeightLayer):
                node.check_tiles(max_rows)
            self.shapes[node.name] = node.out_shape([self.shapes[n] for n in node.inputs])
            self.by_name[node.name] = node
            used.update(node.inputs)
        last = self.nodes[-1]
        unused = [n.name for n in self.nodes[:-1] if n.name not in used]
        if unused:
            raise ValueError(f"the output of {unused[0]} is never used")
        if not isinstance(last, WeightLayer) or self.shapes[last.name] != (N_CLASSES,):
            raise ValueError(f"the last node must be a weight layer giving {N_CLASSES} class scores, got "
                             f"{last.where()} with output {self.shapes[last.name]}")
        self.layers: tuple[WeightLayer, ...] = tuple(n for n in self.nodes if isinstance(n, WeightLayer))
        self.index: dict[str, int] = {n.name: i for i, n in enumerate(self.layers)}
        self.output: str = last.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Graph) and self.nodes == other.nodes

    def __hash__(self) -> int:
        return hash(self.nodes)

    def in_shapes(self, node: Node) -> list[Shape]:
        return [self.shapes[n] for n in node.inputs]

    def in_shape(self, layer: int) -> Shape:
        """Input shape of weight layer `layer` (as its node sees it)."""
        return self.shapes[self.layers[layer].inputs[0]]

    def out_shape(self, layer: int) -> Shape:
        return self.shapes[self.layers[layer].name]

    def is_output(self, layer: int) -> bool:
        return self.layers[layer].name == self.output

    def source(self, name: str) -> str:
        """The node whose values `name` shows, looking through reshape-only nodes (flatten)."""
        while name != INPUT and self.by_name[name].reshape_only:
            name = self.by_name[name].inputs[0]
        return name

    def layer_source(self, layer: int) -> str:
        """The node (or ``input``) whose maps weight layer `layer` reads, through any flatten."""
        return self.source(self.layers[layer].inputs[0])

    def field(self, name: str, span: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """The image rectangle (y0, y1, x0, x1), ends exclusive, that `span` of node `name`'s output
        depends on (the union over residual branches), clipped to the image."""
        memo: dict[tuple[str, tuple[int, int, int, int]], tuple[int, int, int, int]] = {}

        def back(n: str, s: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
            if n == INPUT:
                return s
            key = (n, s)
            if key not in memo:
                node = self.by_name[n]
                inner = node.field(s)
                spans = [back(i, inner) for i in node.inputs]
                memo[key] = (min(a[0] for a in spans), max(a[1] for a in spans),
                             min(a[2] for a in spans), max(a[3] for a in spans))
            return memo[key]

        y0, y1, x0, x1 = back(name, span)
        h, w = IMAGE_SHAPE[:2]
        return max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)

    def owner_layer(self, name: str) -> int:
        """The weight layer a digital node's work is booked to: the last one before it in order."""
        li = 0
        for node in self.nodes:
            if isinstance(node, WeightLayer):
                li = self.index[node.name]
            if node.name == name:
                return li
        raise KeyError(name)

    def to_list(self) -> list[dict[str, Any]]:
        return [n.to_dict() for n in self.nodes]


def _v1_conv(s: Any, prev: str, where: str) -> WeightLayer:
    return Conv(s.name, (prev,), s.in_channels, s.out_channels, tuple(s.tiles), s.mode, s.kernel)


def _v1_fc(s: Any, prev: str, where: str) -> WeightLayer:
    if s.kernel != 1 or s.pool:
        raise ValueError(f"{where}: fc takes kernel 1 and no pool")
    return FC(s.name, (prev,), s.in_channels, s.out_channels, tuple(s.tiles), s.mode)


V1_KINDS = {"conv": _v1_conv, "fc": _v1_fc}  # the version-1 file's layer tags


def from_v1(specs: Sequence[Any]) -> list[Node]:
    """Version-1 layer specs (a chain of conv layers, each maybe followed by a max-pool, then one fc)
    as graph nodes: each ``pool`` becomes its own max-pool node named pool1, pool2, ..."""
    nodes: list[Node] = []
    prev = INPUT
    pools = 0
    for i, s in enumerate(specs):
        where = f"layer {i} ({s.name})"
        if s.kind not in V1_KINDS or s.mode not in ("relu", "signed"):
            raise ValueError(f"{where}: kind must be one of {tuple(V1_KINDS)} and mode one of "
                             "('relu', 'signed')")
        if min(s.kernel, s.in_channels, s.out_channels) < 1 or s.pool < 0:
            raise ValueError(f"{where}: kernel, channels must be positive and pool >= 0")
        nodes.append(V1_KINDS[s.kind](s, prev, where))
        prev = s.name
        if s.pool:
            pools += 1
            name = f"pool{pools}"
            nodes.append(MaxPool(name, (prev,), s.pool))
            prev = name
    return nodes
