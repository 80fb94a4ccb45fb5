"""Where a result's error comes from: numpy-only analysis behind the app's chip lab.

* :func:`preset_name`, :func:`ideal_config`, :func:`check_fits`: what a configuration is and whether the
  network fits it.
* :class:`IdealTwin`: the ideal chip (every non-ideality off, same operating point) running the same
  images as a session, for side-by-side comparison of voltages, codes, feature maps and scores.
* :func:`mismatch_map`: this chip's static mismatch over the rows x columns array (capacitors per cell,
  DAC errors per row, charge injection per column, ADC offset and gain per group), in display units.
* :func:`layer_signals`, :func:`noise_free_twin`, :func:`static_levels`, :func:`column_stats`,
  :func:`transfer_curve`: every conversion of one layer of one image, ideal against actual, split into
  the chip's static (systematic) error and the per-operation noise, per array column.
* :func:`kernel_picture`: a filter's +/-1 weights as a picture, the tile held by one column marked.
* :func:`mc_summary`, :func:`accuracy_histogram`: Monte Carlo accuracy over chips, one chip placed in it.

Nothing here draws anything or imports Qt; the GUI renders what these return.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from convsram.core.chip import Chip
from convsram.core.config import ChipConfig, knob_fields
from convsram.core.mapping import place

# --- configurations -------------------------------------------------------------------------------


def ideal_config(config: ChipConfig) -> ChipConfig:
    """`config` with every non-ideality off (same geometry and operating point)."""
    return config.idealised()


def preset_name(config: ChipConfig) -> str:
    """'ideal', 'calibrated', 'uncalibrated' or 'harsh' if `config` is that preset (core/presets.py),
    else 'custom'."""
    from convsram.core.presets import name_of
    return name_of(config)


def check_fits(layers: Sequence[Any], config: ChipConfig) -> None:
    """ValueError (one line) if the network's layers cannot be placed on a chip of `config`."""
    place(layers, config)


# --- the ideal chip beside this one ----------------------------------------------------------------


class IdealTwin:
    """An ideal-chip Session on the same model, data (and drawn digits) as a session.

    ``twin.session_for(s)`` returns the ideal session, rebuilt only when the model, the data or the
    operating point changes; its frame (image, k) sits at the same place in the network as frame k of
    `s` (same array map), so the two can be compared value by value."""

    def __init__(self) -> None:
        self._session: Any = None
        self._key: tuple | None = None

    def session_for(self, session: Any) -> Any:
        from convsram.core.session import Session  # the session module is not needed by the rest of analysis

        config = ideal_config(session.config)
        key = (id(session.model), id(session.data), config)
        if self._session is None or self._key != key:
            self._session = Session(session.model, session.data, config, seed=0, image=0)
            self._key = key
        drawings = getattr(session, "drawings", None)
        if drawings is not None:
            self._session.drawings = drawings  # the same dict: new drawings are seen at once
        return self._session

    def frame(self, session: Any, image: int, index: int) -> Any:
        return self.session_for(session).frame_at(image, index)


@dataclass(frozen=True)
class FrameComparison:
    """One invocation on this chip and on the ideal chip (same image, same place in the network).

    ``ideal_*`` are the ideal chip's own values, with its own inputs (the ideal activations of the
    layers before); ``local_ideal_codes`` are what an ideal ADC outputs for *this* chip's inputs."""

    columns: np.ndarray
    v_p: np.ndarray
    v_n: np.ndarray
    ideal_v_p: np.ndarray
    ideal_v_n: np.ndarray
    codes: np.ndarray
    ideal_codes: np.ndarray
    local_ideal_codes: np.ndarray
    inputs_differ: int  # input codes of this invocation that differ from the ideal chip's

    @property
    def code_error(self) -> np.ndarray:
        return self.codes.astype(np.int64) - self.ideal_codes

    @property
    def diff_mv(self) -> np.ndarray:
        return (self.v_n - self.v_p) * 1e3

    @property
    def ideal_diff_mv(self) -> np.ndarray:
        return (self.ideal_v_n - self.ideal_v_p) * 1e3


def compare_frames(frame: Any, ideal: Any) -> FrameComparison:
    """Line voltages and codes of `frame` against the ideal session's frame at the same place."""
    if frame.place.index != ideal.place.index or not np.array_equal(frame.place.columns, ideal.place.columns):
        raise ValueError("the frames sit at different places in the network")
    return FrameComparison(columns=frame.place.columns, v_p=frame.v_p, v_n=frame.v_n, ideal_v_p=ideal.v_p,
                           ideal_v_n=ideal.v_n, codes=frame.codes, ideal_codes=ideal.ideal_codes,
                           local_ideal_codes=frame.ideal_codes,
                           inputs_differ=int((frame.x != ideal.x).sum()))


@dataclass(frozen=True)
class MapComparison:
    chip: np.ndarray  # (H, W, C), NaN where not computed yet
    ideal: np.ndarray
    diff: np.ndarray  # chip - ideal
    differ: int  # computed values that differ
    computed: int
    max_abs: float


def compare_maps(chip: np.ndarray, ideal: np.ndarray) -> MapComparison:
    """Feature maps (or scores) of this chip against the ideal chip's, NaN (not computed yet) kept."""
    chip, ideal = np.asarray(chip, float), np.asarray(ideal, float)
    diff = chip - ideal
    known = ~np.isnan(diff)
    d = diff[known]
    return MapComparison(chip=chip, ideal=ideal, diff=diff, differ=int((d != 0).sum()),
                         computed=int(known.sum()), max_abs=float(np.abs(d).max()) if d.size else 0.0)


# --- static mismatch over the array ------------------------------------------------------------------


@dataclass(frozen=True)
class MapKind:
    """One static-mismatch map, read from its knob's ChipConfig field metadata."""

    title: str
    unit: str  # display unit
    knob: str  # the ChipConfig sigma behind it
    per: str  # "cell", "row", "column" or "ADC group"
    scale: float  # knob value -> display unit
    effect: str  # what the mismatch does to the computation
    label: str  # the knob's label, e.g. "capacitor mismatch σ"


def _maps() -> dict[str, MapKind]:
    return {m.key: MapKind(title=m.title, unit=spec.shown_unit, knob=spec.name, per=str(spec.per),
                           scale=spec.scale, effect=m.effect, label=spec.label)
            for spec in knob_fields() for m in spec.maps}


MAPS: dict[str, MapKind] = _maps()  # in field order: DAC, array, ADC


def mismatch_map(chip: Chip, kind: str) -> np.ndarray:
    """(rows, columns) array of this chip's static mismatch of `kind` (see MAPS) in its display unit;
    per-row, per-column and per-group quantities are broadcast over the cells they affect."""
    if kind not in MAPS:
        raise ValueError(f"unknown mismatch map {kind!r}; one of {', '.join(MAPS)}")
    cfg = chip.config
    shape = (cfg.rows, cfg.columns)
    scale = MAPS[kind].scale  # field unit -> display unit
    if kind == "cap_p":
        values = (chip.cap_p / cfg.c_line - 1.0) * scale
    elif kind == "cap_n":
        values = (chip.cap_n / cfg.c_line - 1.0) * scale
    elif kind == "dac_gain":
        values = np.broadcast_to(((chip.dac_gain - 1.0) * scale)[:, None], shape)
    elif kind == "dac_offset":
        values = np.broadcast_to((chip.dac_offset * scale)[:, None], shape)
    elif kind == "dac_inl":
        values = np.broadcast_to((np.asarray(chip.dac_inl_amp, float) * scale)[:, None], shape)
    elif kind == "injection":
        values = np.broadcast_to((chip.injection * scale)[None, :], shape)
    else:
        per_group = chip.adc_offset if kind == "adc_offset" else chip.adc_gain - 1.0
        values = np.broadcast_to(np.repeat(per_group * scale, cfg.columns_per_group)[None, :], shape)
    return np.array(values, dtype=float)


def mismatch_values(chip: Chip, kind: str) -> np.ndarray:
    """The independent draws behind a map (one per cell, row, column or group), display unit."""
    full = mismatch_map(chip, kind)
    per = MAPS[kind].per
    if per == "cell":
        return full.ravel()
    if per == "row":
        return full[:, 0]
    if per == "column":
        return full[0]
    return full[0, ::chip.config.columns_per_group]


def expected_sigma(config: ChipConfig, kind: str) -> float:
    """The configured spread of a map's values in its display unit (INL: its +/-25 % row spread)."""
    k = MAPS[kind]
    sigma = float(getattr(config, k.knob)) * k.scale
    return 0.25 * sigma if kind == "dac_inl" else sigma


# --- one layer of one image, conversion by conversion --------------------------------------------------


@dataclass(frozen=True)
class LayerSignals:
    """Every conversion of one layer in one image (flattened over invocations x evaluated columns)."""

    layer: int
    frame: np.ndarray  # frame (invocation) of the image
    position: np.ndarray  # output position within the layer
    tile: np.ndarray
    filter: np.ndarray
    column: np.ndarray  # array column
    group: np.ndarray  # ADC group
    v_p: np.ndarray  # V
    v_n: np.ndarray  # V
    ideal_diff: np.ndarray  # V, ideal V_N - V_P for this chip's inputs
    adc_lsb: np.ndarray  # V per code of the conversion's tile
    code: np.ndarray
    ideal_code: np.ndarray  # ideal ADC for this chip's inputs
    keys: np.ndarray  # (n, 2): record index into `records`, column index within it
    records: tuple[tuple[tuple[int, int, int], Any], ...]  # ((layer, tile, chunk), Invocation)
    max_code: int

    @property
    def diff(self) -> np.ndarray:
        return self.v_n - self.v_p

    @property
    def level(self) -> np.ndarray:
        """ADC input in codes, (V_N - V_P) / adc_lsb (before ADC gain, offset and comparator noise)."""
        return self.diff / self.adc_lsb

    @property
    def ideal_level(self) -> np.ndarray:
        return self.ideal_diff / self.adc_lsb

    @property
    def code_error(self) -> np.ndarray:
        return self.code.astype(np.int64) - self.ideal_code

    @property
    def saturated(self) -> np.ndarray:
        return np.abs(self.code) >= self.max_code

    def __len__(self) -> int:
        return int(self.code.size)


def layer_signals(run: Any, layer: int, config: ChipConfig) -> LayerSignals:
    """Every conversion of `layer` in an ImageRun, with where it sits (frame, position, column)."""
    frames: dict[tuple[int, int, int], dict[int, int]] = {}
    filters: dict[tuple[int, int, int], np.ndarray] = {}
    for k, p in enumerate(run.places):
        if p.layer == layer and p.invocation:
            key = (p.layer, p.tile, p.chunk)
            frames.setdefault(key, {})[p.position] = k
            filters.setdefault(key, p.filters)
    records = tuple((key, rec) for key, rec in run.records.items() if key[0] == layer)
    if not records:
        raise ValueError(f"the run holds no invocations of layer {layer}")
    parts: dict[str, list[np.ndarray]] = {name: [] for name in (
        "frame", "position", "tile", "filter", "column", "v_p", "v_n", "ideal_diff", "adc_lsb", "code",
        "ideal_code", "rec", "slot")}
    for r, (key, rec) in enumerate(records):
        positions, k = rec.codes.shape
        pos = np.repeat(np.arange(positions), k)
        slot = np.tile(np.arange(k), positions)
        by_pos = frames[key]
        parts["frame"].append(np.array([by_pos[int(i)] for i in range(positions)])[pos])
        parts["position"].append(pos)
        parts["tile"].append(np.full(pos.size, key[1]))
        parts["filter"].append(np.asarray(filters[key])[slot])
        parts["column"].append(rec.columns[slot])
        parts["v_p"].append(rec.v_p.ravel())
        parts["v_n"].append(rec.v_n.ravel())
        parts["ideal_diff"].append(rec.ideal_diff.ravel())
        parts["adc_lsb"].append(np.full(pos.size, rec.adc_lsb))
        parts["code"].append(rec.codes.ravel())
        parts["ideal_code"].append(rec.ideal_codes.ravel())
        parts["rec"].append(np.full(pos.size, r))
        parts["slot"].append(slot)
    cat = {name: np.concatenate(v) for name, v in parts.items()}
    order = np.lexsort((cat["column"], cat["frame"]))  # in time order, then by column
    cat = {name: v[order] for name, v in cat.items()}
    return LayerSignals(layer=layer, frame=cat["frame"], position=cat["position"], tile=cat["tile"],
                        filter=cat["filter"], column=cat["column"],
                        group=cat["column"] // config.columns_per_group,
                        v_p=cat["v_p"], v_n=cat["v_n"], ideal_diff=cat["ideal_diff"], adc_lsb=cat["adc_lsb"],
                        code=cat["code"], ideal_code=cat["ideal_code"],
                        keys=np.stack([cat["rec"], cat["slot"]], axis=1), records=records,
                        max_code=config.max_code)


def noise_free_twin(chip: Chip) -> Chip:
    """The same chip (same draws, same weights) with kT/C and comparator noise off: what it outputs is
    its static transfer, the systematic part of its error."""
    twin = copy.copy(chip)
    twin.reconfigure(chip.config.with_(ktc_noise=False, comparator_noise_sigma=0.0))
    return twin


@dataclass(frozen=True)
class StaticLevels:
    """Per conversion of a LayerSignals: the noise-free chip's ADC level and code (in codes)."""

    level: np.ndarray  # (V_N - V_P + v_os,g)(1 + a_g) / adc_lsb - correction, before rounding
    code: np.ndarray


def static_levels(chip: Chip, sig: LayerSignals) -> StaticLevels:
    """What this chip converts, noise off, for the same inputs as every conversion in `sig`."""
    twin = noise_free_twin(chip)
    outs = []
    for (_, rec) in sig.records:
        inv = twin.invoke_batch(rec.x, rec.columns, rec.adc_lsb, rec.mode, with_ideal=False, detail=True)
        g = twin.group_of(rec.columns)
        level = inv.diff * twin.adc_gain[g] / rec.adc_lsb + twin.static_offset_codes(rec.columns, rec.adc_lsb)
        outs.append((level, inv.codes))
    r, s = sig.keys[:, 0], sig.keys[:, 1]
    positions = sig.position  # a record's batch axis is the layer's output position
    level = np.empty(len(sig))
    code = np.empty(len(sig), dtype=np.int64)
    for ri, (lv, cd) in enumerate(outs):
        sel = r == ri
        level[sel] = lv[positions[sel], s[sel]]
        code[sel] = cd[positions[sel], s[sel]]
    return StaticLevels(level=level, code=code)


@dataclass(frozen=True)
class ColumnStats:
    """Per array column of one layer in one image; ``worst`` orders them worst first."""

    column: np.ndarray
    filter: np.ndarray
    tile: np.ndarray
    conversions: np.ndarray
    mean_error: np.ndarray  # mean (code - ideal code), LSB
    rms_error: np.ndarray  # LSB
    wrong: np.ndarray  # fraction of conversions whose code differs from the ideal
    max_abs_error: np.ndarray  # LSB
    static_error: np.ndarray  # mean (noise-free code - ideal code): the chip's systematic part, LSB
    noise_rms: np.ndarray  # rms (code - noise-free code): the per-operation part, LSB
    saturated: np.ndarray  # conversions at the ADC's largest code
    worst: np.ndarray  # indices into the arrays above, worst (rms error) first

    def index_of(self, column: int) -> int:
        hit = np.flatnonzero(self.column == column)
        if not hit.size:
            raise KeyError(column)
        return int(hit[0])


def column_stats(sig: LayerSignals, static: StaticLevels | None = None) -> ColumnStats:
    """Error statistics of each array column the layer uses (codes against the ideal ADC's)."""
    cols, inv = np.unique(sig.column, return_inverse=True)
    n = np.bincount(inv, minlength=cols.size).astype(float)
    err = sig.code_error.astype(float)

    def mean(v: np.ndarray) -> np.ndarray:
        return np.bincount(inv, weights=v, minlength=cols.size) / n

    first = np.zeros(cols.size, dtype=np.int64)
    first[inv[::-1]] = np.arange(inv.size)[::-1]
    max_abs = np.zeros(cols.size)
    np.maximum.at(max_abs, inv, np.abs(err))
    if static is not None:
        static_err = mean(static.code - sig.ideal_code.astype(float))
        noise_rms = np.sqrt(mean((sig.code - static.code).astype(float) ** 2))
    else:
        static_err = noise_rms = np.full(cols.size, np.nan)
    rms = np.sqrt(mean(err**2))
    wrong = mean((err != 0).astype(float))
    worst = np.lexsort((-max_abs, -wrong, -rms))
    return ColumnStats(column=cols, filter=sig.filter[first], tile=sig.tile[first], conversions=n.astype(int),
                       mean_error=mean(err), rms_error=rms, wrong=wrong, max_abs_error=max_abs,
                       static_error=static_err, noise_rms=noise_rms,
                       saturated=np.bincount(inv, weights=sig.saturated.astype(float),
                                             minlength=cols.size).astype(int), worst=worst)


@dataclass(frozen=True)
class TransferCurve:
    """One column's conversions in one layer, sorted by the ideal ADC input level."""

    column: int
    ideal_level: np.ndarray  # codes (sum(w*x) / step)
    ideal_code: np.ndarray
    static_level: np.ndarray  # the noise-free chip's ADC level, codes
    static_code: np.ndarray
    code: np.ndarray  # what the chip output (noise included)
    gain_error: float  # fitted slope of static_level against ideal_level, minus 1
    offset: float  # fitted intercept, LSB
    frames: np.ndarray  # frame of each point


def transfer_curve(sig: LayerSignals, static: StaticLevels, column: int) -> TransferCurve:
    """Ideal against actual for one column: the chip's static transfer and its noisy codes."""
    sel = np.flatnonzero(sig.column == column)
    if not sel.size:
        raise ValueError(f"column {column} is not used by layer {sig.layer}")
    order = sel[np.argsort(sig.ideal_level[sel], kind="stable")]
    x, y = sig.ideal_level[order], static.level[order]
    if np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
    else:
        slope, intercept = 1.0, float(np.mean(y - x))
    return TransferCurve(column=column, ideal_level=x, ideal_code=sig.ideal_code[order],
                         static_level=y, static_code=static.code[order], code=sig.code[order],
                         gain_error=float(slope - 1.0), offset=float(intercept), frames=sig.frame[order])


def column_series(sig: LayerSignals, column: int) -> dict[str, np.ndarray]:
    """One column's conversions in time order: frame, position, V_P, V_N, code, ideal code."""
    sel = np.flatnonzero(sig.column == column)
    if not sel.size:
        raise ValueError(f"column {column} is not used by layer {sig.layer}")
    return {"frame": sig.frame[sel], "position": sig.position[sel], "v_p": sig.v_p[sel], "v_n": sig.v_n[sel],
            "code": sig.code[sel], "ideal_code": sig.ideal_code[sel]}


def density(x: np.ndarray, y: np.ndarray, x_range: tuple[float, float], y_range: tuple[float, float],
            bins: int | tuple[int, int] = 160) -> np.ndarray:
    """2-D histogram (rows = y bins from y_range[0] up, columns = x bins): a scatter of thousands of
    points as one image."""
    h, _, _ = np.histogram2d(y, x, bins=bins if isinstance(bins, tuple) else (bins, bins),
                             range=(y_range, x_range))
    return h


# --- the filter behind a column -----------------------------------------------------------------------


def kernel_shape(spec: Any, shapes: Sequence[dict[str, tuple[int, ...]]], layer: int) -> tuple[int, int, int]:
    """(H, W, C) of one filter's receptive field: (k, k, C_in) for conv, the input maps' shape for fc
    (the layer asked: :meth:`core.layers.weighted.WeightLayer.kernel_shape`)."""
    return spec.kernel_shape(shapes[layer]["source"])


def kernel_picture(model: Any, shapes: Sequence[dict[str, tuple[int, ...]]], layer: int, filt: int,
                   tile: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(weights (H, W, C) as +1/-1, tile mask (H, W, C) of the rows held by that column's tile, C).

    Rows of a filter are its receptive field flattened in (ky, kx, c) order for conv, (h, w, c) for fc."""
    spec = model.layers[layer]
    h, w, c = kernel_shape(spec, shapes, layer)
    weights = np.asarray(model.weights[layer][:, filt], dtype=float)
    if weights.size != h * w * c:
        raise ValueError(f"{spec.name}: {weights.size} weights do not fill a {h}x{w}x{c} receptive field")
    r0, r1 = spec.tiles[tile]
    mask = np.zeros(weights.size, dtype=bool)
    mask[r0:r1] = True
    return weights.reshape(h, w, c), mask.reshape(h, w, c), c


# --- Monte Carlo over chips -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MCSummary:
    chips: int
    mean: float
    std: float
    p5: float
    p95: float
    worst: float
    best: float
    this: float | None  # accuracy of the marked chip
    rank: int | None  # 1 = best; ties share the better rank


def mc_summary(accuracies: Sequence[float] | np.ndarray, this: float | None = None) -> MCSummary:
    acc = np.asarray(accuracies, dtype=float)
    if acc.size == 0:
        raise ValueError("no chips evaluated yet")
    rank = None if this is None else int((acc > this).sum()) + 1
    return MCSummary(chips=int(acc.size), mean=float(acc.mean()), std=float(acc.std()),
                     p5=float(np.percentile(acc, 5)), p95=float(np.percentile(acc, 95)),
                     worst=float(acc.min()), best=float(acc.max()), this=this, rank=rank)


def accuracy_histogram(accuracies: Sequence[float] | np.ndarray, images: int,
                       max_bins: int = 40) -> tuple[np.ndarray, np.ndarray, float]:
    """(bin centres, counts, bin width) of accuracies, bins a whole number of images wide so every
    accuracy (a multiple of 1 / images) falls inside one bin."""
    acc = np.asarray(accuracies, dtype=float)
    if acc.size == 0:
        return np.zeros(0), np.zeros(0, int), 1.0 / max(images, 1)
    unit = 1.0 / max(images, 1)
    lo, hi = np.round(acc.min() / unit), np.round(acc.max() / unit)
    span = int(hi - lo) + 1
    per = max(1, -(-span // max_bins))
    edges = (np.arange(lo, hi + per + 1, per) - 0.5) * unit
    counts, edges = np.histogram(acc, edges)
    return 0.5 * (edges[:-1] + edges[1:]), counts, per * unit
