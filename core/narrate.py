"""Plain words for what the chip is doing: one sentence per frame ("what is happening now"), the worked
number of the charge-sharing equation for the current frame, and a glossary of the terms on screen.
Derived from a session's Frame and the layer's description only: no simulation here, no Qt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def _rows(first: int, last: int) -> str:
    return f"row {first}" if first == last else f"rows {first}–{last}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def digital_after(model: Any, layer: str) -> list[Any]:
    """The digital steps (graph nodes without weights: pooling, adds) that take `layer`'s output."""
    graph = getattr(model, "graph", None)
    if graph is None:
        return []
    return [n for n in graph.nodes if layer in getattr(n, "inputs", ()) and not getattr(n, "weighted", True)]


def _digital_step(node: Any) -> str:
    if getattr(node, "kind", "") == "maxpool":
        p = node.size
        return f"keeps the largest of each {p}×{p} block (max-pooling)"
    return f"does {node.name} ({node.short()})" if hasattr(node, "short") else f"does {node.name}"


def _num(v: float) -> str:
    return f"{v:.3g}".replace("-", "−")


def _terms(codes: Any) -> str:
    text = " + ".join(f"({c})" if c < 0 else str(c) for c in map(int, codes))
    return text.replace("-", "−")


def example(values: Any) -> int:
    """The filter a sentence works through: the one whose total P is largest in size."""
    return int(np.argmax(np.abs(values.total)))


def layer_op_sentence(frame: Any, values: Any = None) -> str:
    """A weight layer's own digital step (core.session.LayerOpValues `values`, if given, adds the
    worked number of one filter)."""
    op, name = frame.place.op, frame.layer_name.split(".")[0]
    tail = "; the array rests." if getattr(frame, "layer_frames", 2) == 1 else \
        ", one output position at a time; the array rests."
    unit = "filter" if values is None or not values.output else "class"
    if op == "sum":
        tiles = len(values.tiles) if values is not None else "the"
        text = (f"{name}, tile sums: digital logic adds the {tiles} partial codes of each {unit} (one from "
                f"each row tile's ADC) into its total P{tail}")
        if values is not None:
            j = example(values)
            text += f" {unit.capitalize()} {j}: {_terms(values.tiles[:, j])} = {_num(values.total[j])}."
        return text
    if op == "scores":
        text = ("digital logic scales each class's total P to its score, α·P + β (no rounding: the "
                "scores are compared, not passed on)")
    else:
        top = f"0–{values.max_code}" if values is not None else "the input range"
        text = (f"{name}, requantisation: digital logic scales each filter's total P to the next layer's "
                f"input, α·P + β, rounds it to a whole code and clips it to {top}{tail}")
        if values is not None:
            j = example(values)
            text += (f" Filter {j}: {_num(values.alpha[j])} × {_num(values.total[j])} + "
                     f"{_num(values.beta[j])} = {_num(values.scaled[j])} → {values.rounded[j]} → "
                     f"{int(values.out[j])}.").replace("+ −", "− ").replace("-", "−")
        return text
    if frame.final:
        return (f"Done: {text}; of the ten scores, {frame.prediction}'s is the highest, so the chip "
                f"answers {frame.prediction}.")
    return f"{name}, class scores: {text}{tail}"


def sentence(frame: Any, spec: Any, after: list[Any] | None = None, values: Any = None) -> str:
    """One plain sentence for `frame` (a core.session.Frame) of weight layer `spec` (kind, kernel,
    in_channels, out_channels, tiles); `after`: the digital steps taking its output
    (:func:`digital_after`), named on the layer's last frame; `values`: a layer's digital step's numbers
    (core.session.Session.layer_op_values) for a worked example."""
    place = frame.place
    if getattr(place, "op", None) is not None:
        return layer_op_sentence(frame, values)
    if frame.final:
        return (f"Done: of the ten digit scores, {frame.prediction}'s is the highest, so the chip answers "
                f"{frame.prediction}.")
    node = getattr(place, "node", None)
    if node is not None:  # a digital step between the layers (core.mapping.timeline): the array rests
        steps = [_digital_step(d) for d in after or () if d.name == node]
        return (f"{node}: digital logic {steps[0] if steps else f'does {node}'}, one position at a time; "
                "the array rests.")
    n = len(frame.x)
    cols = len(place.columns)
    r0, r1 = place.rows
    tiles = len(getattr(spec, "tiles", ((r0, r1),)))
    total_rows = getattr(spec, "rows", r1 - r0)
    kind = getattr(spec, "kind", "conv")
    name = frame.layer_name
    if kind == "conv":
        k = spec.kernel
        maps = spec.in_channels
        what = (f"the {_plural(k * k, 'pixel')} of this {k}×{k} window" if maps == 1 else
                f"{'the' if tiles == 1 else f'{n} of the'} {total_rows:,} inputs of this {k}×{k} window "
                f"({maps} maps)")
        columns = f"{cols} columns each add them with their filter's +1/−1 weights"
    else:
        what = f"{'the' if tiles == 1 else f'{n} of the'} {total_rows:,} inputs from the last layer"
        columns = f"{cols} columns (one per digit) each add them with their +1/−1 weights"
    lead = name if tiles == 1 else f"{name}, part {place.tile + 1} of {tiles}"
    convert = "ADCs turn the sums into numbers" + ("" if tiles == 1 else ", added up digitally later")
    text = (f"{lead}: the DACs put {what} on {_rows(0, n - 1)} as voltages; {columns} by sharing charge; "
            f"{convert}.")
    layer_frames = getattr(frame, "layer_frames", 0)
    if layer_frames and place.layer_step == layer_frames - 1:
        steps = [_digital_step(node) for node in after or ()]
        pool: int = getattr(spec, "pool", None) or 0  # a version-1 layer record carries its pooling
        if not steps and pool:
            steps = [f"keeps the largest of each {pool}×{pool} block (max-pooling)"]
        own = ("adds each position's tile codes and " if tiles > 1 else "") + (
            "scales them to class scores" if kind == "fc" and not steps else "requantises them")
        text += f" {name}'s conversions done: next, digital logic {own}" + (
            f", then {' and '.join(steps)}." if steps else ".")
    return text


@dataclass(frozen=True)
class Worked:
    """The charge-sharing equation V_N − V_P = dac_lsb / N · Σ w·x worked for one column of a frame."""

    column: int  # array column
    filter: int  # the filter (or class) it holds
    n: int  # active rows N
    sum_wx: int  # Σ w·x over the active rows
    dac_lsb_v: float  # volts per input code
    ideal_v: float  # dac_lsb / N · Σ w·x, V
    actual_v: float  # this chip's V_N − V_P, V
    ideal_code: int
    code: int
    adc_lsb_v: float

    def equation(self) -> str:
        """The worked equation as one line of plain text (mV)."""
        return (f"V_N − V_P = dac_lsb / N · Σ w·x = {self.dac_lsb_v * 1e3:g} mV / {self.n} × {self.sum_wx:,} "
                f"= {self.ideal_v * 1e3:.3f} mV")


def worked(frame: Any, weights: np.ndarray, dac_lsb: float, slot: int = 0) -> Worked:
    """The equation for evaluated column `slot` of `frame`; `weights` is that column's +1/−1 weights on
    the active rows (the chip's array: ``chip.weights[:N, frame.place.columns[slot]]``)."""
    x = np.asarray(frame.x, dtype=np.int64)
    w = np.asarray(weights, dtype=np.int64)[:len(x)]
    s = int(x @ w)
    n = len(x)
    return Worked(column=int(frame.place.columns[slot]), filter=int(frame.place.filters[slot]), n=n, sum_wx=s,
                  dac_lsb_v=float(dac_lsb), ideal_v=dac_lsb / n * s, actual_v=float(frame.diff[slot]),
                  ideal_code=int(frame.ideal_codes[slot]), code=int(frame.codes[slot]),
                  adc_lsb_v=float(frame.adc_lsb))


# The terms on screen, in plain words (F1's glossary).
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("invocation (array operation)", "One use of the SRAM array: inputs on its rows, 16 columns compute at "
     "once, their ADCs give 16 numbers. One digit takes 1,189 of them; one takes 150 ns."),
    ("DAC", "Digital-to-analog converter, one per row: turns an input value (a 7-bit code, 0–127) into a "
     "voltage drop on the row line (dac_lsb per code)."),
    ("bitcell (10T)", "One stored weight, +1 or −1. It steers its row's voltage onto the column's P line "
     "(+1, blue) or N line (−1, red)."),
    ("P line, N line (line pair)", "The two wires of a column. Their pieces share charge, so each settles "
     "at the average of what was steered onto it."),
    ("V_N − V_P", "The difference of the line pair: dac_lsb / N × Σ w·x, the filter's weighted sum as a "
     "voltage (N = rows in use)."),
    ("Σ w·x (MAC)", "Multiply-accumulate: each input times its weight, added up. This is the work of a "
     "neural network; the chip does it with charge instead of logic."),
    ("ADC, code, LSB", "Analog-to-digital converter, one per 16 columns: an integrating ramp turns V_N − V_P "
     "into a whole number, the code. One LSB is one step of that number."),
    ("ideal chip", "The same design with every imperfection off (no mismatch, no noise): the white marks; "
     "green codes equal it, orange ones differ."),
    ("mismatch, kT/C noise", "Real capacitors and transistors differ slightly (mismatch, fixed per chip); "
     "thermal noise (kT/C) differs every time. They make the chip's codes differ from the ideal."),
    ("saturation", "A difference beyond the ADC's largest code: the code stops at the largest value."),
    ("feature map", "A layer's output: for each position of the picture, how strongly each filter's "
     "pattern is there."),
    ("max-pooling", "Digital step after a layer: of every 2×2 block of a feature map only the largest "
     "value goes on."),
    ("class score", "The last layer's output: one number per digit 0–9; the highest is the answer."),
    ("pJ, nJ", "Picojoule (10⁻¹² J) and nanojoule (10⁻⁹ J): energy. A digit costs the chip tens of nJ."),
    ("TOPS/W", "Tera-operations per second per watt: operations per energy (2 per MAC). Higher is better."),
    ("baseline", "The conventional digital chip the saving is measured against, named next to every "
     "saving."),
)
