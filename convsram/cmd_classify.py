"""`convsram classify IMAGE.png`: the drawing pad's pipeline for a picture file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from convsram.cli import command


def _classify_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", type=Path, metavar="IMAGE",
                   help="a picture of one digit (PNG, JPEG, ...; any size, dark ink on light or light on "
                        "dark)")
    from convsram.core.presets import PRESETS

    p.add_argument("--chip", choices=tuple(PRESETS), default="calibrated",
                   help="chip preset (default calibrated, the demo's chip); --config overrides it")
    p.add_argument("--config", type=Path, help="chip configuration TOML (see `convsram config`)")
    p.add_argument("--seed", type=int, default=0, help="chip instance seed (default 0)")
    p.add_argument("--model", type=Path, help="model file (default: the shipped assets/models/lenet-bw.npz)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


@command("classify", "Read a digit from a picture file the way the demo's drawing pad does: the digit, the "
                     "score margin, and 'not sure' when the answer is not to be trusted.", _classify_args)
def run_classify(args: argparse.Namespace) -> int:
    from convsram.core.classify import load_picture, read_drawing
    from convsram.core.configfile import load_config, preset
    from convsram.core.network import load_model
    from convsram.core.paths import DEFAULT_MODEL

    if args.seed < 0:
        raise ValueError(f"--seed must be at least 0, got {args.seed}")
    picture = load_picture(args.image)  # an unreadable picture fails before the model and chip load
    config = load_config(args.config) if args.config else preset(args.chip)
    model = load_model(args.model or DEFAULT_MODEL)
    reading = read_drawing(model, picture, config, args.seed)
    if args.json:
        print(json.dumps({"image": str(args.image), **reading.as_dict()}))
    else:
        print(f"{args.image}: {reading.line()}")
    return 0
