"""Replaying a demo script (core.script) in the demo window: session and chip steps go to the session,
the player steps (speed, play, pause, wait, loop) are carried out here, between display ticks.

A step that fails at run time (an image out of range, say) is reported with its file and line and
skipped; the demo goes on. In the demo (background=True) a chip step's chip is built and the current
image simulated on it in a worker thread first (Session.prebuild); the step then swaps it in at once,
so a script that changes chips without waiting never holds up the display.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from convsram.core.script import Step, apply, chip_target
from convsram.core.session import Session
from convsram.gui.player import Player
from convsram.gui.transport import LAYER_PER_FRAME

MAX_STEPS_PER_TICK = 32  # a script that loops without waiting cannot freeze the window
# steps that rebuild the chip or simulate another image (tens of ms each): at most one per tick
HEAVY = frozenset({"knob", "preset", "seed", "ideal", "goto", "next_image", "prev_image"})
CHIP_STEPS = frozenset({"knob", "preset", "seed", "ideal"})  # prebuilt in the background
FAST = 1e6  # `speed` at or above this: a whole layer per displayed frame


class ScriptRunner:
    """Steps through a parsed script; call :meth:`advance` on every display tick."""

    def __init__(self, steps: list[Step], session: Session, player: Player, source: str = "script",
                 report: Callable[[str], None] | None = None, background: bool = False) -> None:
        self.steps, self.session, self.player, self.source = steps, session, player, source
        self.report = report or (lambda message: None)
        self.index = 0
        self.loops = 0
        self.errors: list[str] = []
        self._wait_until: float | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="script") if background else None
        self._prebuilding: tuple[int, Future[None]] | None = None  # (step index, its prebuild)

    def close(self) -> None:
        """Stop the background builds (the one running finishes; its chip is dropped)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    @property
    def finished(self) -> bool:
        return self.index >= len(self.steps)

    def advance(self, now: float) -> bool:
        """Run the steps due at time `now` (seconds); True if any step ran."""
        ran = False
        for _ in range(MAX_STEPS_PER_TICK):
            if self._wait_until is not None:
                if now < self._wait_until:
                    return ran
                self._wait_until = None
            if self.finished:
                return ran
            step = self.steps[self.index]
            if not self._prebuilt(step):
                return ran  # its chip is being built in the background: the display goes on
            self.index += 1
            ran = True
            self._run(step, now)
            if step.name in HEAVY:
                return ran  # one chip rebuild or image simulation per tick: the display keeps its pace
        return ran

    def _prebuilt(self, step: Step) -> bool:
        """True when `step` can run now: not a chip step, no background builds, or its chip is built
        (a step that fails in the build runs anyway, so it reports its error as it would have)."""
        if self._executor is None or step.name not in CHIP_STEPS:
            return True
        if self._prebuilding is not None and self._prebuilding[0] == self.index:
            if not self._prebuilding[1].done():
                return False
            self._prebuilding = None
            return True
        try:
            target = chip_target(self.session, step)
        except (ValueError, TypeError, KeyError):
            return True
        if target is None or target == (self.session.config, self.session.seed):
            return True
        self._prebuilding = (self.index, self._executor.submit(self.session.prebuild, *target))
        return False

    def _run(self, step: Step, now: float) -> None:
        name = step.name
        try:
            if name == "speed":
                speed = float(step.args[0])
                self.player.set_speed(LAYER_PER_FRAME if speed >= FAST else speed)
            elif name == "play":
                self.player.set_playing(True)
            elif name == "pause":
                self.player.set_playing(False)
            elif name == "wait":
                self._wait_until = now + float(step.args[0])
            elif name == "loop":
                self.index = 0
                self.loops += 1
            else:
                apply(self.session, step)
        except (ValueError, TypeError) as exc:
            message = f"{self.source}:{step.line}: {name}: {exc}"
            self.errors.append(message)
            self.report(message)
