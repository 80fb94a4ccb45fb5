"""`convsram depth`: per layer, how far the chip is from the bit-exact path (core/depth.py)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from convsram.cli import command
from convsram.cmd_eval import _chip_args, _config, _int_between

DEEP_MODEL = "resnet-bw.npz"  # the deeper shipped model, beside the LeNet


def _arguments(p: argparse.ArgumentParser) -> None:
    _chip_args(p)  # --chip, --config, --model, --mnist
    p.add_argument("--also", type=Path, action="append", default=[],
                   help="another model to measure beside --model (repeatable; default: the shipped "
                        f"{DEEP_MODEL} when --model is not given and it exists)")
    p.add_argument("--chips", type=_int_between(1, 100, "--chips"), default=3,
                   help="chip instances (seeds from --seed on) (default 3)")
    p.add_argument("--images", type=_int_between(1, 10_000, "--images"), default=200,
                   help="test images per chip (default 200)")
    p.add_argument("--seed", type=_int_between(0, 2**31, "--seed"), default=0,
                   help="first chip seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("depth.csv"), help="CSV to write (default depth.csv)")
    p.add_argument("--plot", type=Path, help="PNG plot (default: the CSV's name with .png)")


@command("depth", "Measure per layer how far the chip is from the bit-exact path: SQNR of the pre-ADC "
                  "values, rms code error, activations that differ, ADC saturation; the layer's own error "
                  "and the accumulated one; CSV and PNG.", _arguments)
def run_depth(args: argparse.Namespace) -> int:
    from convsram.core import mnist
    from convsram.core.depth import DepthReport, measure
    from convsram.core.files import atomic_open, check_output
    from convsram.core.network import load_model
    from convsram.core.paths import DEFAULT_MODEL

    out = check_output(args.out, ("csv",), "--out")
    plot_path = check_output(args.plot or out.with_suffix(".png"), ("png",), "--plot")
    paths = [args.model or DEFAULT_MODEL, *args.also]
    deep = Path(DEFAULT_MODEL).with_name(DEEP_MODEL)
    if args.model is None and not args.also and deep.is_file():
        paths.append(deep)
    models = [(Path(p).name, load_model(p)) for p in paths]  # every file checked before any work
    config = _config(args)
    data = mnist.load("test", args.mnist, limit=args.images)
    seeds = list(range(args.seed, args.seed + args.chips))
    reports = []
    for name, model in models:
        rep = DepthReport(name, len(data), len(seeds), measure(model, data.images, config, seeds))
        reports.append(rep)
        print(f"{name}: {len(seeds)} chip{'s' if len(seeds) > 1 else ''} x {len(data)} images")
        print(f"  {'layer':10s} {'run':12s} {'SQNR dB':>8s} {'rms err LSB':>11s} {'differ':>8s} "
              f"{'saturate':>9s}")
        for d in rep.layers:
            print(f"  {d.layer:10s} {d.run:12s} {d.sqnr_db:8.1f} {d.rms_code_error_lsb:11.3f} "
                  f"{100 * d.fraction_differ:7.2f}% {100 * d.saturation_rate:8.3f}%")
        first = rep.first_to_matter()
        print(f"  first layer whose accumulated activations differ in more than 1 %: {first or 'none'}")
    with atomic_open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["model", *reports[0].layers[0].row()])
        writer.writeheader()
        for rep in reports:
            for d in rep.layers:
                writer.writerow({"model": rep.model, **d.row()})
    from convsram.depth_plot import depth_plot

    depth_plot(reports, plot_path)
    print(f"wrote {out} and {plot_path}")
    return 0
