"""The `convsram` command: the app (no arguments) and its subcommands.

Bad input (missing or corrupt files, impossible settings) prints one line saying what is wrong and how
to fix it, and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from convsram import __version__

EXIT_BAD_INPUT = 2

# Subcommands register here: name -> (help, add_arguments(parser), run(args) -> int)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[..., int]]] = {}


def command(name: str, help_text: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    def register(run: Callable[..., int]) -> Callable[..., int]:
        COMMANDS[name] = (help_text, add_arguments, run)
        return run

    return register


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong, where to read more) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="convsram",
        description="Live simulator of MIT's Conv-SRAM in-memory-computing macro (Biswas and "
                    "Chandrakasan, ISSCC 2018) running a binary-weight LeNet on MNIST. "
                    "Without a subcommand, opens the app.")
    parser.add_argument("--version", action="version", version=f"convsram {__version__}")
    parser.add_argument("--demo", dest="demo_mode", action="store_true",
                        help="open the app in demo mode: full screen, big type, auto-play, a drawing pad "
                             "(Esc leaves)")
    parser.add_argument("--script", dest="demo_script", type=Path, default=None, metavar="FILE",
                        help="demo mode replaying a script of commands (see core/script.py); implies --demo")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
    return parser


def _load_commands() -> None:
    # importing registers the subcommands; each module keeps heavy imports inside its run function
    from convsram import commands  # noqa: F401


def main(argv: Sequence[str] | None = None) -> int:
    _load_commands()
    parser = build_parser()
    args = parser.parse_args(argv)
    name = args.command or "app"
    if name not in COMMANDS:
        parser.print_help()
        return 0
    try:
        return int(COMMANDS[name][2](args) or 0)
    except KeyboardInterrupt:
        print("convsram: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:  # DataError is a ValueError
        print(f"convsram {name}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
