"""Binary-weight networks the chip runs: the model (a graph of layers plus parameters), the model
file, one forward pass.

Semantics (the chip simulation reproduces them exactly):

* input codes ``x0 = round_half_up(pix * M / 255)``, ``M = 2^input_bits - 1`` (127 at 7 b);
* every weight layer (conv with stride and padding, fc) is a matrix ``(rows, filters)`` of +/-1, a conv
  layer's rows being its receptive field flattened in (ky, kx, c) order; rows are split into row tiles
  of at most 64 (one array invocation each);
* one tile gives the ideal-ADC partial code ``p = clip(round_half_up(S / s), lo, max_code)`` with
  ``S = sum(w * x)`` over the tile's rows, ``s`` the layer's odd ADC step, ``lo = 0`` ("relu") or
  ``-max_code`` ("signed");
* off the array, in digital logic: ``P = sum_t p_t``; weight layers requantise
  ``a = clip(floor(alpha * P + beta + 0.5), 0, M)`` (float64 arithmetic on the stored float32
  alpha, beta), except the last, which gives scores ``z = alpha * P + beta``; max-pool, average-pool
  (rounded half up), residual add (clipped to 0..M) and flatten between them; prediction argmax.

Each layer kind is a class in :mod:`core.layers`; :func:`forward` runs the graph. The array part is the
pluggable ``partial_codes`` callable, by default :func:`exact_partial_codes` (the ideal chip in exact
integer arithmetic); a chip-based evaluator with the same signature gives the analog result.

Model files: version 2 stores the graph of named nodes with their inputs; version 1 (a chain of
conv/fc layer specs with an optional max-pool after each conv) still loads, as the same graph.
"""

from __future__ import annotations

import json
import math
import tokenize
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from convsram.core.layers import (
    INPUT,
    N_CLASSES,
    Conv,
    Graph,
    MaxPool,
    Node,
    RunContext,
    WeightLayer,
    from_v1,
)
from convsram.core.layers.arith import (
    DEFAULT_BITS,
    adc_codes,
    fc_scores,
    im2col,
    im2col_rows,
    input_codes,
    max_pool,
    requantise,
)
from convsram.core.layers.base import PartialCodes, node_from_dict
from convsram.core.mnist import DataError
from convsram.core.threads import run_blocks, spans

__all__ = ["adc_codes", "fc_scores", "im2col", "input_codes", "max_pool", "requantise", "PartialCodes"]

FORMAT = "convsram-model"
VERSION = 2
READS = (1, 2)  # model file versions this program reads
IMAGE_SIZE = 28
MODES = ("relu", "signed")
KINDS = ("conv", "fc")  # version-1 layer tags
EXACT_CHUNK = 128  # images per chunk of the exact path [assumed: its intermediates stay in cache]
FOLD_ROWS = 128  # tile rows up to which the exact path folds 1 / step into the weights (layer_codes)


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
    """A version-1 weight layer (the v1 model file's record; :func:`lenet_bw`); a model turns these
    into graph nodes (:func:`core.layers.graph.from_v1`)."""

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


def lenet_graph(conv1: int = 16, conv2: int = 32, max_rows: int = 64) -> list[Node]:
    """The default architecture as graph nodes: conv1, pool1, conv2, pool2, fc."""
    return from_v1(lenet_bw(conv1, conv2, max_rows))


LayersLike = Sequence[LayerSpec] | Sequence[Node] | Graph


class WeightLayers(list[WeightLayer]):
    """A model's weight layers in order (a list), remembering the graph they belong to, so that
    whatever takes ``model.layers`` (placement, shapes) sees the whole network."""

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph.layers)
        self.graph = graph


def as_graph(layers: LayersLike, max_rows: int = 64) -> Graph:
    """A Graph of version-1 layer specs (a chain), of nodes (the whole graph), of a model's
    ``layers`` (:class:`WeightLayers`), or a Graph as is."""
    if isinstance(layers, Graph):
        return layers
    if isinstance(layers, WeightLayers):
        return layers.graph
    items = list(layers)
    if items and all(isinstance(s, LayerSpec) for s in items):
        return Graph(from_v1(items), max_rows)
    if not all(isinstance(s, Node) for s in items):
        raise ValueError("layers must be all version-1 LayerSpecs or all graph nodes")
    return Graph([s for s in items if isinstance(s, Node)], max_rows)


def layer_shapes(layers: LayersLike | Model) -> list[dict[str, tuple[int, ...]]]:
    """Per weight layer, for one image: its input shape, the maps it reads (``source``: through a
    flatten, the maps before it) and its output (as ``conv`` and ``output``)."""
    graph = layers.graph if isinstance(layers, Model) else as_graph(layers)
    return [{"input": graph.in_shape(i), "source": graph.shapes[graph.layer_source(i)],
             "conv": graph.out_shape(i), "output": graph.out_shape(i)} for i in range(len(graph.layers))]


def check_architecture(layers: LayersLike, max_rows: int = 64) -> None:
    """Raise ValueError (one line) if the layers do not chain on a 28x28x1 input or tiles are wrong."""
    as_graph(layers, max_rows)


@dataclass
class Model:
    """A graph of layers and the parameters of its weight layers, in order: weights (rows, filters)
    int8 +/-1, alpha and beta (filters,) float32, an odd positive integer ADC step; plus free-form
    training metadata.

    ``layers`` may be given as version-1 LayerSpecs (a chain), as graph nodes or as a Graph; after
    construction it lists the weight layers (nodes) and ``graph`` holds the whole network."""

    layers: list[Any]
    weights: list[np.ndarray]
    alpha: list[np.ndarray]
    beta: list[np.ndarray]
    adc_step: list[int]
    training: dict[str, Any] = field(default_factory=dict)
    graph: Graph = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.graph = as_graph(self.layers)
        self.layers = WeightLayers(self.graph)
        self.weights = [np.asarray(w, dtype=np.int8) for w in self.weights]
        self.alpha = [np.asarray(a, dtype=np.float32) for a in self.alpha]
        self.beta = [np.asarray(b, dtype=np.float32) for b in self.beta]
        self.adc_step = [int(s) for s in self.adc_step]

    def validate(self) -> None:
        """Raise ValueError (one line) if parameters disagree with the architecture."""
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
MAX_LAYERS = 32  # version 1
MAX_NODES = 256  # version 2
MAX_MEMBER_BYTES = 64 << 20  # no member of a real model comes near this (LeNet: 30 KB)
MAX_JSON_CHARS = 1 << 20


def save_model(model: Model, path: Path | str) -> Path:
    """Write `model` as a version-2 compressed .npz (the graph as JSON, int8 weights), atomically;
    returns the path."""
    from convsram.core.files import atomic_open, check_output

    model.validate()
    path = check_output(path, ("npz",))
    arrays: dict[str, Any] = {
        "format": np.array(FORMAT), "version": np.array(VERSION),
        "graph": np.array(json.dumps(model.graph.to_list())),
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
            try:
                found, fortran, dtype = read_header(f, max_header_size=10_000)
            except (tokenize.TokenError, SyntaxError) as exc:  # numpy parses an old-style header as Python
                raise DataError(f"{where}: unreadable .npy header ({type(exc).__name__}); the file is "
                                "corrupt: train or export the model again") from None
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
    version = int(z.get("version", "iu", ()))
    if version not in READS:
        raise DataError(f"model file {path}: format version {version}, this program reads versions "
                        f"{', '.join(map(str, READS))}")
    try:
        graph = _graph_v1(z, path) if version == 1 else _graph_v2(z, path)
    except ValueError as exc:
        raise DataError(f"model file {path}: {exc}") from None
    layers = graph.layers
    training = _json(z.text("training"), path, "training")
    if not isinstance(training, dict):
        raise DataError(f"model file {path}: training metadata must be a JSON object")
    try:
        model = Model(layers=WeightLayers(graph),
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


def _graph_v1(z: _Members, path: Path) -> Graph:
    arch = _json(z.text("architecture"), path, "architecture")
    if not isinstance(arch, list) or not 0 < len(arch) <= MAX_LAYERS:
        raise DataError(f"model file {path}: architecture must be a list of 1..{MAX_LAYERS} layers")
    layers = [_layer(d, i, path) for i, d in enumerate(arch)]
    if len({s.name for s in layers}) != len(layers):
        raise DataError(f"model file {path}: two layers share a name")
    return Graph(from_v1(layers))


def _graph_v2(z: _Members, path: Path) -> Graph:
    nodes = _json(z.text("graph"), path, "graph")
    if not isinstance(nodes, list) or not 0 < len(nodes) <= MAX_NODES:
        raise DataError(f"model file {path}: graph must be a list of 1..{MAX_NODES} nodes")
    return Graph([node_from_dict(d, f"graph node {i}") for i, d in enumerate(nodes)])


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


# --- the array part ----------------------------------------------------------------------------
class ExactPartialCodes:
    """The ideal chip in exact integer arithmetic: ``(layer, tile, x_tile) -> codes`` one tile at a
    time, or :meth:`layer_codes` for all tiles of a layer at once (what :func:`forward` uses)."""

    def __init__(self, model: Model, max_code: int = 2**DEFAULT_BITS - 1) -> None:
        self.model, self.max_code = model, max_code
        self.w32 = [w.astype(np.float32) for w in model.weights]
        self.requant_tables: dict[tuple, tuple[np.ndarray, int]] = {}  # made once for all chunks
        self.w_step: dict[int, np.ndarray] = {}

    def _codes(self, layer: int, s: np.ndarray) -> np.ndarray:
        """The ideal ADC in place on tile sums S (float32, exact integers)."""
        step = self.model.adc_step[layer]
        # round_half_up(S / step) in float32: S is exact and |S| / step carries a relative error
        # below 2^-22, far less than the distance 1 / (2 step) of an odd-step quotient from a tie
        s *= np.float32(1.0 / step)
        s += np.float32(0.5)
        np.floor(s, out=s)
        lo = 0 if self.model.layers[layer].mode == "relu" else -self.max_code
        np.clip(s, lo, self.max_code, out=s)
        return s

    def __call__(self, layer: int, tile: int, x_tile: np.ndarray) -> np.ndarray:
        a, b = self.model.layers[layer].tiles[tile]
        # float32 products and sums of integers are exact while |S| < 2^24 (here |S| <= 64 * 127)
        s = np.asarray(x_tile, dtype=np.float32) @ self.w32[layer][a:b]
        return self._codes(layer, s).astype(np.int32)

    def _scaled(self, layer: int) -> np.ndarray:
        """The layer's weights / ADC step in float32 (see :meth:`layer_codes`)."""
        if layer not in self.w_step:
            step = float(self.model.adc_step[layer])
            self.w_step[layer] = (self.model.weights[layer] / step).astype(np.float32)
        return self.w_step[layer]

    def layer_codes(self, layer: int, node: WeightLayer, maps: np.ndarray) -> np.ndarray:
        """Summed codes P (batch, *grid, filters) float32 (exact integers; for a conv on fewer than 4
        channels a view of a filters-first array) of weight layer `layer`.

        With uint8 inputs and tiles of at most FOLD_ROWS rows, S / step comes from one float32 matmul
        against w / step, rounded to nearest: its error, below (n + 1) n 255 2^-24 / step for n rows
        (the standard dot-product bound plus the rounding of 1 / step), stays under half the distance
        1 / (2 step) of S / step from a rounding tie (step odd), so the codes are the exact ones."""
        w = self.w32[layer]
        fold = maps.dtype == np.uint8 and max(r1 - r0 for r0, r1 in node.tiles) <= FOLD_ROWS
        lo = 0 if node.mode == "relu" else -self.max_code
        if isinstance(node, Conv) and node.in_channels < 4:
            # few channels: patches transposed (rows, positions), each row one contiguous plane copy
            # (measured faster than writing every row's value apart), codes filters-first
            xt = im2col_rows(maps, node.kernel, node.stride, node.padding)
            grid = xt.shape[2:]
            xt = xt.reshape(node.rows, -1)
            pt = None
            for r0, r1 in node.tiles:
                if fold:
                    s = self._scaled(layer)[r0:r1].T @ xt[r0:r1]
                    np.rint(s, out=s)
                    np.clip(s, lo, self.max_code, out=s)
                else:
                    s = self._codes(layer, w[r0:r1].T @ xt[r0:r1])
                if pt is None:
                    pt = s
                else:
                    pt += s
            assert pt is not None
            return np.moveaxis(pt.reshape(node.out_channels, len(maps), *grid), 0, -1)
        tiles, grid = node.tile_patches(maps, np.float32)
        p = None
        for x, (r0, r1) in zip(tiles, node.tiles, strict=True):
            if fold:
                s = x @ self._scaled(layer)[r0:r1]
                np.rint(s, out=s)
                np.clip(s, lo, self.max_code, out=s)
            else:
                s = self._codes(layer, x @ w[r0:r1])
            if p is None:
                p = s
            else:
                p += s
        assert p is not None
        return p.reshape(len(maps), *grid, node.out_channels)


def exact_partial_codes(model: Model, max_code: int = 2**DEFAULT_BITS - 1) -> ExactPartialCodes:
    """The ideal chip: a `partial_codes` callable computing S exactly and the ideal ADC code."""
    return ExactPartialCodes(model, max_code)


# --- the forward pass --------------------------------------------------------------------------
def _bits(config: Any, name: str) -> int:
    return DEFAULT_BITS if config is None else int(getattr(config, name))


def forward(model: Model, codes_in: np.ndarray, partial_codes: PartialCodes | None = None,
            record: dict[str, np.ndarray] | None = None, config: Any = None,
            batch_size: int = 1000) -> np.ndarray:
    """Class scores (batch, 10) float64 of input codes (batch, 28, 28) through the model's graph.

    partial_codes(layer_index, tile_index, x_tile) returns one tile's codes (n, filters) for its inputs
    x_tile (n, tile rows) (int32 codes, n = batch x output positions); default: the exact ideal chip
    :func:`exact_partial_codes`. config: a ChipConfig-like object giving ``input_bits`` and
    ``adc_bits`` (default 7 and 7). If `record` is a dict it is filled with ``name.P`` (summed codes,
    conv (batch, H, W, F) / fc (batch, F)) and ``name.act`` (requantised codes) per weight layer,
    ``name.out`` per node but the last (its output codes), and ``input`` (the input codes).
    Images are processed in chunks of `batch_size` (the callable sees each chunk; the default exact
    path, whose result cannot depend on it, uses chunks of at most EXACT_CHUNK on worker threads).
    A callable with ``layer_codes(layer, node, maps)`` and ``max_code`` gives a whole layer's summed
    codes at once (:class:`ExactPartialCodes`, the bulk ``ChipEvaluator``): then the requantisation
    is a table lookup and a max-pool that alone reads the layer pools the summed codes first.
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
        return np.zeros((0, N_CLASSES))
    if partial_codes is None:
        exact = exact_partial_codes(model, max_code)
        if record is None:  # integers: any split gives the same result; small chunks on the workers
            def chunk(a: int, b: int) -> np.ndarray:
                return _forward_chunk(model, x[a:b], exact, None, max_input)

            blocks = spans(len(x), 1, min(batch_size, EXACT_CHUNK))
            return np.concatenate(run_blocks(chunk, blocks, blas=True))
        partial_codes = exact
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


def pool_fusions(graph: Graph) -> dict[str, MaxPool]:
    """Weight layers (not the output) read by one max-pool alone: layer name -> that pool."""
    readers: dict[str, list[Node]] = {}
    for node in graph.nodes:
        for name in node.inputs:
            readers.setdefault(name, []).append(node)
    out = {}
    for name, nodes in readers.items():
        source = graph.by_name.get(name)
        if (isinstance(source, WeightLayer) and name != graph.output and len(nodes) == 1
                and isinstance(nodes[0], MaxPool)):
            out[name] = nodes[0]
    return out


def _forward_chunk(model: Model, x: np.ndarray, partial_codes: PartialCodes,
                   record: dict[str, np.ndarray] | None, max_input: int) -> np.ndarray:
    graph = model.graph
    tables = getattr(partial_codes, "requant_tables", None)
    ctx = RunContext(model, partial_codes, max_input, record, tables={} if tables is None else tables)
    if record is None:  # a recording keeps every node's own output
        ctx.fused = pool_fusions(graph)
    pooled = {pool.name: name for name, pool in ctx.fused.items()}
    values: dict[str, np.ndarray] = {INPUT: x.astype(np.uint8 if ctx.small else np.int32)[..., None]}
    if record is not None:
        record["input"] = x.astype(np.int32)
    last_use = {name: k for k, node in enumerate(graph.nodes) for name in node.inputs}
    for k, node in enumerate(graph.nodes):
        if node.name in pooled:  # its layer gave the pooled maps
            values[node.name] = values.pop(pooled[node.name])
            continue
        out = node.forward([values[n] for n in node.inputs], ctx)
        values[node.name] = out
        if record is not None and node.name != graph.output:
            record[f"{node.name}.out"] = out
        for name in node.inputs:  # free what no later node reads
            if last_use[name] == k:
                values.pop(name, None)
    return values[graph.output]


def predict(model: Model, images: np.ndarray, partial_codes: PartialCodes | None = None,
            config: Any = None) -> np.ndarray:
    """Predicted classes (batch,) of uint8 images (batch, 28, 28)."""
    codes = input_codes(images, _bits(config, "input_bits"))
    return forward(model, codes, partial_codes, config=config).argmax(axis=1)


# --- counts for reports ------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerCounts:
    """Work of one weight layer for one image: on the array (MACs, tile conversions) and digital ops,
    the latter including the digital nodes that follow it (pools, adds) up to the next weight layer."""

    name: str
    positions: int  # output positions (conv: output H x W; fc: 1)
    macs: int  # multiply-accumulates, positions x rows x filters
    conversions: int  # ADC conversions, positions x tiles x filters
    tile_adds: int  # adding partial codes of the tiles, positions x (tiles - 1) x filters
    requant_mults: int  # alpha x P, one per output value (fc: scores)
    requant_adds: int  # + beta, one per output value
    pool_compares: int  # max-pool comparisons, (window^2 - 1) per pooled value
    argmax_compares: int  # class-score comparisons (last layer: classes - 1)
    pool_adds: int = 0  # average-pool additions, window^2 per pooled value (with the rounding add)
    residual_adds: int = 0  # residual additions, (inputs - 1) per value

    @property
    def digital_ops(self) -> int:
        return self.tile_adds + self.requant_mults + self.requant_adds + self.pool_compares \
            + self.argmax_compares + self.pool_adds + self.residual_adds


def op_counts(model_or_layers: Model | LayersLike) -> list[LayerCounts]:
    """Per-weight-layer counts for one image (see :class:`LayerCounts`)."""
    graph = model_or_layers.graph if isinstance(model_or_layers, Model) else as_graph(model_or_layers)
    ops: list[dict[str, int]] = [{} for _ in graph.layers]
    for node in graph.nodes:
        owner = ops[graph.owner_layer(node.name)]
        for key, n in node.digital_ops(graph.in_shapes(node), graph.shapes[node.name]).items():
            owner[key] = owner.get(key, 0) + n
    out = []
    for li, spec in enumerate(graph.layers):
        positions = spec.positions(graph.in_shape(li))
        values = positions * spec.out_channels
        out.append(LayerCounts(
            name=spec.name, positions=positions, macs=values * spec.rows, conversions=values * spec.n_tiles,
            argmax_compares=spec.out_channels - 1 if graph.is_output(li) else 0,
            **{k: ops[li].get(k, 0) for k in ("tile_adds", "requant_mults", "requant_adds", "pool_compares",
                                               "pool_adds", "residual_adds")}))
    return out
