"""Integer arithmetic the nodes share: input codes, the ideal ADC, requantisation, patches, pooling.

Everything here is exact: integers, or float arithmetic on integers small enough to be exact, so
the exact path, the trainer in eval mode and the ideal chip agree bit for bit."""

from __future__ import annotations

import numpy as np

DEFAULT_BITS = 7


def input_codes(images: np.ndarray, input_bits: int = DEFAULT_BITS) -> np.ndarray:
    """uint8 pixels -> input codes round_half_up(pix * M / 255), M = 2^input_bits - 1 (int32)."""
    pix = np.asarray(images)
    if pix.dtype != np.uint8:
        raise ValueError(f"images must be uint8 pixels, got {pix.dtype}")
    m = 2**input_bits - 1
    return ((2 * m * pix.astype(np.int32) + 255) // 510).astype(np.int32)


def adc_codes(s: np.ndarray, step: int, mode: str, max_code: int = 2**DEFAULT_BITS - 1) -> np.ndarray:
    """Ideal ADC of a tile: clip(round_half_up(S / step), lo, max_code); exact for integer S."""
    lo = 0 if mode == "relu" else -max_code
    if np.issubdtype(np.asarray(s).dtype, np.integer):
        p = (2 * np.asarray(s, dtype=np.int64) + step) // (2 * step)
    else:
        p = np.floor(np.asarray(s, dtype=np.float64) / step + 0.5)
    return np.clip(p, lo, max_code).astype(np.int32)


def requantise(p: np.ndarray, alpha: np.ndarray, beta: np.ndarray, max_input: int = 2**DEFAULT_BITS - 1
               ) -> np.ndarray:
    """Digital rescale of summed codes to the next layer's input: clip(floor(alpha P + beta + .5), 0, M)."""
    u = np.asarray(alpha, np.float64) * p  # in place from here, the same operations in the same order
    u += np.asarray(beta, np.float64)
    u += 0.5
    np.floor(u, out=u)
    np.clip(u, 0, max_input, out=u)
    return u.astype(np.int32)


def requant_table(alpha: np.ndarray, beta: np.ndarray, lo: int, hi: int, max_input: int = 2**DEFAULT_BITS - 1
                  ) -> np.ndarray:
    """:func:`requantise` of every summed code P in lo..hi for each filter: (filters, hi - lo + 1) int32.
    A lookup in it is the requantisation itself (the same float64 arithmetic, done once per P)."""
    p = np.arange(lo, hi + 1, dtype=np.int32)[:, None]
    return np.ascontiguousarray(requantise(p, alpha, beta, max_input).T)


def lookup(table: np.ndarray, p: np.ndarray, lo: int, axis: int = -1) -> np.ndarray:
    """table[f, P - lo] for every value P of filter f in p (integer values, any integer or float dtype),
    filters along `axis`. The caller guarantees lo <= P < lo + table width (a tile's codes are clipped)."""
    f, width = table.shape
    shape = [1] * p.ndim
    shape[axis] = f
    base = (np.arange(f, dtype=np.intp) * width - lo).reshape(shape)
    if np.issubdtype(p.dtype, np.integer):
        idx = np.add(p, base, dtype=np.intp)
    else:
        idx = np.add(p, base.astype(p.dtype), out=np.empty(p.shape, np.intp), casting="unsafe")
    return np.take(table, idx, mode="wrap")  # in range (see above): "wrap" skips the bounds check's buffering


def fc_scores(p: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Class scores alpha * P + beta (float64)."""
    return np.asarray(alpha, np.float64) * p + np.asarray(beta, np.float64)


def conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output side of a k x k window sliding with `stride` over `size` + 2 `padding` (floor mode)."""
    return (size + 2 * padding - kernel) // stride + 1


def im2col(x: np.ndarray, kernel: int, stride: int = 1, padding: int = 0, dtype: type | None = None
           ) -> np.ndarray:
    """k x k patches of x (batch, H, W, C), zero-padded by `padding`, every `stride`-th, as
    (batch, Ho, Wo, k*k*C) in (ky, kx, c) order (as `dtype`, if given, in the same pass)."""
    if x.ndim != 4:
        raise ValueError(f"im2col expects (batch, H, W, C), got shape {x.shape}")
    if padding:
        x = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    b, h, w, c = x.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(1, 2))  # b,ho,wo,c,ky,kx
    if stride > 1:
        win = win[:, ::stride, ::stride]
    ho, wo = win.shape[1:3]
    if dtype is not None:
        out: np.ndarray = np.empty((b, ho, wo, kernel, kernel, c), dtype=dtype)
        if c < 4:  # few channels: one strided plane per kernel cell (long inner loops)
            for ky in range(kernel):
                for kx in range(kernel):
                    src = x[:, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
                    np.copyto(out[:, :, :, ky, kx], src, casting="unsafe")
        else:
            np.copyto(out, win.transpose(0, 1, 2, 4, 5, 3), casting="unsafe")
        return out.reshape(b, ho, wo, kernel * kernel * c)
    return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(b, ho, wo, kernel * kernel * c)


def im2col_rows(x: np.ndarray, kernel: int, stride: int = 1, padding: int = 0, dtype: type = np.float32
                ) -> np.ndarray:
    """:func:`im2col` transposed: (k*k*C, batch, Ho, Wo), row (ky, kx, c) the input plane that
    kernel cell sees (few channels: whole strided planes copied into contiguous rows)."""
    if padding:
        x = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    b, h, w, c = x.shape
    ho, wo = conv_out(h, kernel, stride), conv_out(w, kernel, stride)
    out: np.ndarray = np.empty((kernel, kernel, c, b, ho, wo), dtype=dtype)
    for ky in range(kernel):
        for kx in range(kernel):
            src = x[:, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
            np.copyto(out[ky, kx], np.moveaxis(src, -1, 0), casting="unsafe")
    return out.reshape(kernel * kernel * c, b, ho, wo)


def im2col_tiles(x: np.ndarray, kernel: int, stride: int, padding: int, tiles: tuple[tuple[int, int], ...],
                 dtype: type) -> list[np.ndarray]:
    """:func:`im2col` (as dtype) cut into row tiles, each its own contiguous
    (batch * Ho * Wo, r1 - r0) array, in one pass. The rows of one kernel row ky at output (y, x),
    (kx, c) in order, are kernel * C consecutive inputs from (y stride + ky, x stride): a tile is
    copied run by run of the kernel rows it covers (measured 1.5-2x faster than cell by cell)."""
    if padding:
        x = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    x = np.ascontiguousarray(x)
    b, hp, wp, c = x.shape
    ho, wo = conv_out(hp, kernel, stride), conv_out(wp, kernel, stride)
    per = kernel * c
    span = np.lib.stride_tricks.as_strided(x, (b, hp, wo, per), (x.strides[0], x.strides[1],
                                           stride * x.strides[2], x.strides[3]), writeable=False)
    out = []
    for r0, r1 in tiles:
        dst: np.ndarray = np.empty((b, ho, wo, r1 - r0), dtype=dtype)
        j = r0
        while j < r1:
            ky, j0 = divmod(j, per)
            j1 = min(per, j0 + r1 - j)
            src = span[:, ky:ky + stride * (ho - 1) + 1:stride, :, j0:j1]
            np.copyto(dst[..., j - r0:j - r0 + j1 - j0], src, casting="unsafe")
            j += j1 - j0
        out.append(dst.reshape(-1, r1 - r0))
    return out


def col2im(dx: np.ndarray, in_shape: tuple[int, ...], kernel: int, stride: int = 1, padding: int = 0
           ) -> np.ndarray:
    """Adjoint of :func:`im2col`: dx (b * Ho * Wo, k*k*C) -> (b, H, W, C) float32."""
    b, h, w, c = in_shape
    ho, wo = conv_out(h, kernel, stride, padding), conv_out(w, kernel, stride, padding)
    d = dx.reshape(b, ho, wo, kernel, kernel, c)
    out = np.zeros((b, h + 2 * padding, w + 2 * padding, c), np.float32)
    for ky in range(kernel):
        for kx in range(kernel):
            out[:, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride, :] \
                += d[:, :, :, ky, kx, :]
    return out[:, padding:padding + h, padding:padding + w, :] if padding else out


def windows(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """(b, Ho, Wo, C, size, size) view of the size x size windows of x (b, H, W, C), floor mode."""
    win = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))
    return win[:, ::stride, ::stride] if stride > 1 else win


def max_pool(x: np.ndarray, size: int, stride: int | None = None) -> np.ndarray:
    """size x size max-pool of (batch, H, W, C) with `stride` (default: size, non-overlapping)."""
    stride = stride or size
    b, h, w, c = x.shape
    if stride == size and h % size == 0 and w % size == 0:
        return x.reshape(b, h // size, size, w // size, size, c).max(axis=(2, 4))
    return windows(x, size, stride).max(axis=(4, 5))


def avg_pool(x: np.ndarray, size: int, stride: int | None = None) -> np.ndarray:
    """size x size average of integer codes, rounded half up: (2 sum + n) // (2 n), n = size^2."""
    stride = stride or size
    n = size * size
    total = windows(np.asarray(x, np.int32), size, stride).sum(axis=(4, 5), dtype=np.int64)
    return ((2 * total + n) // (2 * n)).astype(np.int32)


def unpool_max(x: np.ndarray, out: np.ndarray, g: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Max-pool gradient: each window's gradient shared equally among its maxima."""
    ho, wo = out.shape[1:3]
    count = np.zeros(out.shape, np.float32)
    masks = []
    for dy in range(size):
        for dx in range(size):
            part = x[:, dy:dy + stride * (ho - 1) + 1:stride, dx:dx + stride * (wo - 1) + 1:stride]
            m = part == out
            masks.append(m)
            count += m
    share = g / count
    res = np.zeros(x.shape, np.float32)
    for k, m in enumerate(masks):
        dy, dx = divmod(k, size)
        res[:, dy:dy + stride * (ho - 1) + 1:stride, dx:dx + stride * (wo - 1) + 1:stride] += m * share
    return res


def unpool_avg(shape: tuple[int, ...], g: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Average-pool gradient (straight through the rounding): g / n to every window element."""
    ho, wo = g.shape[1:3]
    res = np.zeros(shape, np.float32)
    share = (g / np.float32(size * size)).astype(np.float32)
    for dy in range(size):
        for dx in range(size):
            res[:, dy:dy + stride * (ho - 1) + 1:stride, dx:dx + stride * (wo - 1) + 1:stride] += share
    return res
