"""The depth experiment: per weight layer, how far the chip is from the bit-exact path.

Two runs per chip over the same images, with the detailed chip path:

* own error: every layer gets the exact path's inputs (the chip's codes are measured, then replaced by
  the ideal codes before the next layer), so the numbers are what this layer alone adds;
* accumulated error: the chip runs the whole network on its own codes, and each layer is compared with
  the exact path of the same image (the inputs it sees already carry every earlier layer's error).

Per layer and run: SQNR of the pre-ADC values (the sensed V_N - V_P in ADC codes, against the exact
S / step; dB), rms code error of the tile conversions (LSB), the fraction of the layer's output
activations (requantised codes; the output layer: scores, compared by sign and size of error) that
differ from the exact path's, and the ADC saturation rate (conversions at the top or, signed, bottom
code). ADC offset and gain act after the pre-ADC value: they show in the code error, not in the SQNR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from convsram.core.chip import Chip, detail
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.network import Model, exact_partial_codes, forward, input_codes
from convsram.core.noise import KeyedNoise

RUNS = ("own", "accumulated")


@dataclass
class _Acc:
    """Running sums of one layer in one run."""

    signal: float = 0.0  # sum of exact pre-ADC^2
    noise: float = 0.0  # sum of (chip - exact pre-ADC)^2
    code_sq: float = 0.0  # sum of (chip - exact code)^2
    conversions: int = 0
    saturated: int = 0
    differ: int = 0  # output activations that differ
    outputs: int = 0

    def add(self, pre: np.ndarray, ref_pre: np.ndarray, codes: np.ndarray, ref_codes: np.ndarray,
            max_code: int, signed: bool) -> None:
        self.signal += float(np.sum(ref_pre.astype(np.float64) ** 2))
        self.noise += float(np.sum((pre.astype(np.float64) - ref_pre) ** 2))
        self.code_sq += float(np.sum((codes.astype(np.int64) - ref_codes) ** 2))
        self.conversions += codes.size
        self.saturated += int(np.sum(codes >= max_code) + (np.sum(codes <= -max_code) if signed else 0))


@dataclass(frozen=True)
class LayerDepth:
    """One layer's figures in one run over all chips and images."""

    layer: str
    index: int  # weight layer number, 0-based (depth)
    run: str  # "own" or "accumulated"
    sqnr_db: float
    rms_code_error_lsb: float
    fraction_differ: float
    saturation_rate: float
    conversions: int

    def row(self) -> dict[str, object]:
        return {"layer": self.layer, "depth": self.index + 1, "run": self.run,
                "sqnr_db": round(self.sqnr_db, 3), "rms_code_error_lsb": round(self.rms_code_error_lsb, 5),
                "fraction_differ": round(self.fraction_differ, 6),
                "saturation_rate": round(self.saturation_rate, 6), "conversions": self.conversions}


class _Probe:
    """partial_codes that runs the chip in detail, records its pre-ADC values and codes per (layer,
    tile) beside the ideal ones for the same inputs, and passes on the chip's or the ideal codes."""

    def __init__(self, ev: ChipEvaluator, pass_ideal: bool) -> None:
        self.ev, self.pass_ideal = ev, pass_ideal
        self.taken: dict[tuple[int, int], list[tuple[np.ndarray, ...]]] = {}

    def __call__(self, layer: int, tile: int, x: np.ndarray) -> np.ndarray:
        codes = self.ev(layer, tile, x)
        shape = codes.shape
        pre, ideal_pre, ideal = np.empty(shape), np.empty(shape), np.empty(shape, np.int32)
        for c, filters in enumerate(self.ev.amap.chunks[layer][tile]):
            rec = self.ev.records[(layer, tile, c)]
            pre[:, filters] = rec.diff / rec.adc_lsb
            ideal_pre[:, filters] = detail(rec.ideal_diff) / rec.adc_lsb
            ideal[:, filters] = detail(rec.ideal_codes)
        self.taken.setdefault((layer, tile), []).append((pre, ideal_pre, codes.copy(), ideal))
        return ideal if self.pass_ideal else codes

    def take(self, layer: int, tile: int) -> tuple[np.ndarray, ...]:
        parts = self.taken.pop((layer, tile))
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))


def measure(model: Model, images: np.ndarray, config: ChipConfig, seeds: list[int], batch_size: int = 50,
            progress: Callable[[int], None] | None = None) -> list[LayerDepth]:
    """Both runs on each chip seed over uint8 `images`; figures summed over chips and images."""
    n_layers = len(model.layers)
    acc = {(run, li): _Acc() for run in RUNS for li in range(n_layers)}
    m = config.max_code
    for seed in seeds:
        for start in range(0, len(images), batch_size):
            codes = input_codes(images[start:start + batch_size], config.input_bits)
            rec_exact: dict[str, np.ndarray] = {}
            forward(model, codes, exact_partial_codes(model, m), record=rec_exact, config=config)
            probes = {}
            recs: dict[str, dict[str, np.ndarray]] = {}
            for run in RUNS:
                chip = Chip(config, seed)
                amap, _ = programmed_chip(model, chip)
                keyed = KeyedNoise(seed)
                keyed.begin(start, len(codes))
                probe = _Probe(ChipEvaluator(chip, model, amap, rng=keyed, detail=True), run == "own")
                recs[run] = {}
                forward(model, codes, probe, record=recs[run], config=config, batch_size=batch_size)
                probes[run] = probe
            own = probes["own"]
            for li, spec in enumerate(model.layers):
                signed = spec.mode == "signed"
                p_own = p_acc = None
                for t in range(spec.n_tiles):
                    pre, ideal_pre, chip_codes, ideal = own.take(li, t)  # ideal = the exact path here
                    acc[("own", li)].add(pre, ideal_pre, chip_codes, ideal, m, signed)
                    pre_a, _, codes_a, _ = probes["accumulated"].take(li, t)
                    acc[("accumulated", li)].add(pre_a, ideal_pre, codes_a, ideal, m, signed)
                    p_own = chip_codes.astype(np.int64) if p_own is None else p_own + chip_codes
                    p_acc = codes_a.astype(np.int64) if p_acc is None else p_acc + codes_a
                _count_outputs(model, li, p_own, rec_exact, acc[("own", li)], config)
                _count_outputs(model, li, p_acc, rec_exact, acc[("accumulated", li)], config)
            if progress:
                progress(len(codes))
    out = []
    for run in RUNS:
        for li, spec in enumerate(model.layers):
            a = acc[(run, li)]
            sqnr = 10 * np.log10(a.signal / a.noise) if a.noise > 0 else float("inf")
            n = max(a.conversions, 1)
            out.append(LayerDepth(spec.name, li, run, float(sqnr), float(np.sqrt(a.code_sq / n)),
                                  a.differ / max(a.outputs, 1), a.saturated / n, a.conversions))
    return out


def _count_outputs(model: Model, li: int, p: np.ndarray | None, rec_exact: dict[str, np.ndarray], a: _Acc,
                   config: ChipConfig) -> None:
    """Requantise the chip's summed codes as the layer does and count outputs unlike the exact path's
    (the output layer: class scores, counted where the predicted class changes)."""
    from convsram.core.layers.arith import fc_scores, requantise

    assert p is not None
    spec = model.layers[li]
    exact_p = rec_exact[f"{spec.name}.P"].reshape(p.shape)
    if model.graph.is_output(li):
        chip_pred = fc_scores(p, model.alpha[li], model.beta[li]).argmax(1)
        exact_pred = fc_scores(exact_p, model.alpha[li], model.beta[li]).argmax(1)
        a.differ += int((chip_pred != exact_pred).sum())
        a.outputs += chip_pred.size
        return
    chip_act = requantise(p, model.alpha[li], model.beta[li], config.max_input)
    exact_act = requantise(exact_p, model.alpha[li], model.beta[li], config.max_input)
    a.differ += int((chip_act != exact_act).sum())
    a.outputs += chip_act.size


@dataclass
class DepthReport:
    model: str
    images: int
    chips: int
    layers: list[LayerDepth] = field(default_factory=list)

    def first_to_matter(self, threshold: float = 0.01) -> str | None:
        """The first layer whose accumulated outputs differ from the exact path's in more than
        `threshold` of cases."""
        for d in self.layers:
            if d.run == "accumulated" and d.fraction_differ > threshold:
                return d.layer
        return None
