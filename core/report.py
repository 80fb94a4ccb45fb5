"""One self-contained HTML report: the paper's headline figures next to the model's, and the review's
three critiques (depth, scaling, digital baselines) answered with experiments, each figure with its
assumptions and sources. Figures arrive as PNG bytes and are embedded as base64: the file opens
offline in any browser. This module only formats; convsram/cmd_study.py gathers the numbers."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

from convsram.core import energy

CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; max-width: 1180px; margin: 2em auto; color: #222;
       line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em;
margin-top: 2em; } h3 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
tr.fair td { background: #eef6ee; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
.note { color: #555; font-size: 0.9em; } .src { color: #555; font-size: 0.85em; }
.pending { background: #fff6e0; border: 1px solid #e8c060; padding: 0.6em 1em; }
details { margin: 0.4em 0; } summary { cursor: pointer; color: #235; }
"""


def esc(text: Any) -> str:
    return html.escape(str(text))


def pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %"


def ci(lo_hi: Sequence[float]) -> str:
    return f"{100 * lo_hi[0]:.2f}-{100 * lo_hi[1]:.2f} %"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1,
          row_class: Sequence[str] | None = None) -> str:
    """An HTML table; the first `left` columns are left-aligned text, cells are escaped."""
    def cell(tag: str, i: int, v: Any) -> str:
        cls = ' class="l"' if i < left else ""
        return f"<{tag}{cls}>{esc(v)}</{tag}>"
    out = ["<table><tr>" + "".join(cell("th", i, h) for i, h in enumerate(header)) + "</tr>"]
    for k, r in enumerate(rows):
        cls = f' class="{row_class[k]}"' if row_class and row_class[k] else ""
        out.append(f"<tr{cls}>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>")
    return "\n".join(out) + "</table>"


def figure(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{data}">'
            f'<figcaption class="note">{esc(caption)}</figcaption></figure>')


def sources(keys: Sequence[str]) -> str:
    """The BAND_TABLE / ENERGY_TABLE entries named, as a list with their sources."""
    items = []
    for k in keys:
        if k in energy.BAND_TABLE:
            s = energy.BAND_TABLE[k]
            items.append(f"<li><b>{esc(k)}</b>: {s.nominal:g} {esc(s.unit)} (range {s.low:g}-{s.high:g}). "
                         f"<span class='src'>{esc(s.source)}</span></li>")
        elif k in energy.ENERGY_TABLE:
            e = energy.ENERGY_TABLE[k]
            items.append(f"<li><b>{esc(k)}</b>: {e.value:g} {esc(e.unit)}. <span class='src'>{esc(e.source)}"
                         "</span></li>")
    return "<ul>" + "\n".join(items) + "</ul>"


def headline(d: dict[str, Any]) -> str:
    p, ev, mc = d["paper_point"], d["eval"], d["monte_carlo"]
    rows = [
        ("energy per invocation (50 rows, 16 columns, 7-b inputs)", "56.94 pJ",
         f"{p['energy_pj']:.2f} pJ (DAC {p['dac_pj']:.1f}, array {p['array_pj']:.1f}, ADC {p['adc_pj']:.1f})",
         "random 7-b inputs, 8 weight draws x 2,000 invocations on the nominal chip; split after the ZigZag "
         "cost model [assumed]"),
        ("time per invocation", "150 ns", f"{p['time_ns']:.1f} ns",
         "phases [assumed] summing to the paper's"),
        ("efficiency", "28.1 TOPS/W [derived: 7b x 1b]", f"{p['tops_per_w']:.1f} TOPS/W",
         "2 ops per MAC, 800 MACs per invocation"),
        ("MNIST test accuracy", "> 98 % (silicon, 6-b I/O)",
         f"{pct(ev['accuracy'])} (95 % interval {ci(ev['accuracy_ci95'])}) on {ev['images']:,} images, "
         f"{esc(ev['chip']['preset'])} chip, seed {ev['chip']['seed']}",
         "binary-weight LeNet (assets/models/lenet-bw.npz)"),
        ("accuracy over chips", "-",
         f"mean {pct(mc['mean'])} (95 % interval {ci(mc['ci95'])}), 5th percentile {pct(mc['p5'])}, "
         f"min {pct(mc['min'])} over {mc['chips']} chips x {mc['images']:,} images",
         "static mismatch drawn once per chip, noise per invocation"),
        ("energy per MNIST inference", "-",
         f"{ev['energy_per_image_pj'] / 1e3:.1f} nJ; {ev['invocations_per_image']:.0f} invocations, "
         f"{ev['time_per_image_ns'] / 1e3:.0f} us; {ev['tops_per_w_array']:.1f} TOPS/W (DAC + array + ADC)",
         "the one-time weight write amortised over the images"),
    ]
    return table(["figure", "paper (ISSCC 2018)", "this model", "how"], rows)


def depth_section(d: dict[str, Any]) -> str:
    ev, layers = d["eval"], d["layers"]
    rows = []
    for lay in layers:
        by = ev["energy_by_layer_pj"][lay["name"]]
        rows.append((lay["name"], lay["rows_per_tile"], lay["tiles"], f"{lay['macs']:,}",
                     f"{by['invocations']:.0f}", f"{by['dac'] / 1e3:.2f}", f"{by['array'] / 1e3:.2f}",
                     f"{by['adc'] / 1e3:.2f}", f"{by['digital'] / 1e3:.2f}", f"{lay['signal_uv']:.0f}",
                     f"{lay['ktc_uv']:.0f}"))
    out = ["<p>The review asks whether charge-domain computing survives deeper networks. ",
           esc(d["depth_note"]),
           " Per layer: the fewer rows a tile averages, the larger one unit of "
           "sum(w*x) on the lines (dac_lsb / N) against the kT/C noise of the shared line "
           "(sqrt(kT / (N C)), [physics]); deeper layers with wide fan-in are split into more tiles, each "
           "an ADC conversion, so ADC energy grows with depth and fan-in.</p>",
           table(["layer", "rows per tile", "tiles", "MACs", "invocations", "DAC nJ", "array nJ", "ADC nJ",
                  "digital nJ", "signal per unit [uV]", "kT/C rms [uV]"], rows),
           figure(d["figures"]["layers"], "energy per layer", "Energy per image and layer by component "
                  "(core/energy.py: every entry with its source).")]
    if d.get("depth"):
        header = list(d["depth"][0])
        out.append(f"<h3>Error per layer: on its own and accumulated ({d['depth_chips']} chips x "
                   f"{d['depth_images']:,} images)</h3>")
        out.append(table(header, [[r[k] for k in header] for r in d["depth"]], left=3))
    return "\n".join(out)


def scaling_section(d: dict[str, Any]) -> str:
    s = d["scaling"]
    rows = []
    for r in s["rows"]:
        rows.append((f"{r['node_nm']} nm", f"{r['vdd_v']:.2f}",
                     f"{r['energy_per_image_nj_nominal']:.1f} ({r['energy_per_image_nj_low']:.1f}-"
                     f"{r['energy_per_image_nj_high']:.1f})",
                     f"{r['tops_per_w_nominal']:.0f} ({r['tops_per_w_low']:.0f}-{r['tops_per_w_high']:.0f})",
                     f"{r['ktc_mv'] * 1e3:.0f} / {r['signal_uv']:.0f}", f"{r['mismatch_x']:.2f}x",
                     f"{100 * r['accuracy_mean']:.2f} % ({100 * r['accuracy_ci95_low']:.2f}-"
                     f"{100 * r['accuracy_ci95_high']:.2f})", f"{100 * r['accuracy_p5']:.2f} %",
                     f"{r['fairest_saving']:.2f}x"))
    keys = [k for k in energy.BAND_TABLE if k.split("_")[0] in ("vdd", "digital", "avt", "zigzag", "murmann",
                                                                 "walden", "line", "cap")]
    return "\n".join([
        "<p>The review asks how the DAC, the ADC and mismatch scale. <code>convsram scaling</code> rebuilds "
        "the chip's energy per inference component by component at each node and moves the chip itself "
        "(supply, DAC step, line capacitance and so kT/C, Pelgrom mismatch), then runs Monte Carlo "
        f"chips: {s['chips']} chips x {s['images']:,} images per point here (more with --chips / "
        "--images). The energy band spans three ADC models and the digital factor's range; the last "
        "column is the saving against the weight-stationary digital datapath scaled to the same node "
        "(input fetch charged to both).</p>",
        table(["node", "VDD [V]", "energy/inference [nJ] (band)", "TOPS/W at the paper's point (band)",
               "kT/C / signal unit [uV]", "mismatch vs 65 nm", "accuracy mean (95 %)", "5th percentile",
               "vs weight-stationary"], rows),
        figure(d["figures"]["scaling"], "scaling what-if",
               "Energy per inference and TOPS/W (bands over the three ADC models and the digital factor's "
               "range) and accuracy over Monte Carlo chips (mean with 95 % interval, dashed: 5th "
               "percentile) against the node."),
        "<details><summary>Every coefficient and its source</summary>", sources(keys), "</details>",
    ])


def baselines_section(d: dict[str, Any]) -> str:
    ev = d["eval"]
    f = ev["input_fetch"]
    rows, classes = [], []
    chip_nj = ev["chip_energy_compared_pj"] / 1e3
    acc = f"{pct(ev['accuracy'])} ({ci(ev['accuracy_ci95'])})"
    rows.append(("this chip (" + ev["chip"]["preset"] + ")", "7-b x 1-b analog", f"{chip_nj:.1f}", "-",
                 f"{ev['time_per_image_ns'] / 1e3:,.0f}", acc, "-", "-"))
    classes.append("")
    for r in ev["baselines"]:
        lo, hi = r["energy_range_pj"]
        rows.append((r["name"] + ("  (fairest)" if r["fairest"] else ""), r["precision"],
                     f"{r['energy_per_image_pj'] / 1e3:,.1f}", f"{lo / 1e3:,.1f}-{hi / 1e3:,.1f}",
                     f"{r['latency_per_image_ns'] / 1e3:,.0f}",
                     f"{pct(r['accuracy'])} ({ci(r['accuracy_ci95'])})",
                     f"{r['saving']:.1f}x ({r['saving_range'][0]:.1f}-{r['saving_range'][1]:.1f})",
                     f"{r['saving_without_input_fetch']:.1f}x"))
        classes.append("fair" if r["fairest"] else "")
    details = []
    for r in ev["baselines"]:
        details.append(f"<details><summary>{esc(r['name'])}: assumptions and sources</summary><ul>"
                       + "".join(f"<li>{esc(a)}</li>" for a in r["assumptions"]) + "</ul></details>")
    return "\n".join([
        "<p>The review asks why not a digital core. Each baseline runs the same inference: the same "
        f"{ev['macs_per_image']:,.0f} MACs, the same requantisation, pooling and argmax. Data movement is "
        f"charged to <b>{esc(f['charged_to'])}</b> sides alike: {f['codes_per_image']:,} input-code reads "
        f"per image (every row the chip's DACs load) at {f['pj_per_code']:g} pJ each = "
        f"{f['chip_input_fetch_pj'] / 1e3:.1f} nJ, added to the chip as to the baselines "
        f"(<span class='src'>{esc(f['source'])}</span>). The chip's side: DAC + array + ADC + digital "
        f"periphery + input fetch = {chip_nj:.1f} nJ per image. Weights written once (the chip's array, "
        "the weight-stationary latches) are left out of both. The last column charges the fetch to "
        "neither side. Every saving names its baseline.</p>",
        table(["design", "precision", "energy/inference [nJ]", "range [nJ]", "latency [us]",
               "accuracy (95 %)", "chip's saving (range)", "saving, fetch to neither"], rows, left=2,
              row_class=classes),
        figure(d["figures"]["baselines"], "baselines", "Energy per inference of the chip and each baseline "
               "(whiskers: the range over the sources' low and high figures)."),
        "\n".join(details),
        "<p class='note'>Before this comparison the app quoted 7.8x (binary-weight datapath), 45.6x (8-b "
        "MAC datapath) and 339x (microcontroller): the baselines paid 142 nJ per image to fetch inputs "
        "and the chip nothing, and the chip's DACs, ADCs and periphery were compared with bare MACs.</p>",
    ])


def calibration_section(d: dict[str, Any]) -> str:
    c = d.get("calibration")
    if not c:
        return ("<div class='pending'>Calibration (issue 11, sections 1-2: offsets in volts, the "
                "uncalibrated preset and offset calibration) had not landed when this report was written: "
                "pending.</div>")
    rows = [(name, f"{100 * v['mean']:.2f} % ({ci(v['ci95'])})", f"{100 * v['p5']:.2f} %", v["chips"])
            for name, v in c["rows"].items()]
    return ("<p>" + esc(c["note"]) + "</p>"
            + table(["chip", "accuracy mean (95 %)", "5th percentile", "chips"], rows))


def build(d: dict[str, Any]) -> str:
    """The whole report as one HTML string."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Conv-SRAM model: report</title>", f"<style>{CSS}</style></head><body>",
        "<h1>Conv-SRAM in-memory computing: what the model says</h1>",
        f"<p class='note'>{esc(d['generated'])}. Command: <code>{esc(d['command'])}</code>. "
        f"{esc(d['settings'])} Accuracies carry 95 % Wilson intervals (at 99 %: about -1.3/+0.6 points on "
        "500 images, +/-0.2 on 10,000).</p>",
        "<h2>1. The paper's headline figures next to the model's</h2>", headline(d),
        "<h2>2. Critique: depth</h2>", depth_section(d),
        "<h2>3. Critique: scaling of the DAC, the ADC and mismatch</h2>", scaling_section(d),
        "<h2>4. Critique: why not a digital core</h2>", baselines_section(d),
        "<h2>5. Offsets and calibration</h2>", calibration_section(d),
        "<h2>Sources</h2><p class='note'>Tags: [paper] Biswas and Chandrakasan, ISSCC 2018 / JSSC 2019; "
        "[derived] arithmetic on published figures (named in each entry); [assumed] a modelling choice; "
        "[physics] a physical law. Tables: core/energy.py (ENERGY_TABLE, TIME_TABLE, BAND_TABLE), "
        "core/config.py (every chip field).</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


# --- numbers the report needs that no other module computes ---------------------------------------
def paper_point(config: Any, draws: int = 8, invocations: int = 2000) -> dict[str, float]:
    """Energy and time per invocation at the paper's operating point: 50 rows, 16 columns, random 7-b
    inputs and +/-1 weights (each draw its own chip seed and weights), on `config`."""
    import numpy as np

    from convsram.core.chip import Chip

    totals: dict[str, list[float]] = {"energy_pj": [], "time_ns": [], "dac_pj": [], "array_pj": [],
                                      "adc_pj": []}
    for seed in range(draws):
        rng = np.random.default_rng(seed)
        chip = Chip(config, seed=seed)
        chip.program(rng.choice([-1, 1], size=(50, config.columns)))
        x = rng.integers(0, config.max_input + 1, size=(invocations, 50))
        inv = chip.invoke_batch(x, np.arange(16) * config.columns_per_group + seed % config.columns_per_group,
                                mode="relu")
        n = inv.n_invocations
        totals["energy_pj"].append(inv.energy_total_pj / n)
        totals["time_ns"].append(inv.time_ns / n)
        for k in ("dac", "array", "adc"):
            totals[f"{k}_pj"].append(inv.energy_pj[k] / n)
    out = {k: float(np.mean(v)) for k, v in totals.items()}
    out["tops_per_w"] = energy.tops_per_w(50 * 16, out["energy_pj"])
    return out


def layer_rows(model: Any, config: Any) -> list[dict[str, Any]]:
    """Per layer: rows per tile (mean), tiles, MACs, and the signal of one unit of sum(w*x) against the
    kT/C noise of a line shared by that many rows."""
    from convsram.core.network import op_counts

    out = []
    for spec, c in zip(model.layers, op_counts(model), strict=True):
        n = spec.rows / spec.n_tiles
        out.append({"name": spec.name, "rows_per_tile": f"{n:.0f}", "tiles": spec.n_tiles, "macs": c.macs,
                    "signal_uv": config.dac_lsb / n * 1e6,
                    "ktc_uv": config.ktc_sigma(max(1, round(n))) * 1e6 if config.c_line else 0.0})
    return out
