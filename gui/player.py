"""Playback: how far to move at each display tick, given the speed and the time since the last tick.

The player only issues session commands ("step", "end_of_layer"); it never simulates. Before moving
on to the next image it checks that the prefetcher has simulated it, and it holds the final frame of
every image for a moment so people can read the answer.
"""

from __future__ import annotations

from collections import deque

from PySide6 import QtCore

from convsram.core.session import Session
from convsram.gui.prefetch import Prefetcher
from convsram.gui.transport import DEFAULT_SPEED, LAYER_PER_FRAME

HOLD_S = 1.5  # seconds the final frame of an image stays up during playback
MAX_DT = 0.1  # a long stall does not turn into a big jump
RATE_WINDOW_S = 2.0  # the delivered rate is measured over this much recent playing time
SHORT_OF = 0.9  # delivering less than this share of the asked speed is reported


class Player(QtCore.QObject):
    playingChanged = QtCore.Signal(bool)

    def __init__(self, prefetcher: Prefetcher, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.prefetcher = prefetcher
        self.playing = False
        self.speed: float = DEFAULT_SPEED
        self.hold_s = HOLD_S
        self.waiting = False  # next image not simulated yet
        self._last: float | None = None
        self._budget = 0.0
        self._hold_until: float | None = None
        self._moves: deque[tuple[float, int]] = deque()  # (seconds, invocations) of recent moving ticks

    def delivered(self) -> float | None:
        """Invocations per second actually played over the last couple of seconds of moving (holds on
        an answer and waits for a simulation left out); None until there is enough to tell."""
        seconds = sum(t for t, _ in self._moves)
        if seconds < RATE_WINDOW_S / 2:
            return None
        return sum(n for _, n in self._moves) / seconds

    def falls_short(self) -> float | None:
        """The delivered rate when it is clearly below the asked speed (ticks too slow or too late)."""
        rate = self.delivered()
        if rate is None or self.speed == LAYER_PER_FRAME or rate >= SHORT_OF * self.speed:
            return None
        return rate

    def _moved(self, seconds: float, invocations: int) -> None:
        self._moves.append((seconds, invocations))
        total = sum(t for t, _ in self._moves)
        while self._moves and total - self._moves[0][0] >= RATE_WINDOW_S:
            total -= self._moves.popleft()[0]

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self._budget, self._hold_until = 0.0, None

    def set_playing(self, playing: bool) -> None:
        playing = bool(playing and self.session is not None)
        if playing != self.playing:
            self.playing = playing
            self._last, self._budget, self._hold_until = None, 0.0, None
            self._moves.clear()
            self.playingChanged.emit(playing)

    def toggle(self) -> None:
        self.set_playing(not self.playing)

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        self._budget = 0.0
        self._moves.clear()

    def advance(self, now: float) -> bool:
        """Move the session on for the time since the last call; True if the frame changed."""
        s = self.session
        if not self.playing or s is None:
            self._last = now
            return False
        elapsed = 0.0 if self._last is None else max(now - self._last, 0.0)
        dt = min(elapsed, MAX_DT)
        self._last = now
        last = s.current.n_frames - 1
        if s.frame >= last:
            return self._next_image(now)
        if self.speed == LAYER_PER_FRAME:
            run = s.current
            end = run.stage_range(s.frame)[1] - 1  # a layer's invocations or a digital step
            if s.frame == end:
                s.run("step")
            s.run("end_of_layer")
            return True
        self._budget += self.speed * dt
        n = int(self._budget)
        if n < 1:
            self._moved(elapsed, 0)
            return False
        self._budget -= n
        n = min(n, last - s.frame)
        s.run("step", n)
        self._moved(elapsed, n)
        return True

    def _next_image(self, now: float) -> bool:
        s = self.session
        assert s is not None
        if self._hold_until is None:
            self._hold_until = now + self.hold_s
            return False
        if now < self._hold_until:
            return False
        nxt = (s.image + 1) % len(s.data)
        if not s.is_simulated(nxt):
            self.waiting = True
            self.prefetcher.request([nxt])
            return False
        self.waiting = False
        self._hold_until = None
        self._budget = 0.0
        s.run("step")
        return True
