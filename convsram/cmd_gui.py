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
    parser.add_argument("--layer", default=None, metavar="NAME",
                        help="stage to show: a layer (e.g. conv2) or a digital step (conv2.sum, "
                             "conv2.requant, fc.scores, pool1)")
    parser.add_argument("--step", type=int, default=None, metavar="K",
                        help="step within --layer (0-based: an invocation, or a digital step's output "
                             "position), or within the image without --layer")
    parser.add_argument("--size", default="1920x1080", metavar="WxH",
                        help="picture size in pixels (default 1920x1080)")
    parser.add_argument("--demo", action="store_true", help="render the demo-mode layout (convsram --demo)")
    _captions_argument(parser)
    parser.add_argument("--view", default=None, metavar="NAME",
                        help="render a chip-lab view instead of the dashboard: compare (ideal vs this chip), "
                             "mismatch (the array mismatch map), errors (where the error comes from), "
                             "waveform (inside one invocation), montecarlo (runs a small sweep first, a few "
                             "seconds), calibrate (offset calibration before and after, over 20 chips)")


def _record_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.gif|FILE.mp4",
                        help="animated GIF, or MP4 (needs imageio-ffmpeg: pip install 'convsram[video]')")
    _common(parser)
    parser.add_argument("--layer", default=None, metavar="NAME",
                        help="stage to start in: a layer (e.g. conv2) or a digital step (conv2.sum)")
    parser.add_argument("--step", type=int, default=None, metavar="K",
                        help="step to start at, within --layer or within the image")
    parser.add_argument("--frames", type=int, default=60, metavar="N", help="frames to record (default 60)")
    parser.add_argument("--every", type=int, default=None, metavar="S",
                        help="steps (invocations and digital steps) between frames (default: the frames "
                             "spread over the rest of the image)")
    parser.add_argument("--fps", type=float, default=10.0, help="frames per second of the film (default 10)")
    parser.add_argument("--size", default="1280x720", metavar="WxH",
                        help="frame size in pixels (default 1280x720)")
    parser.add_argument("--demo", action="store_true", help="film the demo-mode layout")
    _captions_argument(parser)


def _captions_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--technical-captions", action="store_true",
                        help="the technical captions and legends (the window's T key) instead of the plain "
                             "words for visitors")


def _check_seed(seed: int) -> None:
    if seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {seed}")


@command("app", "Open the live visualizer (the default when no command is given).", _app_arguments)
def run_app(args: argparse.Namespace) -> int:
    seed = getattr(args, "seed", 0)
    _check_seed(seed)
    from convsram.gui.app import deferred_sigint

    with deferred_sigint():  # Ctrl-C while Qt loads or the window is built: quit cleanly once it runs
        return _app(args, seed)


def _app(args: argparse.Namespace, seed: int) -> int:
    script = getattr(args, "demo_script", None)
    if getattr(args, "demo_mode", False) or script is not None:
        from convsram.gui.demo.run import run_demo

        return run_demo(script=script, model=getattr(args, "model", None), mnist=getattr(args, "mnist", None),
                        seed=seed, image=getattr(args, "image", None))
    from convsram.gui.app import run_app as run

    return run(model=getattr(args, "model", None), mnist=getattr(args, "mnist", None), seed=seed,
               image=getattr(args, "image", None), play=not getattr(args, "paused", False))


@command("snapshot", "Render the visualizer at an image, layer and invocation to a PNG, without a screen.",
         _snapshot_arguments)
def run_snapshot(args: argparse.Namespace) -> int:
    _check_seed(args.seed)
    from convsram.gui.app import deferred_sigint

    with deferred_sigint():  # Ctrl-C: a clean stop at the next safe point (never inside Qt code)
        return _snapshot(args)


def _snapshot(args: argparse.Namespace) -> int:
    from convsram.gui.app import Position, parse_size, snapshot

    size = parse_size(args.size)
    if args.step is not None and args.step < 0:
        raise ValueError(f"--step must be >= 0, got {args.step}")
    if args.view is not None:
        if args.demo:
            raise ValueError("--view and --demo exclude each other")
        if args.technical_captions:
            raise ValueError("--technical-captions is for the dashboard and --demo; a lab --view has no "
                             "plain captions")
        from convsram.gui.lab.snapshot import snapshot_view

        out = snapshot_view(args.out, args.view, size, Position(args.image, args.layer, args.step),
                            model=args.model, mnist=args.mnist, seed=args.seed)
        print(f"wrote {out} ({size[0]}x{size[1]}, chip lab: {args.view})")
        return 0
    if args.demo:
        from convsram.gui.demo.run import snapshot_demo as snapshot  # noqa: F811 - the demo layout instead
    out = snapshot(args.out, size, Position(args.image, args.layer, args.step), model=args.model,
                   mnist=args.mnist, seed=args.seed, technical=args.technical_captions)
    print(f"wrote {out} ({size[0]}x{size[1]})")
    return 0


@command("record", "Film playback to an animated GIF or an MP4, without a screen.", _record_arguments)
def run_record(args: argparse.Namespace) -> int:
    _check_seed(args.seed)
    from convsram.gui.app import deferred_sigint

    with deferred_sigint():  # Ctrl-C: a clean stop between frames, the previous file left whole
        return _record(args)


def _record(args: argparse.Namespace) -> int:
    from convsram.gui.app import Position, parse_size
    from convsram.gui.demo.run import record

    size = parse_size(args.size)
    if args.step is not None and args.step < 0:
        raise ValueError(f"--step must be >= 0, got {args.step}")
    if not 0.5 <= args.fps <= 60:
        raise ValueError(f"--fps must be between 0.5 and 60, got {args.fps}")
    out, frames, every = record(args.out, size, Position(args.image, args.layer, args.step), args.frames,
                                args.every, args.fps, demo=args.demo, model=args.model, mnist=args.mnist,
                                seed=args.seed, technical=args.technical_captions)
    print(f"wrote {out} ({frames} frames of {size[0]}x{size[1]}, {every} invocation(s) apart, "
          f"{out.stat().st_size / 1e6:.2f} MB)")
    return 0
