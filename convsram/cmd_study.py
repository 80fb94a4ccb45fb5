"""Study subcommands: `scaling` (the design at other nodes and bit widths) and `report` (one HTML)."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import Any

from convsram.cli import command
from convsram.cmd_eval import _chip_args, _config, _int_at_least, _int_between, _model, _progress, _seed


def _int_list(what: str, lo: int, hi: int):
    """An argparse type: comma-separated integers in lo..hi."""
    def parse(text: str) -> list[int]:
        try:
            values = [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} takes comma-separated integers, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{what} needs at least one value")
        for v in values:
            if not lo <= v <= hi:
                raise argparse.ArgumentTypeError(f"{what} values must be in {lo}..{hi}, got {v}")
        return values
    return parse


# --- scaling -----------------------------------------------------------------------------------
def _scaling_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--nodes", type=_int_list("--nodes", 7, 65), default=[65, 45, 28, 22, 7],
                   help="technology nodes in nm, of 65,45,28,22,7 (default all)")
    p.add_argument("--input-bits", type=_int_list("--input-bits", 1, 12), default=[7],
                   help="input (DAC) bits to try, comma-separated (default 7)")
    p.add_argument("--adc-bits", type=_int_list("--adc-bits", 1, 12), default=[7],
                   help="ADC bits to try, comma-separated (default 7)")
    p.add_argument("--rows", type=_int_list("--rows", 1, 1024), default=[50],
                   help="rows averaged at the paper's operating point, for energy per invocation and TOPS/W "
                        "(default 50; the network keeps its own tiles for accuracy)")
    p.add_argument("--chips", type=_int_between(1, 1000, "--chips"), default=5,
                   help="Monte Carlo chips per point (default 5)")
    p.add_argument("--first-seed", type=_seed, default=0, help="seeds are first-seed .. first-seed+chips-1")
    p.add_argument("--images", type=_int_at_least(1, "--images"), default=500,
                   help="test images per chip (default 500: about a minute for the 5 nodes)")
    p.add_argument("--out", type=Path, default=Path("scaling.csv"),
                   help="CSV of every point (default scaling.csv)")
    p.add_argument("--plot", type=Path, help="PNG (default: the CSV's name with .png)")
    _chip_args(p)


def scaling_points(args: argparse.Namespace, bar_desc: str = "scaling") -> list:
    from convsram.core.mnist import load
    from convsram.core.scaling import Grid, run

    base = _config(args)
    grid = Grid(tuple(args.nodes), tuple(args.input_bits), tuple(args.adc_bits), tuple(args.rows))
    grid.check(base)  # every value before any work
    model = _model(args)
    data = load("test", args.mnist, limit=args.images)
    with _progress(len(grid.points()) * args.chips, bar_desc) as bar:
        bar.unit = "chip"
        return run(base, model, data.images, data.labels, grid, args.chips, args.first_seed, bar.update)


def scaling_csv(points: list) -> str:
    from convsram.core.scaling import columns

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns(), lineterminator="\n")
    writer.writeheader()
    for p in points:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in p.row().items()})
    return buf.getvalue()


@command("scaling", "What-if: energy band, TOPS/W and Monte Carlo accuracy at other nodes and bit widths.",
         _scaling_args)
def run_scaling(args: argparse.Namespace) -> int:
    from convsram.core.files import check_output, write_bytes, write_text
    from convsram.figures import scaling_png

    out = check_output(args.out, ("csv",), "--out")
    plot = check_output(args.plot or args.out.with_suffix(".png"), ("png",), "--plot")
    points = scaling_points(args)
    write_text(out, scaling_csv(points))
    write_bytes(plot, scaling_png([p.row() for p in points]))
    print(f"wrote {len(points)} points to {out} and {plot} ({args.chips} chips x {args.images} images each)")
    for p in points:
        e, t = p.energy_per_image_nj, p.tops_per_w
        print(f"  {p.node_nm:2d} nm {p.vdd_v:.2f} V  in {p.input_bits} b  ADC {p.adc_bits} b  "
              f"rows {p.rows:3d}: {e[1]:6.1f} nJ/inference ({e[0]:.1f}-{e[2]:.1f})  "
              f"{t[1]:6.0f} TOPS/W ({t[0]:.0f}-{t[2]:.0f})  "
              f"accuracy mean {100 * p.accuracy_mean:.2f} % "
              f"(95 %, images pooled, {100 * p.accuracy_ci95[0]:.2f}-"
              f"{100 * p.accuracy_ci95[1]:.2f}), p5 {100 * p.accuracy_p5:.2f} %  "
              f"{p.fairest_saving:.2f}x vs a weight-stationary datapath at the same node")
    return 0


# --- report ------------------------------------------------------------------------------------
def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("report.html"), help="HTML file (default report.html)")
    p.add_argument("--images", type=_int_at_least(1, "--images"), default=2000,
                   help="test images for the evaluation and each Monte Carlo chip (default 2000)")
    p.add_argument("--chips", type=_int_between(1, 1000, "--chips"), default=5,
                   help="Monte Carlo chips (default 5)")
    p.add_argument("--seed", type=_seed, default=0, help="first chip seed (default 0)")
    p.add_argument("--scaling-chips", type=_int_between(1, 1000, "--scaling-chips"), default=3,
                   help="Monte Carlo chips per scaling point (default 3)")
    p.add_argument("--scaling-images", type=_int_at_least(1, "--scaling-images"), default=500,
                   help="test images per chip in the scaling study (default 500)")
    p.add_argument("--depth-images", type=_int_at_least(1, "--depth-images"), default=200,
                   help="test images per chip (2 chips) in the depth experiment, when present (default 200)")
    _chip_args(p)


def _monte_carlo(model, data, config, seeds, first: dict | None = None, **kwargs) -> dict:
    import numpy as np

    from convsram.core.evaluate import evaluate
    from convsram.core.stats import wilson

    accs, correct = [], 0
    for s in seeds:
        r = first if (first is not None and s == seeds[0]) else evaluate(model, data.images, data.labels,
                                                                            config, s, **kwargs)
        accs.append(r["accuracy"])
        correct += r["correct"]
    n = len(seeds) * len(data.images)
    return {"mean": float(np.mean(accs)), "p5": float(np.percentile(accs, 5)), "min": float(min(accs)),
            "ci95": list(wilson(correct, n)), "chips": len(seeds), "images": len(data.images)}


def _depth(model, data, config, seeds) -> list[dict] | None:
    """The depth experiment's rows (core/depth.py: each weight layer's own and accumulated error)
    when that module is present and runs on this network; None otherwise."""
    try:
        from convsram.core.depth import measure  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        return [d.row() for d in measure(model, data.images, config, seeds)]
    except (ValueError, TypeError, AttributeError):
        return None


def _calibration(model, data, seeds) -> dict | None:
    """Accuracy of the calibrated and uncalibrated presets, and of uncalibrated chips after offset
    calibration, when that work (issue 11, sections 1-2) is present; None otherwise."""
    import inspect

    from convsram.core.evaluate import evaluate
    try:
        from convsram.core.presets import PRESETS  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    if "uncalibrated" not in PRESETS or "calibrate" not in inspect.signature(evaluate).parameters:
        return None
    rows = {}
    for label, name, cal in (("calibrated preset", "calibrated", False),
                             ("uncalibrated", "uncalibrated", False),
                             ("uncalibrated, then calibrated on chip", "uncalibrated", True)):
        if name in PRESETS:
            try:
                rows[label] = _monte_carlo(model, data, PRESETS[name](), seeds, calibrate=cal)
            except ValueError as exc:  # the study fails on this network: the rest of the report stands
                return {"rows": rows, "note": f"The calibration study failed on this network ({label}): "
                                              f"{exc}"}
    return {"rows": rows, "note": "Offsets in volts at the comparator input; the uncalibrated preset draws "
                                  "Pelgrom-sized offsets, calibration measures and corrects them per column "
                                  "(core/calibration.py, convsram eval --calibrate)."}


@command("report", "Write one self-contained HTML report: paper vs model, depth, scaling, digital baselines.",
         _report_args)
def run_report(args: argparse.Namespace) -> int:
    import sys
    import time

    from convsram.core import report
    from convsram.core.evaluate import evaluate
    from convsram.core.files import check_output, write_text
    from convsram.core.mnist import load
    from convsram.core.scaling import Grid, run
    from convsram.figures import baselines_png, per_layer_png, scaling_png

    out = check_output(args.out, ("html", "htm"), "--out")
    config = _config(args)
    model = _model(args)
    data = load("test", args.mnist, limit=args.images)
    t0 = time.time()
    print("report: evaluating ...", file=sys.stderr)
    ev = evaluate(model, data.images, data.labels, config, args.seed)
    seeds = list(range(args.seed, args.seed + args.chips))
    mc = _monte_carlo(model, data, config, seeds, first=ev)
    print("report: scaling ...", file=sys.stderr)
    sdata = load("test", args.mnist, limit=args.scaling_images)
    points = run(config, model, sdata.images, sdata.labels, Grid(), args.scaling_chips, args.seed)
    srows = [p.row() for p in points]
    print("report: depth, calibration, figures ...", file=sys.stderr)
    depth = _depth(model, load("test", args.mnist, limit=args.depth_images), config, seeds[:2])
    written = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    d: dict[str, Any] = {
        "command": " ".join(["convsram", "report", *sys.argv[sys.argv.index("report") + 1:]]
                            if "report" in sys.argv else ["convsram", "report"]),
        "settings": f"{args.images:,} test images, chips seeds {seeds[0]}-{seeds[-1]}, scaling "
                    f"{args.scaling_chips} chips x {args.scaling_images:,} images per node.",
        "paper_point": report.paper_point(config), "eval": ev, "monte_carlo": mc,
        "layers": report.layer_rows(model, config),
        "depth": depth, "depth_images": args.depth_images, "depth_chips": len(seeds[:2]),
        "depth_note": "No depth experiment was available for this report, so the layers of the network "
                      "given (--model; default the shipped LeNet) stand in for it; a deeper residual network "
                      "(core/architectures.py, convsram train --arch resnet) has not been evaluated here."
                      if depth is None else
                      "The depth experiment (core/depth.py) measures, per weight layer of the network given "
                      "(--model; deeper: convsram train --arch resnet), the error the layer adds on its "
                      "own (exact inputs) and the error accumulated from the layers before it.",
        "scaling": {"rows": srows, "chips": args.scaling_chips, "images": args.scaling_images},
        "calibration": _calibration(model, data, seeds),
        "figures": {"layers": per_layer_png(ev["energy_by_layer_pj"]), "scaling": scaling_png(srows),
                    "baselines": baselines_png(ev["chip_energy_compared_pj"] / 1e3, ev["baselines"],
                                               f"this chip ({ev['chip']['preset']})")},
    }
    d["generated"] = f"Written {written} in {time.time() - t0:.0f} s"
    write_text(out, report.build(d))
    print(f"wrote {out}: accuracy {100 * ev['accuracy']:.2f} % on {ev['images']:,} images, "
          f"{mc['chips']} chips mean {100 * mc['mean']:.2f} %, {len(points)} scaling points")
    return 0
