"""Evaluation of the network on a chip: accuracy, energy per image by component and layer, time,
TOPS/W and the saving against each named digital baseline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from convsram.core import energy
from convsram.core.analysis import preset_name
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, digital_energy_pj, programmed_chip
from convsram.core.network import Model, forward, input_codes, op_counts
from convsram.core.noise import KeyedNoise

ARRAY_PARTS = ("dac", "array", "adc")


def evaluate(model: Model, images: np.ndarray, labels: np.ndarray, config: ChipConfig | None = None,
             seed: int = 0, batch_size: int = 500,
             progress: Callable[[int], None] | None = None, first_image: int = 0) -> dict[str, Any]:
    """Run `images` through chip (config, seed) and report; `progress(n)` is told of each n done.
    Every random draw comes from `seed`; the result is the same for any `batch_size`. `images` may be a
    shard of a larger set starting at index `first_image` there: each image's noise is keyed on that
    index, so the shards of a set add up to exactly the evaluation of the whole set."""
    config = config or ChipConfig()
    n = len(images)
    if n == 0:
        raise ValueError("no images to evaluate; --images must be at least 1")
    chip = Chip(config, seed)
    amap, writes = programmed_chip(model, chip)
    # per-operation noise keyed on (seed, image index): the result does not depend on batch_size
    keyed = KeyedNoise(seed)
    ev = ChipEvaluator(chip, model, amap, rng=keyed)
    preds = []
    for start in range(0, n, batch_size):
        codes = input_codes(images[start:start + batch_size], config.input_bits)
        keyed.begin(first_image + start, len(codes))
        preds.append(forward(model, codes, ev, config=config, batch_size=batch_size).argmax(axis=1))
        if progress:
            progress(len(codes))
    pred = np.concatenate(preds)
    correct = int((pred == np.asarray(labels[:n])).sum())

    digital = digital_energy_pj(model)
    write_pj = float(sum(w.energy_pj for w in writes))
    write_ns = float(sum(w.time_ns for w in writes))
    by_layer = {}
    for spec, led, dig in zip(model.layers, ev.ledger, digital, strict=True):
        row = {k: led.energy_pj[k] / n for k in ARRAY_PARTS}
        row["digital"] = dig
        row["invocations"] = led.invocations / n
        by_layer[spec.name] = row
    breakdown = {k: sum(layer[k] for layer in by_layer.values()) for k in (*ARRAY_PARTS, "digital")}
    breakdown["write"] = write_pj / n  # weights written once, amortised over the images
    per_image = float(sum(breakdown.values()))
    macro = float(sum(breakdown[k] for k in ARRAY_PARTS))
    macs = float(sum(c.macs for c in op_counts(model)))
    totals = ev.totals()
    baselines = [{**row, "pj_per_image": row["baseline_pj"],
                  "compares": "DAC + array + ADC energy of the chip vs the same MACs in the baseline "
                              "(digital periphery is common to both and left out)"}
                 for row in energy.savings(macro, macs)]
    return {
        "images": n,
        "accuracy": correct / n,
        "correct": correct,
        "chip": {"seed": seed, "ideal": config.is_ideal(), "preset": preset_name(config),
                 "config": config.to_dict()},
        "energy_per_image_pj": per_image,
        "energy_breakdown_pj": breakdown,
        "energy_by_layer_pj": by_layer,
        "array_energy_per_image_pj": macro,
        "weight_write_once": {"energy_pj": write_pj, "time_ns": write_ns,
                              "bits": int(sum(w.bits for w in writes))},
        "invocations_per_image": totals.invocations / n,
        "time_per_image_ns": totals.time_ns / n + write_ns / n,
        "macs_per_image": macs,
        "tops_per_w": energy.tops_per_w(macs, per_image),
        "tops_per_w_array": energy.tops_per_w(macs, macro),
        "baselines": baselines,
    }


def format_report(r: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    b = r["energy_breakdown_pj"]
    lines = [
        f"images            {r['images']}",
        f"accuracy          {100 * r['accuracy']:.2f} %  ({r['correct']} correct)",
        f"chip              {r['chip']['preset']}, seed {r['chip']['seed']}",
        f"energy per image  {r['energy_per_image_pj'] / 1e3:.2f} nJ   "
        + "  ".join(f"{k} {v / 1e3:.2f}" for k, v in b.items()) + "  (nJ)",
        "by layer (nJ)     " + "   ".join(
            f"{name}: " + " ".join(f"{k} {v / 1e3:.2f}" for k, v in row.items() if k != "invocations")
            for name, row in r["energy_by_layer_pj"].items()),
        f"invocations       {r['invocations_per_image']:.0f} per image, "
        f"{r['time_per_image_ns'] / 1e3:.1f} us per image on the array",
        f"efficiency        {r['tops_per_w']:.1f} TOPS/W with digital periphery, "
        f"{r['tops_per_w_array']:.1f} TOPS/W for DAC + array + ADC ({r['macs_per_image']:.0f} MACs/image)",
        "saving (DAC + array + ADC vs the same MACs on a digital baseline):",
    ]
    for row in r["baselines"]:
        lines.append(f"  {row['saving_x']:6.1f}x less energy than {row['baseline']} "
                     f"({row['baseline_pj'] / 1e3:.1f} nJ/image): {row['how']}")
    return "\n".join(lines)
