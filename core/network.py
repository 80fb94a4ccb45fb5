"""The binary-weight LeNet the chip runs: layer specs as data, the model file, one forward pass.

Semantics (the chip simulation reproduces them exactly):

* input codes ``x0 = round_half_up(pix * M / 255)``, ``M = 2^input_bits - 1`` (127 at 7 b);
* every weight layer is a matrix ``(rows, filters)`` of +/-1, a conv layer's rows being its receptive
  field flattened in (ky, kx, c) order; rows are split into row tiles of at most 64 (one array
  invocation each);
* one tile gives the ideal-ADC partial code ``p = clip(round_half_up(S / s), lo, max_code)`` with
  ``S = sum(w * x)`` over the tile's rows, ``s`` the layer's odd ADC step, ``lo = 0`` ("relu") or
  ``-max_code`` ("signed");
* off the array, in digital logic: ``P = sum_t p_t``; conv layers requantise
  ``a = clip(floor(alpha * P + beta + 0.5), 0, M)`` (float64 arithmetic on the stored float32
  alpha, beta) and 2x2 max-pool; the fc layer gives scores ``z = alpha * P + beta``; prediction argmax.

:func:`forward` owns every digital step. The array part is the pluggable ``partial_codes`` callable,
by default :func:`exact_partial_codes` (the ideal chip in exact integer arithmetic); a chip-based
evaluator with the same signature gives the analog result.
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from convsram.core.mnist import DataError

FORMAT = "convsram-model"
VERSION = 1
IMAGE_SIZE = 28
N_CLASSES = 10
MODES = ("relu", "signed")
KINDS = ("conv", "fc")
DEFAULT_BITS = 7

# partial_codes(layer_index, tile_index, x_tile) -> codes (n, filters); x_tile is (n, tile rows)
PartialCodes = Callable[[int, int, np.ndarray], np.ndarray]


# --- architecture ------------------------------------------------------------------------------
def tile_bounds(length: int, max_rows: int = 64) -> list[tuple[int, int]]:
    """Split ``range(length)`` into ceil(length / max_rows) contiguous near-equal tiles, larger first."""
    if length < 1 or max_rows < 1:
        raise ValueError(f"length and max_rows must be positive, got {length}, {max_rows}")
    n = -(-length // max_rows)
    base, extra = divmod(length, n)
    bounds, start = [], 0
    for t in range(n):
        stop = start + base + (1 if t < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


@dataclass(frozen=True)
class LayerSpec:
    """One weight layer: what it computes and how its rows are tiled onto the array."""

    name: str
    kind: str  # "conv" or "fc"
    kernel: int  # k of a k x k conv; 1 for fc
    in_channels: int  # conv: input channels; fc: input length
    out_channels: int  # filters (array columns per tile)
    tiles: tuple[tuple[int, int], ...]  # row ranges [start, stop), contiguous, covering all rows
    mode: str  # ADC mode: "relu" or "signed"
    pool: int = 0  # max-pool window after requantisation (0: none)

    @property
    def rows(self) -> int:
        """Length of one filter: k * k * C for conv, the input length for fc."""
        return self.kernel * self.kernel * self.in_channels

    @property
    def n_tiles(self) -> int:
        return len(self.tiles)

    @property
    def columns(self) -> int:
        """Array columns the layer occupies: one per filter per tile."""
        return self.n_tiles * self.out_channels

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tiles"] = [list(t) for t in self.tiles]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerSpec:
        d = dict(d)
        d["tiles"] = tuple((int(a), int(b)) for a, b in d["tiles"])
        return cls(**d)


def conv_tiles(kernel: int, in_channels: int, max_rows: int = 64) -> tuple[tuple[int, int], ...]:
    """Row tiles of a conv filter: one tile if it fits, else one per kernel row if those fit."""
    rows = kernel * kernel * in_channels
    if rows <= max_rows:
        return ((0, rows),)
    per_row = kernel * in_channels
    if per_row <= max_rows:
        return tuple((ky * per_row, (ky + 1) * per_row) for ky in range(kernel))
    return tuple(tile_bounds(rows, max_rows))


def lenet_bw(conv1: int = 16, conv2: int = 32, max_rows: int = 64) -> list[LayerSpec]:
    """The default architecture: conv5x5(conv1) - pool - conv3x3(conv2) - pool - fc(10)."""
    fc_in = 5 * 5 * conv2
    return [
        LayerSpec("conv1", "conv", 5, 1, conv1, conv_tiles(5, 1, max_rows), "relu", 2),
        LayerSpec("conv2", "conv", 3, conv1, conv2, conv_tiles(3, conv1, max_rows), "signed", 2),
        LayerSpec("fc", "fc", 1, fc_in, N_CLASSES, tuple(tile_bounds(fc_in, max_rows)), "signed", 0),
    ]


def layer_shapes(layers: Sequence[LayerSpec], size: int = IMAGE_SIZE) -> list[dict[str, tuple[int, ...]]]:
    """Per layer: input shape, conv output (H, W, F) and pooled output shape, for one image."""
    shapes: list[dict[str, tuple[int, ...]]] = []
    h, c = size, 1
    for spec in layers:
        if spec.kind == "conv":
            o = h - spec.kernel + 1
            pooled = o // spec.pool if spec.pool else o
            shapes.append({"input": (h, h, c), "conv": (o, o, spec.out_channels),
                           "output": (pooled, pooled, spec.out_channels)})
            h, c = pooled, spec.out_channels
        else:
            f = (spec.out_channels,)
            shapes.append({"input": (h * h * c,), "conv": f, "output": f})
            h, c = 1, spec.out_channels
    return shapes


def check_architecture(layers: Sequence[LayerSpec], max_rows: int = 64) -> None:
    """Raise ValueError (one line) if the layers do not chain on a 28x28x1 input or tiles are wrong."""
    if not layers:
        raise ValueError("architecture has no layers")
    h, c = IMAGE_SIZE, 1
    for i, spec in enumerate(layers):
        where = f"layer {i} ({spec.name})"
        if spec.kind not in KINDS or spec.mode not in MODES:
            raise ValueError(f"{where}: kind must be one of {KINDS} and mode one of {MODES}")
        if min(spec.kernel, spec.in_channels, spec.out_channels) < 1 or spec.pool < 0:
            raise ValueError(f"{where}: kernel, channels must be positive and pool >= 0")
        if spec.kind == "conv":
            if spec.in_channels != c or spec.kernel > h:
                raise ValueError(f"{where}: expects {spec.in_channels} channels, kernel {spec.kernel}, "
                                 f"but its input is {h}x{h}x{c}")
            h = h - spec.kernel + 1
            if spec.pool:
                if h % spec.pool:
                    raise ValueError(f"{where}: output {h}x{h} does not divide by pool {spec.pool}")
                h //= spec.pool
            c = spec.out_channels
        else:
            if spec.kernel != 1 or spec.in_channels != h * h * c or spec.pool:
                raise ValueError(f"{where}: fc expects {spec.in_channels} inputs (kernel 1, no pool), "
                                 f"its input has {h * h * c}")
            h, c = 1, spec.out_channels
        start = 0
        for a, b in spec.tiles:
            if a != start or b <= a or b - a > max_rows:
                raise ValueError(f"{where}: tiles {list(spec.tiles)} must be contiguous from 0, each "
                                 f"1..{max_rows} rows")
            start = b
        if start != spec.rows:
            raise ValueError(f"{where}: tiles cover {start} rows, the filter has {spec.rows}")
    if layers[-1].kind != "fc":
        raise ValueError("the last layer must be fc (class scores)")
    if any(s.kind == "fc" for s in layers[:-1]):
        raise ValueError("only the last layer may be fc")


@dataclass
class Model:
    """Layer specs and per-layer parameters: weights (rows, filters) int8 +/-1, alpha and beta
    (filters,) float32, an odd positive integer ADC step; plus free-form training metadata."""

    layers: list[LayerSpec]
    weights: list[np.ndarray]
    alpha: list[np.ndarray]
    beta: list[np.ndarray]
    adc_step: list[int]
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.weights = [np.asarray(w, dtype=np.int8) for w in self.weights]
        self.alpha = [np.asarray(a, dtype=np.float32) for a in self.alpha]
        self.beta = [np.asarray(b, dtype=np.float32) for b in self.beta]
        self.adc_step = [int(s) for s in self.adc_step]

    def validate(self) -> None:
        """Raise ValueError (one line) if parameters disagree with the architecture."""
        check_architecture(self.layers)
        n = len(self.layers)
        if not len(self.weights) == len(self.alpha) == len(self.beta) == len(self.adc_step) == n:
            raise ValueError(f"{n} layers but {len(self.weights)} weights, {len(self.alpha)} alpha, "
                             f"{len(self.beta)} beta, {len(self.adc_step)} ADC steps")
        for spec, w, a, b, s in zip(self.layers, self.weights, self.alpha, self.beta, self.adc_step,
                                    strict=True):
            if w.shape != (spec.rows, spec.out_channels):
                raise ValueError(f"{spec.name}: weights have shape {w.shape}, the architecture needs "
                                 f"({spec.rows}, {spec.out_channels})")
            if not np.isin(w, (-1, 1)).all():
                raise ValueError(f"{spec.name}: weights must all be +1 or -1")
            for label, v in (("alpha", a), ("beta", b)):
                if v.shape != (spec.out_channels,) or not np.isfinite(v).all():
                    raise ValueError(f"{spec.name}: {label} must be {spec.out_channels} finite numbers, "
                                     f"got shape {v.shape}")
            if s < 1 or s % 2 == 0:
                raise ValueError(f"{spec.name}: ADC step must be an odd positive integer, got {s}")

    @property
    def columns(self) -> int:
        """Array columns all layers occupy together (sum of tiles x filters)."""
        return sum(spec.columns for spec in self.layers)


# --- the model file ----------------------------------------------------------------------------
MAX_LAYERS = 32
MAX_MEMBER_BYTES = 64 << 20  # no member of a real model comes near this (LeNet: 30 KB)
MAX_JSON_CHARS = 1 << 20


def save_model(model: Model, path: Path | str) -> Path:
    """Write `model` as a versioned compressed .npz (int8 weights), atomically; returns the path."""
    from convsram.core.files import atomic_open, check_output

    model.validate()
    path = check_output(path, ("npz",))
    arrays: dict[str, Any] = {
        "format": np.array(FORMAT), "version": np.array(VERSION),
        "architecture": np.array(json.dumps([s.to_dict() for s in model.layers])),
        "training": np.array(json.dumps(model.training, sort_keys=True)),
    }
    for spec, w, a, b, s in zip(model.layers, model.weights, model.alpha, model.beta, model.adc_step,
                                strict=True):
        arrays[f"{spec.name}.weights"] = w.astype(np.int8)
        arrays[f"{spec.name}.alpha"] = a.astype(np.float32)
        arrays[f"{spec.name}.beta"] = b.astype(np.float32)
        arrays[f"{spec.name}.adc_step"] = np.array(s, dtype=np.int64)
    with atomic_open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


class _Members:
    """The .npz as a zip, read one defined member at a time: each member's .npy header (shape, dtype)
    is checked against what the format allows before a byte of its data is read."""

    def __init__(self, zf: zipfile.ZipFile, path: Path) -> None:
        self.zf, self.path = zf, path
        self.names = set(zf.namelist())

    def get(self, key: str, kinds: str, shape: tuple[int, ...] | None = None,
            max_bytes: int = MAX_MEMBER_BYTES) -> np.ndarray:
        """Member `key` as an array of dtype kind in `kinds` and (if given) exactly `shape`."""
        where = f"model file {self.path}: {key}"
        if key + ".npy" not in self.names:
            raise DataError(f"model file {self.path}: missing key {key!r}; not a complete convsram model")
        with self.zf.open(key + ".npy") as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0), (3, 0)):
                raise DataError(f"{where}: unknown .npy version {version}")
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            found, fortran, dtype = read_header(f, max_header_size=10_000)
            if dtype.hasobject or dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype:
                raise DataError(f"{where}: stored as {dtype}, expected {self._kinds(kinds)}")
            if shape is not None and tuple(found) != shape:
                raise DataError(f"{where}: shape {tuple(found)}, the architecture needs {shape}")
            count = math.prod(found)
            if count * dtype.itemsize > max_bytes:
                raise DataError(f"{where}: declares {count * dtype.itemsize} bytes (shape {tuple(found)}), "
                                f"more than the {max_bytes} a model member may hold")
            data = f.read(count * dtype.itemsize)
            if len(data) != count * dtype.itemsize:
                raise DataError(f"{where}: truncated ({len(data)} of {count * dtype.itemsize} bytes)")
        return np.frombuffer(data, dtype=dtype).reshape(found, order="F" if fortran else "C")

    @staticmethod
    def _kinds(kinds: str) -> str:
        names = {"U": "text", "i": "integers", "u": "integers", "f": "floats"}
        return " or ".join(dict.fromkeys(names[k] for k in kinds))

    def text(self, key: str, limit: int = MAX_JSON_CHARS) -> str:
        return str(self.get(key, "U", (), max_bytes=4 * limit))


def _json(text: str, path: Path, key: str) -> Any:
    from convsram.core.files import check_nesting

    try:
        check_nesting(text, f"model file {path}: {key} JSON")
        return json.loads(text)
    except RecursionError:
        raise DataError(f"model file {path}: {key} JSON nested too deeply") from None
    except (json.JSONDecodeError, ValueError) as exc:
        raise DataError(f"model file {path}: bad {key} JSON ({str(exc)[:160]})") from None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _layer(d: Any, i: int, path: Path) -> LayerSpec:
    """One architecture entry, every field checked by its type (kernel 5.0 is an error, not 5)."""
    where = f"model file {path}: architecture layer {i}"
    if not isinstance(d, dict):
        raise DataError(f"{where} is not an object")
    names = {f.name for f in LayerSpec.__dataclass_fields__.values()}
    unknown = sorted(set(d) - names)
    if unknown:
        raise DataError(f"{where}: unknown field {str(unknown[0])[:40]!r}")
    missing = sorted(n for n in names - set(d) if n != "pool")
    if missing:
        raise DataError(f"{where}: missing field {missing[0]!r}")
    for key in ("name", "kind", "mode"):
        if not isinstance(d[key], str) or not 0 < len(d[key]) <= 64:
            raise DataError(f"{where}: {key} must be a short string")
    for key in ("kernel", "in_channels", "out_channels", "pool"):
        if key in d and not (_is_int(d[key]) and 0 <= d[key] <= 1 << 20):
            raise DataError(f"{where}: {key} must be an integer, got {str(d[key])[:40]}")
    tiles = d["tiles"]
    if not (isinstance(tiles, list) and 0 < len(tiles) <= 4096
            and all(isinstance(t, list) and len(t) == 2 and all(_is_int(v) for v in t) for t in tiles)):
        raise DataError(f"{where}: tiles must be a list of [start, stop] integer pairs")
    return LayerSpec(**{**d, "tiles": tuple((a, b) for a, b in tiles)})


def load_model(path: Path | str) -> Model:
    """Read a model file; raise DataError (one line naming the file) if it is missing or malformed.

    Only the members the format defines are read, each after its declared shape and dtype are checked
    (an unused or oversized member costs nothing); no pickles."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"model file {path} not found; train one with `convsram train --out {path}`")
    try:
        with zipfile.ZipFile(path) as zf:
            return _read_model(_Members(zf, path), path)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, NotImplementedError,
            zlib.error, RuntimeError) as exc:
        first = str(exc).splitlines()[0][:160] if str(exc) else "unreadable"
        raise DataError(f"model file {path} is corrupt or not a .npz ({type(exc).__name__}: {first})") \
            from None


def _read_model(z: _Members, path: Path) -> Model:
    if z.text("format", 64) != FORMAT:
        raise DataError(f"model file {path}: format {z.text('format', 64)[:40]!r}, expected {FORMAT!r}")
    version = z.get("version", "iu", ())
    if int(version) != VERSION:
        raise DataError(f"model file {path}: format version {int(version)}, this program reads version "
                        f"{VERSION}")
    arch = _json(z.text("architecture"), path, "architecture")
    if not isinstance(arch, list) or not 0 < len(arch) <= MAX_LAYERS:
        raise DataError(f"model file {path}: architecture must be a list of 1..{MAX_LAYERS} layers")
    layers = [_layer(d, i, path) for i, d in enumerate(arch)]
    if len({s.name for s in layers}) != len(layers):
        raise DataError(f"model file {path}: two layers share a name")
    training = _json(z.text("training"), path, "training")
    if not isinstance(training, dict):
        raise DataError(f"model file {path}: training metadata must be a JSON object")
    try:
        check_architecture(layers)
    except ValueError as exc:
        raise DataError(f"model file {path}: {exc}") from None
    try:
        model = Model(layers=layers,
                      weights=[_exact_int8(z.get(f"{s.name}.weights", "iuf", (s.rows, s.out_channels)),
                                           path, s.name) for s in layers],
                      alpha=[z.get(f"{s.name}.alpha", "f", (s.out_channels,)) for s in layers],
                      beta=[z.get(f"{s.name}.beta", "f", (s.out_channels,)) for s in layers],
                      adc_step=[_step(z.get(f"{s.name}.adc_step", "iu", ()), path, s.name) for s in layers],
                      training=training)
        model.validate()
    except DataError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(f"model file {path}: {exc}") from None
    return model


def _step(v: np.ndarray, path: Path, name: str) -> int:
    step = int(v)
    if not 1 <= step <= 1 << 30:
        raise DataError(f"model file {path}: {name}: ADC step must be an odd positive integer, got {step}")
    return step


def _exact_int8(w: np.ndarray, path: Path, name: str) -> np.ndarray:
    """Weights as int8 without silently wrapping or truncating other values."""
    w = np.asarray(w)
    if w.dtype.kind not in "iuf" or not np.isin(w, (-1, 1)).all():
        raise DataError(f"model file {path}: {name} weights must all be +1 or -1")
    return w.astype(np.int8)


# --- arithmetic shared by forward and training -------------------------------------------------
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


def fc_scores(p: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Class scores alpha * P + beta (float64)."""
    return np.asarray(alpha, np.float64) * p + np.asarray(beta, np.float64)


def im2col(x: np.ndarray, kernel: int) -> np.ndarray:
    """Valid k x k patches of x (batch, H, W, C) as (batch, H-k+1, W-k+1, k*k*C) in (ky, kx, c) order."""
    if x.ndim != 4:
        raise ValueError(f"im2col expects (batch, H, W, C), got shape {x.shape}")
    b, h, w, c = x.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(1, 2))  # b,ho,wo,c,ky,kx
    return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(
        b, h - kernel + 1, w - kernel + 1, kernel * kernel * c)


def max_pool(x: np.ndarray, size: int) -> np.ndarray:
    """Non-overlapping size x size max-pool of (batch, H, W, C)."""
    b, h, w, c = x.shape
    return x.reshape(b, h // size, size, w // size, size, c).max(axis=(2, 4))


def exact_partial_codes(model: Model, max_code: int = 2**DEFAULT_BITS - 1) -> PartialCodes:
    """The ideal chip: a `partial_codes` callable computing S exactly and the ideal ADC code."""
    w32 = [w.astype(np.float32) for w in model.weights]

    def partial_codes(layer: int, tile: int, x_tile: np.ndarray) -> np.ndarray:
        a, b = model.layers[layer].tiles[tile]
        # float32 products and sums of integers are exact while |S| < 2^24 (here |S| <= 64 * 127)
        s = np.asarray(x_tile, dtype=np.float32) @ w32[layer][a:b]
        step = model.adc_step[layer]
        # round_half_up(S / step) in float32: S is exact and |S| / step carries a relative error
        # below 2^-22, far less than the distance 1 / (2 step) of an odd-step quotient from a tie
        s *= np.float32(1.0 / step)
        s += np.float32(0.5)
        np.floor(s, out=s)
        lo = 0 if model.layers[layer].mode == "relu" else -max_code
        np.clip(s, lo, max_code, out=s)
        return s.astype(np.int32)

    return partial_codes


# --- the forward pass --------------------------------------------------------------------------
def _bits(config: Any, name: str) -> int:
    return DEFAULT_BITS if config is None else int(getattr(config, name))


def forward(model: Model, codes_in: np.ndarray, partial_codes: PartialCodes | None = None,
            record: dict[str, np.ndarray] | None = None, config: Any = None,
            batch_size: int = 1000) -> np.ndarray:
    """Class scores (batch, 10) float64 of input codes (batch, 28, 28) through the model.

    partial_codes(layer_index, tile_index, x_tile) returns one tile's codes (n, filters) for its inputs
    x_tile (n, tile rows) (int32 codes, n = batch x output positions); default: the exact ideal chip
    :func:`exact_partial_codes`. config: a ChipConfig-like object giving ``input_bits`` and
    ``adc_bits`` (default 7 and 7). If `record` is a dict it is filled, per layer name, with
    ``name.P`` (summed codes, conv (batch, H, W, F) / fc (batch, 10)), ``name.act`` (requantised
    codes before pooling) and ``name.out`` (after pooling); ``input`` holds the input codes.
    Images are processed in chunks of `batch_size` (the callable sees each chunk).
    """
    x = np.asarray(codes_in)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"input codes must have shape (batch, 28, 28), got {x.shape}")
    max_input, max_code = 2 ** _bits(config, "input_bits") - 1, 2 ** _bits(config, "adc_bits") - 1
    if x.size and (x.min() < 0 or x.max() > max_input):
        raise ValueError(f"input codes must be in 0..{max_input}, got {x.min()}..{x.max()}")
    if len(x) == 0:
        return np.zeros((0, model.layers[-1].out_channels))
    if partial_codes is None:
        partial_codes = exact_partial_codes(model, max_code)
    chunks: list[np.ndarray] = []
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(x), batch_size):
        rec: dict[str, np.ndarray] | None = {} if record is not None else None
        chunks.append(_forward_chunk(model, x[start:start + batch_size], partial_codes, rec, max_input))
        if rec is not None:
            for k, v in rec.items():
                parts.setdefault(k, []).append(v)
    if record is not None:
        record.update({k: np.concatenate(v) for k, v in parts.items()})
    return np.concatenate(chunks)


def _forward_chunk(model: Model, x: np.ndarray, partial_codes: PartialCodes,
                   record: dict[str, np.ndarray] | None, max_input: int) -> np.ndarray:
    small = max_input <= 255
    a = x.astype(np.uint8 if small else np.int32)[..., None]  # (b, 28, 28, 1)
    if record is not None:
        record["input"] = x.astype(np.int32)
    b = len(a)
    for i, spec in enumerate(model.layers):
        if spec.kind == "conv":
            patches = im2col(a, spec.kernel)
            grid = patches.shape[1:3]
            flat = patches.reshape(-1, spec.rows)
        else:
            flat = a.reshape(b, -1)
        p = np.asarray(partial_codes(i, 0, flat[:, slice(*spec.tiles[0])]), dtype=np.int32)
        for t, (r0, r1) in enumerate(spec.tiles[1:], start=1):
            p = p + partial_codes(i, t, flat[:, r0:r1])  # never in place: p may be the callee's array
        if spec.kind == "fc":
            if record is not None:
                record[f"{spec.name}.P"] = p
            return fc_scores(p, model.alpha[i], model.beta[i])
        p = p.reshape(b, *grid, spec.out_channels)
        act = requantise(p, model.alpha[i], model.beta[i], max_input)
        if small:
            act = act.astype(np.uint8)
        a = max_pool(act, spec.pool) if spec.pool else act
        if record is not None:
            record[f"{spec.name}.P"] = p
            record[f"{spec.name}.act"] = act
            record[f"{spec.name}.out"] = a
    raise ValueError("architecture must end with an fc layer")


def predict(model: Model, images: np.ndarray, partial_codes: PartialCodes | None = None,
            config: Any = None) -> np.ndarray:
    """Predicted classes (batch,) of uint8 images (batch, 28, 28)."""
    codes = input_codes(images, _bits(config, "input_bits"))
    return forward(model, codes, partial_codes, config=config).argmax(axis=1)


# --- counts for reports ------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerCounts:
    """Work of one layer for one image: on the array (MACs, tile conversions) and digital ops."""

    name: str
    positions: int  # output positions (conv: H x W before pooling; fc: 1)
    macs: int  # multiply-accumulates, positions x rows x filters
    conversions: int  # ADC conversions, positions x tiles x filters
    tile_adds: int  # adding partial codes of the tiles, positions x (tiles - 1) x filters
    requant_mults: int  # alpha x P, one per output value (fc: scores)
    requant_adds: int  # + beta, one per output value
    pool_compares: int  # max-pool comparisons, (window^2 - 1) per pooled value
    argmax_compares: int  # class-score comparisons (last layer: classes - 1)

    @property
    def digital_ops(self) -> int:
        return self.tile_adds + self.requant_mults + self.requant_adds + self.pool_compares \
            + self.argmax_compares


def op_counts(model_or_layers: Model | Sequence[LayerSpec]) -> list[LayerCounts]:
    """Per-layer counts for one image (see :class:`LayerCounts`)."""
    layers = model_or_layers.layers if isinstance(model_or_layers, Model) else list(model_or_layers)
    out = []
    for spec, shp in zip(layers, layer_shapes(layers), strict=True):
        f = spec.out_channels
        positions = math.prod(shp["conv"][:2]) if spec.kind == "conv" else 1
        values = positions * f
        pooled = math.prod(shp["output"]) if spec.kind == "conv" and spec.pool else 0
        out.append(LayerCounts(
            name=spec.name, positions=positions, macs=values * spec.rows, conversions=values * spec.n_tiles,
            tile_adds=values * (spec.n_tiles - 1), requant_mults=values, requant_adds=values,
            pool_compares=pooled * (spec.pool**2 - 1) if pooled else 0,
            argmax_compares=f - 1 if spec.kind == "fc" else 0))
    return out
