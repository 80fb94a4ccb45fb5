"""Digital steps between the array's layers: max-pool, average-pool, residual add, flatten.

Each works on integer codes 0..M and gives codes 0..M, exactly; none touches the array."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from convsram.core.layers import arith
from convsram.core.layers.base import Node, RunContext, Shape, TrainContext, fmt_shape, register, size


@dataclass(frozen=True)
class Pool(Node):
    """A size x size window every `stride` pixels (0: stride = size), floor mode, no padding."""

    size: int
    stride: int = 0

    @property
    def step(self) -> int:
        return self.stride or self.size

    def out_shape(self, shapes: Sequence[Shape]) -> Shape:
        self.check_arity(shapes, 1)
        s = shapes[0]
        if len(s) != 3:
            raise ValueError(f"{self.where()}: pools feature maps, its input is {fmt_shape(s)}")
        if self.size < 1 or self.size > min(s[0], s[1]):
            raise ValueError(f"{self.where()}: window {self.size} does not fit its input {fmt_shape(s)}")
        return (arith.conv_out(s[0], self.size, self.step), arith.conv_out(s[1], self.size, self.step), s[2])

    def window_size(self) -> int:
        return self.size

    def step_windows(self, in_shape: Shape, out: Shape) -> list[tuple[int, int] | None]:
        return [(y * self.step, x * self.step) for y in range(out[0]) for x in range(out[1])]

    def field(self, span: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        y0, y1, x0, x1 = span
        s, k = self.step, self.size
        return y0 * s, (y1 - 1) * s + k, x0 * s, (x1 - 1) * s + k

    def describe(self, in_shapes: Sequence[Shape], out: Shape) -> tuple[str, str]:
        stride = f"/{self.step}" if self.step != self.size else ""
        return self.name, f"{self.label} {self.size}×{self.size}{stride}"

    label = "pool"


@register
@dataclass(frozen=True)
class MaxPool(Pool):
    """The largest code of each window."""

    kind = "maxpool"
    label = "max"

    def forward(self, xs: list[np.ndarray], ctx: RunContext) -> np.ndarray:
        return arith.max_pool(xs[0], self.size, self.step)

    def float_forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return arith.max_pool(xs[0], self.size, self.step)

    def train_forward(self, xs: list[np.ndarray], ctx: TrainContext) -> tuple[np.ndarray, Any]:
        out = arith.max_pool(xs[0], self.size, self.step)
        return out, (xs[0], out)

    def train_backward(self, g: np.ndarray, cache: Any, ctx: TrainContext) -> list[np.ndarray | None]:
        x, out = cache
        return [arith.unpool_max(x, out, g, self.size, self.step)]

    def digital_ops(self, in_shapes: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"pool_compares": size(out) * (self.size**2 - 1)}

    def step_cells(self, x: np.ndarray, window: tuple[int, int] | None) -> np.ndarray:
        """The winner of each map's window (the first of equal maxima, as the comparator chain keeps)."""
        y, x0 = window or (0, 0)
        k = self.size
        win = x[y:y + k, x0:x0 + k]  # (k, k, C)
        best = np.argmax(win.reshape(-1, win.shape[2]), axis=0)
        mask = np.zeros(x.shape, dtype=bool)
        dy, dx = np.divmod(best, win.shape[1])
        mask[y + dy, x0 + dx, np.arange(win.shape[2])] = True
        return mask

    def short(self) -> str:
        return f"largest of {self.size}×{self.size}"


@register
@dataclass(frozen=True)
class AvgPool(Pool):
    """The mean code of each window, rounded half up (global average pooling: size = the map)."""

    kind = "avgpool"
    label = "mean"

    def forward(self, xs: list[np.ndarray], ctx: RunContext) -> np.ndarray:
        out = arith.avg_pool(xs[0], self.size, self.step)
        return out.astype(np.uint8) if ctx.small else out

    def float_forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return arith.windows(xs[0], self.size, self.step).mean(axis=(4, 5), dtype=np.float32)

    def train_forward(self, xs: list[np.ndarray], ctx: TrainContext) -> tuple[np.ndarray, Any]:
        n = np.float32(self.size * self.size)
        total = arith.windows(xs[0], self.size, self.step).sum(axis=(4, 5), dtype=np.float32)
        out = np.floor_divide(2 * total + n, 2 * n)  # exact: small integers in float32
        return out.astype(np.float32), xs[0].shape

    def train_backward(self, g: np.ndarray, cache: Any, ctx: TrainContext) -> list[np.ndarray | None]:
        return [arith.unpool_avg(cache, g, self.size, self.step)]

    def digital_ops(self, in_shapes: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"pool_adds": size(out) * self.size**2}  # size^2 - 1 adds and the rounding add

    def short(self) -> str:
        return f"mean of {self.size}×{self.size}"


@register
@dataclass(frozen=True)
class Add(Node):
    """Residual add: clip(a + b + ..., 0, M) of maps of one shape."""

    kind = "add"

    def out_shape(self, shapes: Sequence[Shape]) -> Shape:
        if len(shapes) < 2:
            raise ValueError(f"{self.where()}: adds at least 2 inputs, got {len(shapes)}")
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"{self.where()}: inputs differ in shape "
                             f"({', '.join(fmt_shape(s) for s in shapes)})")
        return shapes[0]

    def forward(self, xs: list[np.ndarray], ctx: RunContext) -> np.ndarray:
        total = np.asarray(xs[0], np.int32)
        for x in xs[1:]:
            total = total + x
        out = np.clip(total, 0, ctx.max_input)
        return out.astype(np.uint8) if ctx.small else out.astype(np.int32)

    def float_forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return sum(xs[1:], xs[0])

    def train_forward(self, xs: list[np.ndarray], ctx: TrainContext) -> tuple[np.ndarray, Any]:
        total = xs[0].astype(np.float32)
        for x in xs[1:]:
            total = total + x
        m = ctx.trainer.max_code
        return np.clip(total, 0, m), (total <= m).astype(np.float32)

    def train_backward(self, g: np.ndarray, cache: Any, ctx: TrainContext) -> list[np.ndarray | None]:
        d = (g * cache).astype(np.float32)
        return [d] * len(self.inputs)

    def digital_ops(self, in_shapes: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"residual_adds": size(out) * (len(in_shapes) - 1)}

    def describe(self, in_shapes: Sequence[Shape], out: Shape) -> tuple[str, str]:
        return self.name, f"+ {self.inputs[0]}"

    def short(self) -> str:
        return "adds the shortcut"


@register
@dataclass(frozen=True)
class Flatten(Node):
    """Maps (H, W, C) to one vector in (h, w, c) order (what an fc layer's rows take anyway)."""

    kind = "flatten"
    reshape_only = True

    def out_shape(self, shapes: Sequence[Shape]) -> Shape:
        self.check_arity(shapes, 1)
        return (size(shapes[0]),)

    def forward(self, xs: list[np.ndarray], ctx: RunContext) -> np.ndarray:
        return xs[0].reshape(len(xs[0]), -1)

    def float_forward(self, xs: list[np.ndarray]) -> np.ndarray:
        return xs[0].reshape(len(xs[0]), -1)

    def train_forward(self, xs: list[np.ndarray], ctx: TrainContext) -> tuple[np.ndarray, Any]:
        return xs[0].reshape(len(xs[0]), -1), xs[0].shape

    def train_backward(self, g: np.ndarray, cache: Any, ctx: TrainContext) -> list[np.ndarray | None]:
        return [g.reshape(cache)]

    def field(self, span: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        return -(1 << 20), 1 << 20, -(1 << 20), 1 << 20

    def short(self) -> str:
        return "one long vector"
