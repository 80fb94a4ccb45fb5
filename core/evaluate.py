"""Evaluation of the network on a chip: accuracy, energy per image by component and layer, time,
TOPS/W and the saving against each named digital baseline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from convsram.core import baselines as digital_baselines
from convsram.core import energy
from convsram.core.analysis import preset_name
from convsram.core.calibration import calibrate as calibrate_chip
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, digital_energy_pj, programmed_chip
from convsram.core.network import Model, forward, input_codes, op_counts, predict
from convsram.core.noise import KeyedNoise
from convsram.core.stats import wilson

ARRAY_PARTS = ("dac", "array", "adc")


def evaluate(model: Model, images: np.ndarray, labels: np.ndarray, config: ChipConfig | None = None,
             seed: int = 0, batch_size: int = 500,
             progress: Callable[[int], None] | None = None, first_image: int = 0,
             calibrate: bool = False) -> dict[str, Any]:
    """Run `images` through chip (config, seed) and report; `progress(n)` is told of each n done.
    Every random draw comes from `seed`; the result is the same for any `batch_size`. `images` may be a
    shard of a larger set starting at index `first_image` there: each image's noise is keyed on that
    index, so the shards of a set add up to exactly the evaluation of the whole set.
    calibrate=True runs offset calibration (core/calibration.py) once after programming the weights and
    charges its energy and time once per chip, like the weight writes; a network in several phases
    also loads each phase's correction with its weights on every image (booked with the rewrites)."""
    config = config or ChipConfig()
    n = len(images)
    if n == 0:
        raise ValueError("no images to evaluate; --images must be at least 1")
    chip = Chip(config, seed)
    amap, writes = programmed_chip(model, chip)
    cal = calibrate_chip(chip, model, amap) if calibrate else None
    # per-operation noise keyed on (seed, image index): the result does not depend on batch_size
    keyed = KeyedNoise(seed)
    ev = ChipEvaluator(chip, model, amap, rng=keyed, corrections=cal.loads() if cal else None)
    preds = []
    for start in range(0, n, batch_size):
        codes = input_codes(images[start:start + batch_size], config.input_bits)
        keyed.begin(first_image + start, len(codes))
        preds.append(forward(model, codes, ev, config=config, batch_size=batch_size).argmax(axis=1))
        if progress:
            progress(len(codes))
    pred = np.concatenate(preds)
    correct = int((pred == np.asarray(labels[:n])).sum())

    digital = digital_energy_pj(model, ev.amap)
    writes = [*writes, *ev.initial_writes]  # every macro's first weights, written once
    write_pj = float(sum(w.energy_pj for w in writes))
    write_ns = float(sum(w.time_ns for w in writes))
    by_layer = {}
    for spec, led, dig in zip(model.layers, ev.ledger, digital, strict=True):
        row = {k: led.energy_pj[k] / n for k in ARRAY_PARTS}
        row["digital"] = dig
        row["invocations"] = led.invocations / n
        by_layer[spec.name] = row
    breakdown = {k: sum(layer[k] for layer in by_layer.values()) for k in (*ARRAY_PARTS, "digital")}
    # weights written once, amortised over the images; plus the rewrites of a network run in phases
    breakdown["write"] = write_pj / n + sum(led.energy_pj["write"] for led in ev.ledger) / n
    if cal is not None:
        breakdown["calibration"] = cal.energy_total_pj / n  # once per chip, amortised likewise
    per_image = float(sum(breakdown.values()))
    macro = float(sum(breakdown[k] for k in ARRAY_PARTS))
    macs = float(sum(c.macs for c in op_counts(model)))
    totals = ev.totals()
    # the digital baselines run the network exactly: their accuracy is the integer path's
    exact = int((predict(model, images[:n]) == np.asarray(labels[:n])).sum())
    work = digital_baselines.work_of(model)
    chip_time = totals.time_ns / n
    baselines = digital_baselines.compare(macro, breakdown["digital"], chip_time, work, exact, n)
    fetch = digital_baselines.input_fetch_note(work)
    return {
        "images": n,
        "accuracy": correct / n,
        "accuracy_ci95": list(wilson(correct, n)),
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
        "calibration": cal.summary() if cal is not None else None,
        "time_per_image_ns": totals.time_ns / n + (write_ns + (cal.time_ns if cal else 0.0)) / n,
        "macs_per_image": macs,
        "tops_per_w": energy.tops_per_w(macs, per_image),
        "tops_per_w_array": energy.tops_per_w(macs, macro),
        "baselines": baselines,
        "input_fetch": fetch,
        "chip_input_fetch_pj": fetch["chip_input_fetch_pj"],
        "chip_energy_compared_pj": digital_baselines.chip_energy_pj(macro, breakdown["digital"], work),
        "exact_accuracy": exact / n,
    }


def format_report(r: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    b = r["energy_breakdown_pj"]
    f = r["input_fetch"]
    lo, hi = r["accuracy_ci95"]
    lines = [
        f"images            {r['images']}",
        f"accuracy          {100 * r['accuracy']:.2f} %  ({r['correct']} correct; 95 % interval "
        f"{100 * lo:.2f}-{100 * hi:.2f} %)",
        f"chip              {r['chip']['preset']}, seed {r['chip']['seed']}"
        + (f"; {r['calibration']['text']}" if r.get("calibration") else ""),
        f"energy per image  {r['energy_per_image_pj'] / 1e3:.2f} nJ   "
        + "  ".join(f"{k} {v / 1e3:.2f}" for k, v in b.items()) + "  (nJ)",
        "by layer (nJ)     " + "   ".join(
            f"{name}: " + " ".join(f"{k} {v / 1e3:.2f}" for k, v in row.items() if k != "invocations")
            for name, row in r["energy_by_layer_pj"].items()),
        f"invocations       {r['invocations_per_image']:.0f} per image, "
        f"{r['time_per_image_ns'] / 1e3:.1f} us per image on the array",
        f"efficiency        {r['tops_per_w']:.1f} TOPS/W with digital periphery, "
        f"{r['tops_per_w_array']:.1f} TOPS/W for DAC + array + ADC ({r['macs_per_image']:.0f} MACs/image)",
        f"saving vs digital baselines doing the same inference; input fetch ({f['codes_per_image']:,} "
        f"code reads, {f['chip_input_fetch_pj'] / 1e3:.1f} nJ) charged to {f['charged_to']}, chip "
        f"{r['chip_energy_compared_pj'] / 1e3:.1f} nJ/image (DAC + array + ADC + digital periphery + fetch):",
    ]
    for row in r["baselines"]:
        lo, hi = row["saving_range"]
        lines.append(f"  {row['saving']:6.1f}x (range {lo:.1f}-{hi:.1f}) less energy than "
                     f"{digital_baselines.article(row['name'])} {row['name']} "
                     f"[{row['precision']}]: {row['energy_per_image_pj'] / 1e3:.1f} nJ/image, "
                     f"{row['latency_per_image_ns'] / 1e3:,.0f} us/image"
                     + ("  <- fairest" if row["fairest"] else ""))
    lines.append("  (assumptions and sources of each: convsram eval --json, or convsram report)")
    return "\n".join(lines)
