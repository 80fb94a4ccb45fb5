"""Headless subcommands: `eval` and `config` (`sweep` is in cmd_sweep.py), and the argument helpers
they share."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from convsram.cli import command


def _preset_names() -> tuple[str, ...]:
    from convsram.core.presets import PRESETS
    return tuple(PRESETS)


def _chip_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chip", choices=_preset_names(), default="calibrated",
                   help="chip preset (default calibrated; nominal is its old name): ideal, calibrated "
                        "(offsets as left by offset calibration), uncalibrated (offsets as fabricated), "
                        "harsh; --config overrides it")
    p.add_argument("--config", type=Path, help="chip configuration TOML (see `convsram config`)")
    p.add_argument("--model", type=Path, help="model file (default: the shipped assets/models/lenet-bw.npz)")
    p.add_argument("--mnist", type=Path, help="directory with the MNIST files (default: bundled)")


def _config(args: argparse.Namespace):
    from convsram.core.configfile import load_config, preset
    return load_config(args.config) if args.config else preset(args.chip)


def _model(args: argparse.Namespace):
    from convsram.core.network import load_model
    from convsram.core.paths import DEFAULT_MODEL
    return load_model(args.model or DEFAULT_MODEL)


def _int_at_least(lo: int, what: str):
    """An argparse type: an integer >= lo (argparse turns the message into a one-line error)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"{what} must be at least {lo}, got {value}")
        return value
    return parse


def _int_between(lo: int, hi: int, what: str):
    """An argparse type: an integer in lo..hi (the upper bound says what a command will attempt)."""
    at_least = _int_at_least(lo, what)

    def parse(text: str) -> int:
        value = at_least(text)
        if value > hi:
            raise argparse.ArgumentTypeError(f"{what} must be at most {hi}, got {value}")
        return value
    return parse


MAX_CHIPS = 100_000  # seeds per setting a sweep will attempt
_positive = _int_at_least(1, "the count")
_seed = _int_at_least(0, "a seed")


def _progress(total: int, desc: str):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="img", file=sys.stderr, disable=not sys.stderr.isatty(),
                dynamic_ncols=True)


# --- eval --------------------------------------------------------------------------------------
def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", type=_positive, default=10_000, help="test images to run (default all 10,000)")
    p.add_argument("--seed", type=_seed, default=0, help="chip instance seed (default 0)")
    _chip_args(p)
    p.add_argument("--batch-size", type=_positive, default=500, help="images per batch (default 500)")
    p.add_argument("--calibrate", action="store_true",
                   help="run offset calibration on each chip first (known zero input, 64 conversions per "
                        "column, a 7-b whole-code correction; its energy and time are charged once per chip; "
                        "a network in several phases or on several macros: a correction per phase and "
                        "macro, loaded with the weights at each rewrite (those register writes charged per "
                        "image)")
    p.add_argument("--chips", type=_int_between(1, MAX_CHIPS, "--chips"), default=1,
                   help="evaluate this many chips, seeds --seed .. --seed+chips-1, and report their mean, "
                        "5th percentile and minimum accuracy (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


@command("eval", "Run the MNIST test set through a chip and report accuracy, energy, time and savings.",
         _eval_args)
def run_eval(args: argparse.Namespace) -> int:
    from convsram.core.evaluate import evaluate, format_report
    from convsram.core.mnist import load

    config = _config(args)
    model = _model(args)
    data = load("test", args.mnist, limit=args.images)
    seeds = range(args.seed, args.seed + args.chips)
    reports = []
    with _progress(len(data) * len(seeds), "eval") as bar:
        for seed in seeds:
            reports.append(evaluate(model, data.images, data.labels, config, seed, args.batch_size,
                                    bar.update, calibrate=args.calibrate))
    report = reports[0]
    report["model"] = str(args.model or "assets/models/lenet-bw.npz")
    if args.chips > 1:
        report["chips"] = _chips_report(reports)
    if args.json:
        print(json.dumps(report))
    else:
        print(format_report(report))
        if args.chips > 1:
            print(_chips_text(report["chips"]))
    return 0


def _chips_report(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy over the chips (the first chip's report is the main one)."""
    from convsram.core.stats import chips_summary
    per_chip = [{"seed": r["chip"]["seed"], "accuracy": r["accuracy"], "correct": r["correct"],
                 **({"rms_offset_before_mv": r["calibration"]["rms_offset_before_mv"],
                     "rms_offset_after_mv": r["calibration"]["rms_offset_after_mv"]}
                    if r.get("calibration") else {})} for r in reports]
    return {**chips_summary([r["accuracy"] for r in reports]), "images": reports[0]["images"],
            "per_chip": per_chip}


def _chips_text(c: dict[str, Any]) -> str:
    from convsram.core.stats import wilson
    lo, hi = wilson(round(c["mean"] * c["images"]), c["images"])
    half = 100 * (hi - lo) / 2
    return (f"over {c['chips']} chips   mean {100 * c['mean']:.2f} %, 5th percentile {100 * c['p5']:.2f} %, "
            f"min {100 * c['min']:.2f} %, max {100 * c['max']:.2f} % ({c['images']:,} images per chip: "
            f"one chip's accuracy is +/-{half:.2f} points at 95 %)\n"
            "per chip          " + " ".join(f"{100 * p['accuracy']:.2f}" for p in c["per_chip"]))


# --- config ------------------------------------------------------------------------------------
def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chip", choices=_preset_names(), default="calibrated",
                   help="preset to write (default calibrated; nominal is its old name)")
    p.add_argument("--out", type=Path, help="write the preset as TOML here")
    p.add_argument("--check", type=Path, help="validate a TOML file and print the resulting config")
    p.add_argument("--fields", action="store_true", help="list every field with unit, range and source")


@command("config", "Write, check or explain chip configuration TOML files.", _config_args)
def run_config(args: argparse.Namespace) -> int:
    from convsram.core.config import ChipConfig, field_info
    from convsram.core.configfile import dumps, load_config, preset, save_config

    if args.fields:
        from convsram.core.config import knob_fields
        from convsram.core.presets import NAMES, PRESETS
        presets = {n: PRESETS[n]() for n in NAMES if n != "ideal"}
        for spec in knob_fields():
            i = field_info(spec.name)
            values = ""
            if spec.name in ChipConfig.NONIDEALITIES:
                values = " (" + ", ".join(f"{n} {spec.format(getattr(c, spec.name))}"
                                          for n, c in presets.items()) + ")"
            print(f"{spec.name:24s} [{i['unit']}] {i['min']}..{i['max']}, default {i['default']} = "
                  f"{spec.format(i['default'])}{values}: {i['doc']}")
        return 0
    if args.check:
        print(dumps(load_config(args.check)), end="")
        return 0
    config = preset(args.chip)
    if args.out:
        save_config(config, args.out)  # checked first, written atomically
        print(f"wrote {args.out}")
    else:
        print(dumps(config), end="")
    return 0
