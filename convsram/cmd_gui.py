"""`convsram` (no subcommand) / `convsram app`: the live window; `convsram snapshot`: a PNG of it.

Qt is imported only when one of these runs (inside gui.app), so other subcommands stay light.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from convsram.cli import command


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, default=None, metavar="PATH",
                        help="model file (.npz); default: the shipped assets/models/lenet-bw.npz")
    parser.add_argument("--mnist", type=Path, default=None, metavar="DIR",
                        help="folder with the MNIST files; default: the shipped assets/mnist")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="chip instance (its mismatch draws); default 0")
    parser.add_argument("--image", type=int, default=None, metavar="N",
                        help="MNIST test image to start on (default: where the last run ended / 0)")


def _app_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--paused", action="store_true", help="open paused instead of playing")


def _snapshot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.png", help="PNG file to write")
    _common(parser)
    parser.add_argument("--layer", default=None, metavar="NAME", help="layer to show (e.g. conv2)")
    parser.add_argument("--step", type=int, default=None, metavar="K",
                        help="invocation within --layer (0-based), or within the image without --layer")
    parser.add_argument("--size", default="1920x1080", metavar="WxH",
                        help="picture size in pixels (default 1920x1080)")


def _check_seed(seed: int) -> None:
    if seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {seed}")


@command("app", "Open the live visualizer (the default when no command is given).", _app_arguments)
def run_app(args: argparse.Namespace) -> int:
    seed = getattr(args, "seed", 0)
    _check_seed(seed)
    from gui.app import run_app as run

    return run(model=getattr(args, "model", None), mnist=getattr(args, "mnist", None), seed=seed,
               image=getattr(args, "image", None), play=not getattr(args, "paused", False))


@command("snapshot", "Render the visualizer at an image, layer and invocation to a PNG, without a screen.",
         _snapshot_arguments)
def run_snapshot(args: argparse.Namespace) -> int:
    _check_seed(args.seed)
    from gui.app import Position, parse_size, snapshot

    size = parse_size(args.size)
    if args.step is not None and args.step < 0:
        raise ValueError(f"--step must be >= 0, got {args.step}")
    out = snapshot(args.out, size, Position(args.image, args.layer, args.step), model=args.model,
                   mnist=args.mnist, seed=args.seed)
    print(f"wrote {out} ({size[0]}x{size[1]})")
    return 0
