"""The display loop: one timer for every window on a session (the main window, the demo, the chip lab).

The session announces its changes (:meth:`Session.subscribe`); the pacer only takes note, and on its
next tick lets the player move the session on, then hands the session's current frame, once, to every
subscribed display that has not shown it yet. However many commands ran in between, a display renders
at most once per tick, and every display shows the same "now".

A display is anything with ``render_frame(frame, context)`` (the windows); its views implement
:class:`FrameView` and are listed in one place per window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from PySide6 import QtCore

from convsram.core.session import Change, Frame, Session
from convsram.gui.player import Player
from convsram.gui.views.context import Context, FrameView
from convsram.gui.views.layer_stats import layer_stats

TICK_MS = 16


class Display(Protocol):
    """A window the pacer renders to."""

    def render_frame(self, frame: Frame, context: Context) -> None: ...

    def isVisible(self) -> bool: ...  # noqa: N802 (Qt API)


Hook = Callable[[float], None]


def show_views(views: list[FrameView], frame: Frame, context: Context, last: dict[int, float]) -> None:
    """`frame` to every view. A view with many figures (an energy ledger) may declare
    ``playing_every_s``: while playing it then updates at most that often (`last` remembers when), and
    at each update shows this same frame; paused, on the final frame and at a layer's first, always."""
    now = context.now
    for view in views:
        every = getattr(view, "playing_every_s", 0.0)
        if every and context.playing and not (frame.final or frame.place.layer_step == 0):
            if 0.0 <= now - last.get(id(view), -every) < every:  # (a clock that went back: update)
                continue
        last[id(view)] = now
        view.show_frame(frame, context)


class Pacer(QtCore.QObject):
    """Owns the display timer; `subscribe` displays, `tick(now)` (the timer calls it with the clock)."""

    def __init__(self, player: Player, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.session: Session | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._displays: list[Display] = []
        self._shown: dict[int, tuple] = {}  # id(display) -> the key of what it shows
        self._hooks: list[Hook] = []  # run first on every tick (a demo script, say)
        self._idle: list[Hook] = []  # run on a tick with nothing to render (spread axis changes)
        self.pending = True  # the session changed since the last render
        self._deferred = False  # a new chip's image is being simulated in a worker (see defer)
        self._now: float | None = None  # the clock of the tick being run (None: outside a tick)
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_timer)

    # --- wiring -------------------------------------------------------------------------------------
    def set_session(self, session: Session | None) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.session = session
        if session is not None:
            self._unsubscribe = session.subscribe(self._on_change)
        self.invalidate()

    def subscribe(self, display: Display, idle: Hook | None = None) -> None:
        if display not in self._displays:
            self._displays.append(display)
            if idle is not None:
                self._idle.append(idle)

    def unsubscribe(self, display: Display, idle: Hook | None = None) -> None:
        if display in self._displays:
            self._displays.remove(display)
            self._shown.pop(id(display), None)
        if idle is not None and idle in self._idle:
            self._idle.remove(idle)

    def add_hook(self, hook: Hook) -> None:
        self._hooks.append(hook)

    def remove_hook(self, hook: Hook) -> None:
        if hook in self._hooks:
            self._hooks.remove(hook)

    def _on_change(self, change: Change) -> None:
        self.pending = True  # noted only: the next tick renders once, however many changes came

    def defer(self) -> None:
        """Render nothing of the current image until it is simulated (or :meth:`resume`): a new chip's
        image is being simulated in a worker, and rendering now would simulate it again, here, on the
        GUI thread (tens of ms per knob move)."""
        self._deferred = True

    def resume(self) -> None:
        self._deferred = False
        self.invalidate()

    def invalidate(self, display: Display | None = None) -> None:
        """Render `display` (default: every display) again on the next tick, even if its frame has not
        changed (a rescale, playback paused: the throttled parts catch up)."""
        self.pending = True
        if display is None:
            self._shown.clear()
        else:
            self._shown.pop(id(display), None)

    # --- the loop -----------------------------------------------------------------------------------
    @QtCore.Slot()
    def _on_timer(self) -> None:
        self.tick(time.perf_counter())

    def tick(self, now: float) -> None:
        """One display tick at time `now` (seconds): hooks, playback, then render what changed."""
        self._now = now
        for hook in list(self._hooks):
            hook(now)
        try:
            self.player.advance(now)
            if not self.render():
                for idle in list(self._idle):
                    idle(now)
        finally:
            self._now = None

    def key(self) -> tuple:
        s = self.session
        return () if s is None else (s.uid, s.version)

    def context(self, frame: Frame) -> Context:
        s = self.session
        assert s is not None
        now = self._now if self._now is not None else time.perf_counter()
        return Context(s, layer_stats(s, frame.image, frame.place.layer), self.player.playing, now)

    def render(self, display: Display | None = None) -> bool:
        """Give the session's current frame to `display` (default: every visible display) that does not
        show it yet; True if any rendered."""
        s = self.session
        if s is None or (display is None and not self.pending):
            return False
        if self._deferred:
            if not s.is_simulated(s.image):
                return False  # still pending: rendered once the worker's result is in
            self._deferred = False
        key = self.key()
        targets = [display] if display is not None else [d for d in self._displays if d.isVisible()]
        if display is None:
            self.pending = False  # (a hidden display is brought up to date when shown: invalidate)
        targets = [d for d in targets if self._shown.get(id(d)) != key]
        if not targets:
            return False
        frame = s.current_frame()
        context = self.context(frame)
        for d in targets:
            self._shown[id(d)] = key
            d.render_frame(frame, context)
        return True

    def shown(self, display: Display) -> bool:
        """True if `display` shows the session's current state."""
        return self._shown.get(id(display)) == self.key()
