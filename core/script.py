"""Scripted demos: a text file of commands, one per line, replayed by the app.

    # a booth demo
    speed 400            # steps per second (array invocations and digital steps)
    goto 7               # image 7, first invocation
    play
    wait 3               # seconds
    knob cap_mismatch_sigma 0.08
    next_layer
    wait 2
    preset nominal
    loop                 # start again from the top

Session commands (see :data:`core.session.COMMANDS`) run on the session; ``knob NAME VALUE``,
``preset NAME`` and ``seed N`` change the chip; ``speed``, ``play``, ``pause``, ``wait`` and ``loop``
are for the player. Every line is checked when the file is read, so a typo is reported with its line
number before the demo starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convsram.core.config import ChipConfig
from convsram.core.configfile import PRESETS, parse_value, renamed
from convsram.core.files import read_text_bounded, short
from convsram.core.session import truthy

PLAYER = {"speed": 1, "play": 0, "pause": 0, "wait": 1, "loop": 0}
CHIP = {"knob": 2, "preset": 1}


@dataclass(frozen=True)
class Step:
    line: int
    name: str
    args: tuple[Any, ...]


class ScriptError(ValueError):
    """A demo script line that cannot run (message names the file and line)."""


MAX_LINES = 100_000
FLAGS = ("1", "true", "on", "yes", "0", "false", "off", "no")
# session commands' arguments: 'i' an integer, 's' a seed (0 .. 2^63 - 1), 'f' a flag; a trailing
# '?' makes the rest optional
SESSION_ARGS = {"step": "?i", "back": "?i", "goto": "i?i", "frame": "i", "seed": "s", "ideal": "?f"}


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScriptError(f"{where}: {short(text)} is not a number") from None
    if not math.isfinite(value):
        raise ScriptError(f"{where}: {short(text)} is not a finite number")
    return value


def _session_args(name: str, args: list[str], where: str) -> tuple[Any, ...]:
    spec = SESSION_ARGS.get(name, "")
    need, _, optional = spec.partition("?")
    if not len(need) <= len(args) <= len(need) + len(optional):
        count = f"{len(need)}" if not optional else f"{len(need)} to {len(need) + len(optional)}"
        raise ScriptError(f"{where}: {name} takes {count} argument(s), got {len(args)}")
    out: list[Any] = []
    for kind, text in zip((need + optional), args, strict=False):
        if kind == "f":
            if text.lower() not in FLAGS:
                raise ScriptError(f"{where}: {name} takes on or off, got {short(text)}")
            out.append(text.lower())
            continue
        try:
            value = int(text)
        except ValueError:
            raise ScriptError(f"{where}: {name} takes an integer, got {short(text)}") from None
        if kind == "s" and not 0 <= value < 2**63:
            raise ScriptError(f"{where}: seed must be a non-negative integer, got {short(text)}")
        if abs(value) >= 2**63:
            raise ScriptError(f"{where}: {short(text)} is out of range")
        out.append(value)
    return tuple(out)


def parse(text: str, source: str = "script") -> list[Step]:
    """Check and parse a demo script: every argument is parsed and range-checked here, so a bad line
    is a ScriptError naming the file and line before anything runs."""
    from convsram.core.session import COMMANDS

    steps = []
    if "\x00" in text:
        raise ScriptError(f"{source}: holds NUL bytes; a demo script is a text file")
    for i, raw in enumerate(text.splitlines(), start=1):
        if i > MAX_LINES:
            raise ScriptError(f"{source}: more than {MAX_LINES} lines; not a demo script")
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, *args = line.split()
        where = f"{source}:{i}"
        if name in PLAYER:
            if len(args) != PLAYER[name]:
                raise ScriptError(f"{where}: {name} takes {PLAYER[name]} argument(s)")
            values: tuple[Any, ...] = tuple(_number(a, where) for a in args)
            if values and values[0] < 0:
                raise ScriptError(f"{where}: {name} needs a non-negative number")
        elif name in CHIP:
            if len(args) != CHIP[name]:
                raise ScriptError(f"{where}: {name} takes {CHIP[name]} argument(s)")
            if name == "preset":
                if args[0] not in PRESETS:
                    raise ScriptError(f"{where}: unknown preset {short(args[0])}; "
                                      f"one of {', '.join(PRESETS)}")
                values = (args[0],)
            else:
                field, value = args
                if field not in ChipConfig.__dataclass_fields__:
                    raise ScriptError(f"{where}: {renamed(field, value) or f'unknown knob {short(field)}'}")
                try:
                    parsed = parse_value(field, value)
                    ChipConfig().with_(**{field: parsed})
                except ValueError as exc:  # ConfigError too
                    raise ScriptError(f"{where}: {exc}") from None
                values = (field, parsed)
        elif name in COMMANDS:
            values = _session_args(name, args, where)
        else:
            known = sorted([*PLAYER, *CHIP, *COMMANDS])
            raise ScriptError(f"{where}: unknown command {short(name)}; known: {', '.join(known)}")
        steps.append(Step(i, name, values))
    return steps


def load(path: Path | str) -> list[Step]:
    """Read and parse a demo script (text, at most 4 MB); ScriptError naming the file otherwise."""
    path = Path(path)
    try:
        text = read_text_bounded(path, what="demo script")
    except UnicodeDecodeError:
        raise ScriptError(f"demo script {path} is not a text file (not UTF-8)") from None
    except IsADirectoryError:
        raise ScriptError(f"demo script {path} is a folder, not a file") from None
    except OSError as exc:
        raise ScriptError(f"demo script {path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ScriptError(str(exc)) from None
    return parse(text, str(path))


def chip_target(session: Any, step: Step) -> tuple[ChipConfig, int] | None:
    """The (config, seed) a chip step (knob, preset, seed, ideal) would give `session`, without changing
    it (for Session.prebuild); None for any other step. ValueError if the step is impossible."""
    if step.name == "knob":
        field, value = step.args
        return session.config.with_(**{field: value}), session.seed
    if step.name == "preset":
        return PRESETS[step.args[0]](), session.seed
    if step.name == "seed":
        return session.config, int(step.args[0])
    if step.name == "ideal":
        return session.ideal_target(truthy(step.args[0]) if step.args else True), session.seed
    return None


def apply(session: Any, step: Step) -> None:
    """Run a session or chip step on `session` (player steps are the caller's)."""
    if step.name == "knob":
        field, value = step.args
        session.set_chip(session.config.with_(**{field: value}))
    elif step.name == "preset":
        session.set_chip(PRESETS[step.args[0]]())
    elif step.name not in PLAYER:
        session.run(step.name, *step.args)
