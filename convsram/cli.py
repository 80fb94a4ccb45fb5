"""The `convsram` command: the app (no arguments) and its subcommands.

Bad input (missing or corrupt files, impossible settings) prints one line saying what is wrong and how
to fix it, and exits with status 2.
"""

from __future__ import annotations

import os
import signal
import sys


def _quiet_interrupt(signum: int, frame: object) -> None:
    raise SystemExit(130)


def _on_sigint(handler: object) -> None:
    try:
        signal.signal(signal.SIGINT, handler)  # type: ignore[arg-type]
    except ValueError:  # not the main thread (an embedding program): leave its handling alone
        pass


# Ctrl-C while this module and its imports load: exit 130 without a traceback (main() takes over; an
# in-process caller, such as the tests, gets its own handler back when main() returns)
_BEFORE = signal.getsignal(signal.SIGINT)
_on_sigint(_quiet_interrupt)

import argparse  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

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
                    "Chandrakasan, ISSCC 2018) running binary-weight networks on MNIST. "
                    "Without a subcommand, opens the app.")
    from convsram import __version__

    parser.add_argument("--version", action="version", version=f"convsram {__version__}")
    parser.add_argument("--demo", dest="demo_mode", action="store_true",
                        help="open the app in demo mode: full screen, big type, auto-play, a drawing pad "
                             "(Esc leaves)")
    parser.add_argument("--script", dest="demo_script", type=Path, default=None, metavar="FILE",
                        help="demo mode replaying a script of commands (see core/script.py); implies --demo")
    if "app" in COMMANDS:
        _app_options_at_top(parser, COMMANDS["app"][1])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
    return parser


TOP = "top_"  # namespace prefix of the app's options given before any command


class _Suppressed:
    """An argument group whose options leave no default behind (argparse.SUPPRESS)."""

    def __init__(self, group: argparse._ArgumentGroup) -> None:
        self.group = group

    def add_argument(self, *names: str, **kwargs: Any) -> argparse.Action:
        dest = kwargs.pop("dest", None) or names[0].lstrip("-").replace("-", "_")
        return self.group.add_argument(*names, **{**kwargs, "dest": TOP + dest, "default": argparse.SUPPRESS})


def _app_options_at_top(parser: argparse.ArgumentParser,
                        add_arguments: Callable[[argparse.ArgumentParser], None]) -> None:
    """The app is the default command, so its options work without naming it (`convsram --paused`).
    At the top they set nothing unless given: a subcommand's own value is never overwritten."""
    group = parser.add_argument_group("the app's options (also accepted without the 'app' command)")
    add_arguments(_Suppressed(group))  # type: ignore[arg-type]  # only add_argument is called


def _take_top_options(args: argparse.Namespace, name: str) -> None:
    """The app's options given before the command: the app's own (they win), an error for others."""
    given = {k[len(TOP):]: v for k, v in vars(args).items() if k.startswith(TOP)}
    if given and name != "app":
        options = ", ".join("--" + k.replace("_", "-") for k in given)
        raise ValueError(f"{options} before the command applies to the app only; put it after "
                         f"'{name}' (convsram {name} --help)")
    for key, value in given.items():
        delattr(args, TOP + key)
        setattr(args, key, value)


def _load_commands() -> None:
    # importing registers the subcommands; each module keeps heavy imports inside its run function
    from convsram import cmd_study, commands  # noqa: F401  (cmd_study: scaling, report)


EXIT_INTERRUPTED = 130


def _interrupted() -> int:
    _on_sigint(signal.SIG_IGN)  # a second Ctrl-C does not interrupt the clean-up
    print("convsram: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _from_interrupt(exc: BaseException) -> bool:
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1  # type: ignore[assignment]
    return False


EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # as a command killed by SIGPIPE reports it (141)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: the interpreter's final flush would fail again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; bad input exits 2 with one line, Ctrl-C exits 130, never a traceback."""
    name = "convsram"
    pending: list[int] = []
    try:
        # until the command runs, Ctrl-C only takes note: an exception in the middle of an import
        # (numpy's, Qt's) can surface as another error, or crash
        _on_sigint(lambda signum, frame: pending.append(signum))
        _load_commands()
        parser = build_parser()
        args = parser.parse_args(argv)
        name = args.command or "app"
        _take_top_options(args, name)
        if name not in COMMANDS:
            parser.print_help()
            return 0
        import numpy  # noqa: F401  (every command needs it; imported here, not half-way when interrupted)
        if pending:
            raise KeyboardInterrupt
        _on_sigint(signal.default_int_handler)  # commands see KeyboardInterrupt
        return int(COMMANDS[name][2](args) or 0)
    except KeyboardInterrupt:
        return _interrupted()
    except RuntimeError as exc:
        if _from_interrupt(exc):  # e.g. "Error calling __set_name__" wrapping a KeyboardInterrupt
            return _interrupted()
        raise
    except BrokenPipeError:  # the reader went away (`convsram compile | head`): nothing more to say
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except (ValueError, OSError) as exc:  # DataError is a ValueError
        print(f"convsram {name}: error: {str(exc)[:2000]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RecursionError:
        print(f"convsram {name}: error: input nested too deeply", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        _on_sigint(_BEFORE if callable(_BEFORE) or _BEFORE in (signal.SIG_IGN, signal.SIG_DFL)
                   else signal.default_int_handler)


def run() -> None:
    """The `convsram` console command: main(), then exit with its status; Ctrl-C is ignored while the
    interpreter shuts down (the command has finished or been interrupted)."""
    try:
        status = main()
    except KeyboardInterrupt:  # a Ctrl-C that lands between main's clean-up and this line
        status = EXIT_INTERRUPTED
    finally:
        _on_sigint(signal.SIG_IGN)
    raise SystemExit(status)
