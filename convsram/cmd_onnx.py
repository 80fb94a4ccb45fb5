"""`convsram import` and `convsram export`: binary-weight networks from and to ONNX (the optional
``onnx`` extra: pip install 'convsram[onnx]')."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from convsram.cli import command


def _pair(what: str):
    def parse(text: str) -> tuple[float, float]:
        try:
            a, b = (float(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{what} takes two numbers like 0.1307,0.3081, got {text!r}") from None
        return a, b
    return parse


def _import_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("onnx", type=Path,
                   help="the ONNX file (binary weights; see core/onnx_import.py for the forms)")
    p.add_argument("--out", type=Path, required=True, help="model file to write (.npz)")
    p.add_argument("--calibration-images", type=int, default=1000,
                   help="MNIST training images that choose the activation scales and ADC steps "
                        "(default 1000)")
    p.add_argument("--input-range", type=_pair("--input-range"), default=(0.0, 1.0),
                   help="what the network's input pixels span: 0,1 (default) or 0,255")
    p.add_argument("--normalize", type=_pair("--normalize"), default=None,
                   help="MEAN,STD the network subtracts and divides by (folded into its first layer)")
    p.add_argument("--binarize", action="store_true",
                   help="accept float weights: sign(W) x mean|W| per output channel (accuracy will drop)")
    p.add_argument("--percentile", type=float, default=99.9,
                   help="percentile of the calibration values mapped to the largest code (default 99.9)")
    p.add_argument("--mnist", type=Path, default=None,
                   help="directory with the MNIST files (default: bundled)")
    p.add_argument("--check", type=int, default=2000,
                   help="test images to report the imported model's accuracy on (0: skip; default 2000)")


@command("import", "Import a binary-weight CNN from ONNX as a convsram model file (calibrated on MNIST).",
         _import_arguments)
def run_import(args: argparse.Namespace) -> int:
    import numpy as np

    from convsram.core import mnist, network
    from convsram.core.files import check_output
    from convsram.core.onnx_import import import_onnx

    out = check_output(args.out, ("npz",), "--out")
    if not 1 <= args.calibration_images <= 60_000:
        raise ValueError(f"--calibration-images must be 1..60000, got {args.calibration_images}")
    if not 0 < args.percentile <= 100:
        raise ValueError(f"--percentile must be in (0, 100], got {args.percentile}")
    if args.normalize is not None and args.normalize[1] <= 0:
        raise ValueError(f"--normalize: the standard deviation must be positive, got {args.normalize[1]}")
    calib = mnist.load("train", args.mnist, limit=args.calibration_images)
    model = import_onnx(args.onnx, calib.images, tuple(args.input_range), args.normalize, args.binarize,
                        args.percentile, warn=lambda w: print(f"warning: {w}", file=sys.stderr))
    network.save_model(model, out)
    line = (f"wrote {out}: {len(model.graph.nodes)} nodes, {len(model.layers)} weight layers, ADC steps "
            f"{model.adc_step}")
    if args.check:
        test = mnist.load("test", args.mnist, limit=args.check)
        acc = float(np.mean(network.predict(model, test.images) == test.labels))
        line += f"; exact-path (= ideal chip) accuracy on {len(test):,} test images {100 * acc:.2f} %"
    print(line)
    return 0


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="convsram model file (.npz)")
    p.add_argument("--out", type=Path, required=True, help="ONNX file to write")


@command("export", "Export a model's exact integer path (what the ideal chip computes) as standard ONNX.",
         _export_arguments)
def run_export(args: argparse.Namespace) -> int:
    from convsram.core.files import check_output
    from convsram.core.network import load_model
    from convsram.core.onnx_export import export_model

    out = check_output(args.out, ("onnx",), "--out")
    model = load_model(args.model)
    export_model(model, out)
    print(f"wrote {out}: input 'pixels' (N, 1, 28, 28) floats 0..255, output 'scores' (N, 10); its argmax is "
          "the ideal chip's answer")
    return 0
