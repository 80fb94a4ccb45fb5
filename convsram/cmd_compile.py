"""`convsram compile MODEL`: the placement of a network on the chip's macros."""

from __future__ import annotations

import argparse
from pathlib import Path

from convsram.cli import command


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, nargs="?", help="model file (default: the shipped LeNet)")
    p.add_argument("--macros", type=int, default=None,
                   help="macros to place it on (default: the config's, 1)")
    p.add_argument("--config", type=Path, help="chip configuration TOML (geometry; see `convsram config`)")


@command("compile", "Print how a network is placed on the chip's macros: per layer tiles, columns, macro, "
                    "phase (weight rewrites), invocations and utilisation.", _arguments)
def run_compile(args: argparse.Namespace) -> int:
    from convsram.core.compiler import format_plan, plan
    from convsram.core.config import ChipConfig
    from convsram.core.configfile import load_config
    from convsram.core.network import load_model
    from convsram.core.paths import DEFAULT_MODEL

    path = args.model or DEFAULT_MODEL
    model = load_model(path)
    config = load_config(args.config) if args.config else ChipConfig()
    if args.macros is not None:
        if not 1 <= args.macros <= 64:
            raise ValueError(f"--macros must be 1..64, got {args.macros}")
        config = config.with_(macros=args.macros)
    print(format_plan(plan(model, config), Path(path).name))
    return 0
