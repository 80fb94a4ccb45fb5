"""Scripted demos: a text file of commands, one per line, replayed by the app.

    # a booth demo
    speed 400            # invocations per second
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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convsram.core.config import ChipConfig
from convsram.core.configfile import PRESETS

PLAYER = {"speed": 1, "play": 0, "pause": 0, "wait": 1, "loop": 0}
CHIP = {"knob": 2, "preset": 1}


@dataclass(frozen=True)
class Step:
    line: int
    name: str
    args: tuple[Any, ...]


class ScriptError(ValueError):
    """A demo script line that cannot run (message names the file and line)."""


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ScriptError(f"{where}: {text!r} is not a number") from None


def parse(text: str, source: str = "script") -> list[Step]:
    """Check and parse a demo script."""
    from convsram.core.session import COMMANDS

    steps = []
    for i, raw in enumerate(text.splitlines(), start=1):
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
                    raise ScriptError(f"{where}: unknown preset {args[0]!r}; one of {', '.join(PRESETS)}")
                values = (args[0],)
            else:
                field, value = args
                parsed = value.lower() in ("1", "true", "on") if field == "ktc_noise" else None
                try:
                    if parsed is None:
                        parsed = _number(value, where)
                    ChipConfig().with_(**{field: parsed})
                except TypeError:
                    raise ScriptError(f"{where}: unknown knob {field!r}") from None
                except ScriptError:
                    raise
                except ValueError as exc:
                    raise ScriptError(f"{where}: {exc}") from None
                values = (field, parsed)
        elif name in COMMANDS:
            values = tuple(args)
        else:
            known = sorted([*PLAYER, *CHIP, *COMMANDS])
            raise ScriptError(f"{where}: unknown command {name!r}; known: {', '.join(known)}")
        steps.append(Step(i, name, values))
    return steps


def load(path: Path | str) -> list[Step]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScriptError(f"demo script {path}: cannot read ({exc.strerror})") from None
    return parse(text, str(path))


def apply(session: Any, step: Step) -> None:
    """Run a session or chip step on `session` (player steps are the caller's)."""
    if step.name == "knob":
        field, value = step.args
        session.set_chip(session.config.with_(**{field: value}))
    elif step.name == "preset":
        session.set_chip(PRESETS[step.args[0]]())
    elif step.name not in PLAYER:
        session.run(step.name, *step.args)
