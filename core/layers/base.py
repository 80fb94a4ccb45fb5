"""The node every layer kind derives from, the registry of kinds, and the contexts nodes run in.

A network is a graph of named nodes in topological order; each node names its inputs (``"input"`` is
the image). Shapes are per image: ``(H, W, C)`` for feature maps, ``(N,)`` for vectors. A kind is one
class with a ``kind`` tag, registered with :func:`register`; the model file, the forward passes, the
trainer, the mapping and the views ask the node, never test the tag.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

Shape = tuple[int, ...]
INPUT = "input"  # the name of the image every graph starts from
MAX_DIM = 1 << 20  # no integer field of a real layer comes near this

# partial_codes(layer_index, tile_index, x_tile) -> codes (n, filters); x_tile is (n, tile rows)
PartialCodes = Callable[[int, int, np.ndarray], np.ndarray]


@dataclass
class RunContext:
    """What a node's exact forward needs besides its inputs: the model's parameters by weight-layer
    index, the array part (``partial_codes``), the code range and an optional record."""

    model: Any  # core.network.Model
    partial_codes: PartialCodes
    max_input: int
    record: dict[str, np.ndarray] | None = None
    # weight layer name -> the max-pool that alone reads it: the layer returns the pooled maps
    fused: dict[str, Any] = field(default_factory=dict)
    # requantisation tables (key: layer and what the table is made of); the provider's
    # ``requant_tables`` if it has one, kept from chunk to chunk
    tables: dict[tuple, tuple[np.ndarray, int]] = field(default_factory=dict)

    @property
    def small(self) -> bool:
        """Activations fit uint8 (7-bit codes): kept as uint8, as the shipped path always has."""
        return self.max_input <= 255


@dataclass
class TrainContext:
    """What a node's training forward and backward need (see core.train.Trainer)."""

    trainer: Any  # core.train.Trainer
    train: bool = False
    rng: np.random.Generator | None = None
    noise: float = 0.0
    calibrate: float | None = None
    init_scale: bool = False
    record: dict[str, np.ndarray] | None = None
    grads: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    """One step of the network. Subclasses add their own fields (all ints, strs or int pairs) and
    implement the methods below; the base gives the (de)serialisation and the defaults."""

    kind: ClassVar[str] = ""
    weighted: ClassVar[bool] = False  # runs on the array (has weights, tiles and an ADC step)
    reshape_only: ClassVar[bool] = False  # moves no value (flatten): views look through it
    name: str
    inputs: tuple[str, ...]

    # --- shapes ---------------------------------------------------------------------------------
    def out_shape(self, shapes: Sequence[Shape]) -> Shape:
        """Output shape for input shapes; ValueError (one line naming the node) if they do not fit."""
        raise NotImplementedError

    def where(self) -> str:
        return f"{self.name} ({self.kind})"

    def check_arity(self, shapes: Sequence[Shape], n: int) -> None:
        if len(shapes) != n:
            raise ValueError(f"{self.where()}: takes {n} input{'s' if n > 1 else ''}, got {len(shapes)}")

    # --- exact forward and training -----------------------------------------------------------------
    def forward(self, xs: list[np.ndarray], ctx: RunContext) -> np.ndarray:
        """The exact integer output for a batch of inputs (leading batch axis)."""
        raise NotImplementedError

    def train_forward(self, xs: list[np.ndarray], ctx: TrainContext) -> tuple[np.ndarray, Any]:
        """float32 output equal to :meth:`forward` in eval mode, and what the backward needs."""
        raise NotImplementedError

    def train_backward(self, g: np.ndarray, cache: Any, ctx: TrainContext) -> list[np.ndarray | None]:
        """Gradient w.r.t. each input given the gradient w.r.t. the output (parameter gradients go
        into ctx.grads)."""
        raise NotImplementedError

    def float_forward(self, xs: list[np.ndarray]) -> np.ndarray:
        """A plain float32 version without any quantisation (a reference for benchmarks; digital
        nodes only, weight layers are a matmul there)."""
        raise NotImplementedError

    # --- for reports and views ------------------------------------------------------------------
    def digital_ops(self, in_shapes: Sequence[Shape], out: Shape) -> dict[str, int]:
        """Digital operations for one image, by LayerCounts field name."""
        return {}

    def field(self, span: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """The input rectangle (y0, y1, x0, x1, ends exclusive, maybe past the edges) an output
        rectangle depends on (back through this node, for receptive fields)."""
        return span

    def window_size(self) -> int:
        """Side of the input window one output value reads (a digital step; 1 if elementwise)."""
        return 1

    def step_windows(self, in_shape: Shape, out: Shape) -> list[tuple[int, int] | None]:
        """Top-left input pixel of each output position, row-major (a digital step's frames)."""
        if len(out) != 3:
            return [None]
        return [(y, x) for y in range(out[0]) for x in range(out[1])]

    def step_cells(self, x: np.ndarray, window: tuple[int, int] | None) -> np.ndarray:
        """Boolean mask over one image's first input x (H, W, C): the cells that make the output at
        `window` (a digital step's picture; default: the whole window)."""
        mask = np.zeros(x.shape, dtype=bool)
        y, x0 = window or (0, 0)
        k = self.window_size()
        mask[y:y + k, x0:x0 + k] = True
        return mask

    def describe(self, in_shapes: Sequence[Shape], out: Shape) -> tuple[str, str]:
        """(title, one-line detail) for the layer strip."""
        return self.name, f"→ {fmt_shape(out)}"

    def short(self) -> str:
        """A few words for a visitor (the demo's strip)."""
        return self.kind

    # --- the file -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            v = getattr(self, f.name)
            d[f.name] = [list(t) for t in v] if f.name == "tiles" else list(v) if f.name == "inputs" else v
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> Node:
        """Build from a file's dict; ValueError (one line, `where` first) for any field of the wrong type."""
        names = {f.name: f for f in fields(cls)}
        unknown = sorted(set(d) - set(names) - {"kind"})
        if unknown:
            raise ValueError(f"{where}: unknown field {str(unknown[0])[:40]!r}")
        missing = sorted(n for n, f in names.items() if n not in d and _required(f))
        if missing:
            raise ValueError(f"{where}: missing field {missing[0]!r}")
        kw: dict[str, Any] = {}
        for key, value in d.items():
            if key == "kind":
                continue
            if key == "inputs":
                if not (isinstance(value, list) and 0 < len(value) <= 8
                        and all(isinstance(v, str) and 0 < len(v) <= 64 for v in value)):
                    raise ValueError(f"{where}: inputs must be a list of 1..8 node names")
                kw[key] = tuple(value)
            elif key == "tiles":
                if not (isinstance(value, list) and 0 < len(value) <= 4096 and all(
                        isinstance(t, list) and len(t) == 2 and all(is_int(v) for v in t) for t in value)):
                    raise ValueError(f"{where}: tiles must be a list of [start, stop] integer pairs")
                kw[key] = tuple((int(a), int(b)) for a, b in value)
            elif names[key].type in ("str", str):
                if not isinstance(value, str) or not 0 < len(value) <= 64:
                    raise ValueError(f"{where}: {key} must be a short string")
                kw[key] = value
            else:
                if not (is_int(value) and 0 <= value <= MAX_DIM):
                    raise ValueError(f"{where}: {key} must be an integer, got {str(value)[:40]}")
                kw[key] = int(value)
        return cls(**kw)


def _required(f: Any) -> bool:
    from dataclasses import MISSING

    return f.default is MISSING and f.default_factory is MISSING


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(s) for s in shape)


def size(shape: Shape) -> int:
    return math.prod(shape)


REGISTRY: dict[str, type[Node]] = {}


def register(cls: type[Node]) -> type[Node]:
    """Class decorator: make a node kind known to the model file (its ``kind`` tag must be new)."""
    if not cls.kind or cls.kind in REGISTRY:
        raise ValueError(f"node kind {cls.kind!r} is empty or registered twice")
    REGISTRY[cls.kind] = cls
    return cls


def node_from_dict(d: Any, where: str) -> Node:
    """A node from the model file's dict, its kind looked up in the registry."""
    if not isinstance(d, dict):
        raise ValueError(f"{where} is not an object")
    kind = d.get("kind")
    if not isinstance(kind, str) or kind not in REGISTRY:
        raise ValueError(f"{where}: kind {str(kind)[:40]!r} is not one of {', '.join(sorted(REGISTRY))}")
    return REGISTRY[kind].from_dict(d, where)
