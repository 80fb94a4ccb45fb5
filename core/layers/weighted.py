"""Layers that run on the array: convolution and fully connected.

One weight layer is a matrix (rows, filters) of +/-1; a conv layer's rows are its receptive field
flattened in (ky, kx, c) order, an fc layer's its input flattened in (h, w, c) order. Rows are split
into tiles of at most the array's height, one invocation each; the tiles' ideal-ADC codes are summed
in digital logic. Then either requantisation to the next layer's input codes
``clip(floor(alpha P + beta + 0.5), 0, M)``, or, for the network's output layer, the class scores
``alpha P + beta``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from convsram.core.layers import arith
from convsram.core.layers.base import INPUT, Node, RunContext, Shape, TrainContext, fmt_shape, register, size

MODES = ("relu", "signed")


def binarise(w: np.ndarray) -> np.ndarray:
    """sign(w) with sign(0) = +1, as float32."""
    return np.where(w >= 0, 1.0, -1.0).astype(np.float32)


@dataclass
class WeightCache:
    x: np.ndarray  # layer input rows (n, rows) float32
    in_shape: tuple[int, ...]  # shape of the layer's input activation (batch first)
    p: np.ndarray  # summed codes (n, F) float32
    tile_masks: list[np.ndarray]  # where each tile's ADC is not clipping
    u_mask: np.ndarray | None = None  # where requantisation is not clipping (None: output layer)


@dataclass(frozen=True)
class WeightLayer(Node):
    """What conv and fc share: filters of +/-1 weights, row tiles, an ADC mode."""

    weighted = True
    in_channels: int  # conv: input channels; fc: input length
    out_channels: int  # filters (array columns per tile)
    tiles: tuple[tuple[int, int], ...]  # row ranges [start, stop), contiguous, covering all rows
    mode: str  # ADC mode: "relu" or "signed"

    # --- geometry a subclass defines ----------------------------------------------------------
    @property
    def rows(self) -> int:
        raise NotImplementedError

    def patches(self, a: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
        """(rows of every output position (n, rows), output grid) of a batch of inputs."""
        raise NotImplementedError

    def patches_adjoint(self, dx: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def row_source(self, a: np.ndarray) -> np.ndarray:
        """What :meth:`rows_into` reads its rows from, made once per batch of inputs `a`: here the
        patches transposed, (rows, n); a subclass may keep something smaller."""
        return self.patches(a)[0].T

    def rows_into(self, source: np.ndarray, j0: int, j1: int, out: np.ndarray, add: np.ndarray) -> None:
        """Rows j0..j1-1 of the patches transposed, + add (j1 - j0,) per row, cast into `out`
        (j1 - j0, n): every output position's inputs on those rows, image-major (what the array's
        rows see, one row after another: a matmul over them packs its operand fast)."""
        np.add(source[j0:j1], add[:, None], out=out, casting="unsafe")

    @property
    def row_unit(self) -> int:
        """Rows :meth:`rows_into` copies best together (a conv's kernel cell: its input channels)."""
        return 1

    def tile_patches(self, a: np.ndarray, dtype: type) -> tuple[list[np.ndarray], tuple[int, ...]]:
        """:meth:`patches` as `dtype`, one contiguous (n, tile rows) array per row tile (a matmul runs
        several times faster on it than on a slice)."""
        flat, grid = self.patches(a)
        return [flat[:, r0:r1].astype(dtype) for r0, r1 in self.tiles], grid

    def windows(self, in_shape: Shape) -> list[tuple[int, int] | None]:
        """Top-left input pixel (y, x) of every output position in row-major order (None: one
        position that sees the whole input); may lie outside the input where it is padded."""
        raise NotImplementedError

    def field_mask(self, in_shape: Shape, window: tuple[int, int] | None,
                   rows: tuple[int, int]) -> np.ndarray:
        """Boolean mask over the input (in_shape) of the inputs on rows r0..r1 at this window."""
        raise NotImplementedError

    def kernel_shape(self, in_shape: Shape) -> tuple[int, int, int]:
        """(H, W, C) of one filter's receptive field."""
        raise NotImplementedError

    # --- common ---------------------------------------------------------------------------------
    @property
    def n_tiles(self) -> int:
        return len(self.tiles)

    @property
    def columns(self) -> int:
        """Array columns the layer occupies: one per filter per tile."""
        return self.n_tiles * self.out_channels

    def check_tiles(self, max_rows: int) -> None:
        if self.mode not in MODES:
            raise ValueError(f"{self.where()}: mode must be one of {MODES}, got {self.mode!r}")
        if min(self.in_channels, self.out_channels) < 1:
            raise ValueError(f"{self.where()}: channels must be positive")
        start = 0
        for a, b in self.tiles:
            if a != start or b <= a or b - a > max_rows:
                raise ValueError(f"{self.where()}: tiles {list(self.tiles)} must be contiguous from 0, each "
                                 f"1..{max_rows} rows")
            start = b
        if start != self.rows:
            raise ValueError(f"{self.where()}: tiles cover {start} rows, the filter has {self.rows}")

    def positions(self, in_shape: Shape) -> int:
        return len(self.windows(in_shape))

    def digital_ops(self, in_shapes: Sequence[Shape], out: Shape) -> dict[str, int]:
        values = self.positions(in_shapes[0]) * self.out_channels
        return {"tile_adds": values * (self.n_tiles - 1), "requant_mults": values, "requant_adds": values}

    def forward(self, xs: list[np.ndarray], ctx: RunContext) -> np.ndarray:
        """Summed codes of the tiles, then the scores (output layer) or the requantised codes; if
        ``ctx.fused`` names a max-pool after this layer, its pooled codes (pooling the summed codes
        before requantisation gives the same values: requantisation is monotone in P per filter)."""
        model = ctx.model
        li = model.graph.index[self.name]
        a = xs[0]
        # all tiles at once, each tile's codes in -max_code..max_code (the provider's max_code)
        whole = getattr(ctx.partial_codes, "layer_codes", None)
        p = whole(li, self, a) if whole is not None else None
        fast = p is not None
        if p is None:
            flat, grid = self.patches(a)
            p = np.asarray(ctx.partial_codes(li, 0, flat[:, slice(*self.tiles[0])]), dtype=np.int32)
            for t, (r0, r1) in enumerate(self.tiles[1:], start=1):
                p = p + ctx.partial_codes(li, t, flat[:, r0:r1])  # not in place: p may be the callee's
            p = p.reshape(len(a), *grid, self.out_channels)
        if ctx.record is not None:
            ctx.record[f"{self.name}.P"] = np.asarray(p, dtype=np.int32)
        if model.graph.output == self.name:
            return arith.fc_scores(np.asarray(p, dtype=np.int32), model.alpha[li], model.beta[li])
        pool = ctx.fused.get(self.name)
        if fast:
            act = self._requantise(p, li, ctx, pool)
        else:
            act = arith.requantise(p, model.alpha[li], model.beta[li], ctx.max_input)
            if pool is not None:
                act = arith.max_pool(act, pool.size, pool.step)
        if ctx.small:
            act = act.astype(np.uint8, copy=False)
        if ctx.record is not None:
            ctx.record[f"{self.name}.act"] = act
        return act

    def _requantise(self, p: np.ndarray, li: int, ctx: RunContext, pool: Any) -> np.ndarray:
        """Requantised codes (pooled first if `pool`) by table lookup; p holds summed codes in range
        (filters last, maybe a view of a filters-first array: the work is done in its memory order)."""
        model = ctx.model
        span = self.n_tiles * int(ctx.partial_codes.max_code)  # type: ignore[attr-defined]
        # the table of everything it is made of (ctx.tables may outlive the chunk: the provider's own)
        key = (li, span, ctx.max_input, model.alpha[li].tobytes(), model.beta[li].tobytes())
        if key not in ctx.tables:
            lo = 0 if self.mode == "relu" else -span
            table = arith.requant_table(model.alpha[li], model.beta[li], lo, span, ctx.max_input)
            ctx.tables[key] = (table.astype(np.uint8) if ctx.small else table, lo)
        table, lo = ctx.tables[key]
        first = np.moveaxis(p, -1, 0)
        axis = 0 if first.flags.c_contiguous and p.ndim > 1 else p.ndim - 1
        q = first if axis == 0 else p
        if pool is not None:
            q = _max_pool(q, pool.size, pool.step, axis, model.alpha[li] < 0)
        act = arith.lookup(table, q, lo, axis)
        return np.ascontiguousarray(np.moveaxis(act, 0, -1)) if axis == 0 else act

    def train_forward(self, xs: list[np.ndarray], ctx: TrainContext) -> tuple[np.ndarray, Any]:
        tr = ctx.trainer
        li = tr.graph.index[self.name]
        m = tr.max_code
        a = xs[0]
        x, grid = self.patches(a)
        wb = binarise(tr.params[f"w{li}"])
        sums = [x[:, r0:r1] @ wb[r0:r1] for r0, r1 in self.tiles]
        if ctx.calibrate is not None:
            level = np.percentile(np.abs(np.concatenate([s.ravel() for s in sums])), ctx.calibrate)
            new = max(1, 2 * int(round((level / m - 1) / 2)) + 1)  # nearest odd integer
            tr.params[f"a{li}"] *= np.float32(new / tr.steps[li])
            tr.steps[li] = new
        s_step = np.float32(tr.steps[li])
        lo = 0 if self.mode == "relu" else -m
        p: np.ndarray = np.zeros((len(x), self.out_channels), np.float32)
        masks = []
        for s in sums:
            if ctx.train and ctx.noise > 0:
                if ctx.rng is None:
                    raise ValueError("noise injection needs an rng")
                s += (ctx.noise * ctx.rng.standard_normal(s.shape)).astype(np.float32)
            # float32 is exact here: S is an integer below 2^24, and S / s lies at least 1 / (2s)
            # from a rounding tie (s odd), far beyond the float32 error of a code below 2^7
            q = s / s_step
            p += np.clip(np.floor(q + np.float32(0.5)), lo, m)
            if ctx.train:
                masks.append((q >= lo - 0.5) & (q <= m + 0.5))
        output = tr.graph.output == self.name
        if ctx.init_scale:
            sa, _ = tr.scales(li)
            spread = np.std(p) if output else np.percentile(np.abs(p), 99.0) / m
            tr.params[f"a{li}"][:] = np.float32(1.0 / max(float(spread), 1e-3) / sa)
        alpha, beta = tr.alpha_beta(li)
        cache = WeightCache(x=x, in_shape=a.shape, p=p, tile_masks=masks)
        if ctx.record is not None:
            ctx.record[f"{self.name}.P"] = p.reshape(len(a), *grid, self.out_channels).astype(np.int32)
        if output:
            return arith.fc_scores(p, alpha, beta), cache
        p = p.reshape(len(a), *grid, self.out_channels)
        # the digital requantisation in float64, the very formula of arith.requantise
        u = alpha.astype(np.float64) * p + beta.astype(np.float64)
        if ctx.train:
            cache.u_mask = ((u >= -0.5) & (u <= m + 0.5)).astype(np.float32)
            if tr.leak:
                cache.u_mask[u < -0.5] = tr.leak
        act = np.clip(np.floor(u + 0.5), 0, m).astype(np.float32)
        if ctx.record is not None:
            ctx.record[f"{self.name}.act"] = act.astype(np.uint8)
        return act, cache

    def train_backward(self, g: np.ndarray, cache: Any, ctx: TrainContext) -> list[np.ndarray | None]:
        tr, c = ctx.trainer, cache
        li = tr.graph.index[self.name]
        alpha, _ = tr.alpha_beta(li)
        sa, sb = tr.scales(li)
        if c.u_mask is None:
            du = g.astype(np.float32)
        else:
            du = (g * c.u_mask).reshape(-1, self.out_channels).astype(np.float32)
        ctx.grads[f"a{li}"] = (du * c.p).sum(0) * np.float32(sa)
        ctx.grads[f"b{li}"] = du.sum(0) * np.float32(sb)
        dp = du * alpha
        w = tr.params[f"w{li}"]
        wb = binarise(w)
        dwb = np.zeros_like(w)
        need_dx = self.inputs[0] != INPUT
        dx = np.zeros_like(c.x) if need_dx else None
        for (r0, r1), mask in zip(self.tiles, c.tile_masks, strict=True):
            ds = dp * mask / np.float32(tr.steps[li])
            dwb[r0:r1] = c.x[:, r0:r1].T @ ds
            if dx is not None:
                dx[:, r0:r1] = ds @ wb[r0:r1].T
        ctx.grads[f"w{li}"] = dwb * (np.abs(w) <= 1)
        return [None if dx is None else self.patches_adjoint(dx, c.in_shape)]


def _max_pool(p: np.ndarray, size: int, step: int, axis: int, flip: np.ndarray) -> np.ndarray:
    """Max-pool of summed codes p (batch, H, W, F) (axis -1) or (F, batch, H, W) (axis 0); filters
    with `flip` (a negative alpha: requantisation decreasing in P) take the smallest P instead."""
    shape = [1] * p.ndim
    shape[axis] = len(flip)
    sign = None
    if flip.any():
        sign = np.where(flip, -1, 1).astype(p.dtype).reshape(shape)
        p = p * sign
    # the largest of the window's strided planes (H, W: axes 2, 3 or 1, 2)
    y = 2 if axis == 0 else 1
    ho, wo = arith.conv_out(p.shape[y], size, step), arith.conv_out(p.shape[y + 1], size, step)
    rows = [slice(d, d + step * (ho - 1) + 1, step) for d in range(size)]
    cols = [slice(d, d + step * (wo - 1) + 1, step) for d in range(size)]
    lead = (slice(None),) * y
    out = np.array(p[(*lead, rows[0], cols[0])])
    for dy in range(size):
        for dx in range(size):
            if dy or dx:
                np.maximum(out, p[(*lead, rows[dy], cols[dx])], out=out)
    return out * sign if sign is not None else out


@register
@dataclass(frozen=True)
class Conv(WeightLayer):
    """k x k convolution with stride and zero padding (padding inputs are code 0: no DAC drop)."""

    kind = "conv"
    kernel: int
    stride: int = 1
    padding: int = 0

    @property
    def rows(self) -> int:
        return self.kernel * self.kernel * self.in_channels

    def out_shape(self, shapes: Sequence[Shape]) -> Shape:
        self.check_arity(shapes, 1)
        s = shapes[0]
        if len(s) != 3 or s[2] != self.in_channels:
            raise ValueError(f"{self.where()}: expects maps with {self.in_channels} channels, its input is "
                             f"{fmt_shape(s)}")
        if self.kernel < 1 or self.stride < 1 or self.padding >= self.kernel:
            raise ValueError(f"{self.where()}: kernel and stride must be positive, padding below the kernel")
        if self.kernel > min(s[0], s[1]) + 2 * self.padding:
            raise ValueError(f"{self.where()}: kernel {self.kernel} larger than its padded input "
                             f"{fmt_shape(s)}")
        return (arith.conv_out(s[0], self.kernel, self.stride, self.padding),
                arith.conv_out(s[1], self.kernel, self.stride, self.padding), self.out_channels)

    def patches(self, a: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
        cols = arith.im2col(a, self.kernel, self.stride, self.padding)
        return cols.reshape(-1, self.rows), cols.shape[1:3]

    def patches_adjoint(self, dx: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
        return arith.col2im(dx, in_shape, self.kernel, self.stride, self.padding)

    def row_source(self, a: np.ndarray) -> np.ndarray:
        # the padded input channels first, (C, batch, H, W): a row's plane is a strided window of it
        p = self.padding
        return np.pad(np.moveaxis(a, -1, 0), ((0, 0), (0, 0), (p, p), (p, p)))

    def rows_into(self, source: np.ndarray, j0: int, j1: int, out: np.ndarray, add: np.ndarray) -> None:
        c, b, hp, wp = source.shape
        s = self.stride
        ho, wo = arith.conv_out(hp, self.kernel, s), arith.conv_out(wp, self.kernel, s)
        planes = out.reshape(j1 - j0, b, ho, wo)
        j = j0
        while j < j1:  # one kernel cell (ky, kx) at a time: its channels' planes in one call
            cell, c0 = divmod(j, c)
            ky, kx = divmod(cell, self.kernel)
            c1 = min(c, c0 + j1 - j)
            win = source[c0:c1, :, ky:ky + s * (ho - 1) + 1:s, kx:kx + s * (wo - 1) + 1:s]
            np.add(win, add[j - j0:j - j0 + c1 - c0, None, None, None], out=planes[j - j0:j - j0 + c1 - c0],
                   casting="unsafe")
            j += c1 - c0

    @property
    def row_unit(self) -> int:
        return self.in_channels

    def tile_patches(self, a: np.ndarray, dtype: type) -> tuple[list[np.ndarray], tuple[int, ...]]:
        # tile by tile, measured fastest for the exact path on many channels
        if self.n_tiles > 1 and self.in_channels >= 8:
            ho = arith.conv_out(a.shape[1], self.kernel, self.stride, self.padding)
            wo = arith.conv_out(a.shape[2], self.kernel, self.stride, self.padding)
            tiles = arith.im2col_tiles(a, self.kernel, self.stride, self.padding, self.tiles, dtype)
            return tiles, (ho, wo)
        # the whole patches in one pass, then each tile copied out
        cols = arith.im2col(a, self.kernel, self.stride, self.padding, dtype=dtype)
        flat = cols.reshape(-1, self.rows)
        tiles = [flat] if self.n_tiles == 1 else [np.ascontiguousarray(flat[:, r0:r1])
                                                  for r0, r1 in self.tiles]
        return tiles, cols.shape[1:3]

    def windows(self, in_shape: Shape) -> list[tuple[int, int] | None]:
        ho, wo, _ = self.out_shape([in_shape])
        s, p = self.stride, self.padding
        return [(y * s - p, x * s - p) for y in range(ho) for x in range(wo)]

    def field_mask(self, in_shape: Shape, window: tuple[int, int] | None,
                   rows: tuple[int, int]) -> np.ndarray:
        h, w, c = in_shape
        k = self.kernel
        win = np.zeros(k * k * c, dtype=bool)
        win[rows[0]:rows[1]] = True
        win3 = win.reshape(k, k, c)
        y, x = window or (0, 0)
        mask = np.zeros((h, w, c), dtype=bool)
        y0, x0 = max(y, 0), max(x, 0)
        y1, x1 = min(y + k, h), min(x + k, w)
        if y1 > y0 and x1 > x0:
            mask[y0:y1, x0:x1] = win3[y0 - y:y1 - y, x0 - x:x1 - x]
        return mask

    def kernel_shape(self, in_shape: Shape) -> tuple[int, int, int]:
        return self.kernel, self.kernel, self.in_channels

    def field(self, span: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        y0, y1, x0, x1 = span
        s, p, k = self.stride, self.padding, self.kernel
        return y0 * s - p, (y1 - 1) * s - p + k, x0 * s - p, (x1 - 1) * s - p + k

    def describe(self, in_shapes: Sequence[Shape], out: Shape) -> tuple[str, str]:
        extra = (f"/{self.stride}" if self.stride > 1 else "") + (f" p{self.padding}" if self.padding else "")
        tiles = f"{self.n_tiles} tile{'s' if self.n_tiles > 1 else ''}"
        k = self.kernel
        return self.name, f"{k}×{k}×{self.in_channels}→{self.out_channels}{extra}, {tiles}"

    def short(self) -> str:
        return f"{self.kernel}×{self.kernel}, {self.out_channels} filters"


@register
@dataclass(frozen=True)
class FC(WeightLayer):
    """Fully connected: every input (flattened in (h, w, c) order) on a row, one filter per output."""

    kind = "fc"

    @property
    def rows(self) -> int:
        return self.in_channels

    def out_shape(self, shapes: Sequence[Shape]) -> Shape:
        self.check_arity(shapes, 1)
        if size(shapes[0]) != self.in_channels:
            raise ValueError(f"{self.where()}: expects {self.in_channels} inputs, its input "
                             f"{fmt_shape(shapes[0])} has {size(shapes[0])}")
        return (self.out_channels,)

    def patches(self, a: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
        return a.reshape(len(a), -1), ()

    def patches_adjoint(self, dx: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
        return dx.reshape(in_shape)

    def windows(self, in_shape: Shape) -> list[tuple[int, int] | None]:
        return [None]

    def field_mask(self, in_shape: Shape, window: tuple[int, int] | None,
                   rows: tuple[int, int]) -> np.ndarray:
        mask = np.zeros(size(in_shape), dtype=bool)
        mask[rows[0]:rows[1]] = True
        return mask.reshape(in_shape)

    def kernel_shape(self, in_shape: Shape) -> tuple[int, int, int]:
        if len(in_shape) == 3:
            return int(in_shape[0]), int(in_shape[1]), int(in_shape[2])
        return 1, size(in_shape), 1

    def field(self, span: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        return -(1 << 20), 1 << 20, -(1 << 20), 1 << 20  # every input (clipped to the image by the caller)

    def describe(self, in_shapes: Sequence[Shape], out: Shape) -> tuple[str, str]:
        tiles = f"{self.n_tiles} tile{'s' if self.n_tiles > 1 else ''}"
        return self.name, f"{self.in_channels}→{self.out_channels}, {tiles}"

    def short(self) -> str:
        return f"{self.out_channels} outputs"
