"""The display loop: one timer for every window on a session (the main window, the demo, the chip lab).

The session announces its changes (:meth:`Session.subscribe`); the pacer only takes note, and on its
next tick lets the player move the session on, then hands the session's current frame, once, to every
subscribed display that has not shown it yet. However many commands ran in between, a display renders
at most once per tick, and every display shows the same "now".

A display is anything with ``render_frame(frame, context)`` (the windows); its views implement
:class:`FrameView` and are listed in one place per window.

A display may spread an expensive frame over a few ticks: when its ``render_frame`` leaves part of
the frame for later (``render_rest()`` draws the next part and returns True while there is one), the
pacer's next ticks draw those parts instead of moving playback on. Each part's repaint then stalls the
event loop alone (a layer change while playing repaints a dozen plots: as one pass, longer than a
frame should take).

A display subscribed with ``own_tick=True`` (the chip lab, a second window beside the dashboard) is
rendered on a tick of its own, never in the same tick as the others: each window's update and repaint
then stalls the event loop alone instead of both back to back. It may also declare ``due(now)``: while
that is False (the lab's analyses update only every so often during playback) it is not rendered.
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
DEFER_MAX_S = 2.0  # longest wait for a worker's simulation of a new chip (see Pacer.defer)


class Display(Protocol):
    """A window the pacer renders to."""

    def render_frame(self, frame: Frame, context: Context) -> None: ...

    def isVisible(self) -> bool: ...  # noqa: N802 (Qt API)

    def render_rest(self) -> bool:
        """Draw what the last ``render_frame`` left for the next tick; True if there was any."""
        ...


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


class FrameSplit:
    """A display's frame spread over several ticks while playing: each group of `later` (moving into a
    new stage: another layer, a digital step's layer, another image; a layer change repaints every
    plot) or of `playing` (any other playing frame) is drawn on a tick of its own after the rest, with
    this same frame, playback waiting meanwhile. For those ticks the parts on screen show frames a few
    steps apart (a blur at that speed). Paused, and for a frame drawn on demand, every view at once."""

    def __init__(self, later: list[list[FrameView]], playing: list[list[FrameView]] | None = None) -> None:
        self.later = later
        self.playing = playing or []
        self._stage: tuple[int, str] | None = None  # (image, layer name) last drawn
        self._waiting: list[list[FrameView]] = []  # groups still to draw, in order
        self._frame: tuple[Frame, Context] | None = None

    def now(self, views: list[FrameView], frame: Frame, context: Context,
            busy: bool = False) -> list[FrameView]:
        """The views to draw `frame` in on this tick (the others wait for :meth:`rest`); `busy`: split as
        while playing (a knob being dragged redraws every view for each new chip)."""
        stage = (frame.image, frame.layer_name)
        moved = self._stage is not None and stage != self._stage
        self._stage = stage
        groups = (self.later if moved else self.playing) if context.playing or busy else []
        self._waiting = list(groups)
        self._frame = (frame, context)
        if not groups:
            return views
        held = {id(v) for group in groups for v in group}
        return [v for v in views if id(v) not in held]

    def rest(self, show: Callable[[list[FrameView], Frame, Context], None]) -> bool:
        """Draw the next waiting group with `show(views, frame, context)`; True if one waited."""
        if not self._waiting or self._frame is None:
            return False
        show(self._waiting.pop(0), *self._frame)
        return True

    def flush(self, show: Callable[[list[FrameView], Frame, Context], None]) -> None:
        """Draw every waiting group now (playback paused: the whole frame at once)."""
        while self.rest(show):
            pass


class Pacer(QtCore.QObject):
    """Owns the display timer; `subscribe` displays, `tick(now)` (the timer calls it with the clock)."""

    def __init__(self, player: Player, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.session: Session | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._displays: list[Display] = []
        self._own_tick: set[int] = set()  # id() of displays rendered on a tick of their own
        self._ticks = 0  # ticks run so far
        self._others_tick = -9  # the last tick on (or after) which the other displays were rendered
        self._breathing = False  # this tick renders nothing so that the others' repaint goes through
        self._own_waits = False  # an own-tick display was due and let the others go first
        self._shown: dict[int, tuple] = {}  # id(display) -> the key of what it shows
        self._hooks: list[Hook] = []  # run first on every tick (a demo script, say)
        self._idle: list[Hook] = []  # run on a tick with nothing to render (spread axis changes)
        self.pending = True  # the session changed since the last render
        self._deferred: tuple[int, float] | None = None  # (generation, since): see defer
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

    def subscribe(self, display: Display, idle: Hook | None = None, own_tick: bool = False) -> None:
        if display not in self._displays:
            self._displays.append(display)
            if own_tick:
                self._own_tick.add(id(display))
            if idle is not None:
                self._idle.append(idle)

    def unsubscribe(self, display: Display, idle: Hook | None = None) -> None:
        if display in self._displays:
            self._displays.remove(display)
            self._shown.pop(id(display), None)
            self._own_tick.discard(id(display))
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
        """Render nothing of the session's new chip until :meth:`resume`: its image is being simulated
        in a worker, and rendering now would simulate it again, here, on the GUI thread (tens of ms per
        knob move), or render it twice (once when the worker has filled the cache, once on resume).
        Another chip change meanwhile, or DEFER_MAX_S without a resume, ends the wait."""
        s = self.session
        if s is not None:
            self._deferred = (s.generation, time.perf_counter())

    def resume(self) -> None:
        self._deferred = None
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
        self._ticks += 1
        self._breathing = False
        for hook in list(self._hooks):
            hook(now)
        try:
            if self._render_rests():
                return  # this tick draws the rest of the last frame; playback moves on at the next
            self.player.advance(now)
            if not self.render() and not self._breathing:
                for idle in list(self._idle):
                    idle(now)
        finally:
            self._now = None

    def _render_rests(self) -> bool:
        """The next part of a frame a display spread over several ticks (see the module doc); True if
        one was drawn."""
        for d in self._displays:
            if d.isVisible() and d.render_rest():
                if id(d) not in self._own_tick:
                    self._others_tick = self._ticks
                return True  # one display's part per tick
        return False

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
        if self._deferred is not None:
            generation, since = self._deferred
            if generation == s.generation and time.perf_counter() - since < DEFER_MAX_S:
                return False
            self._deferred = None
        key = self.key()
        targets = [display] if display is not None else [d for d in self._displays if d.isVisible()]
        if display is None:
            self.pending = False  # (a hidden display is brought up to date when shown: invalidate)
        targets = [d for d in targets if self._shown.get(id(d)) != key]
        if display is None:
            targets = self._this_tick(targets)
        if not targets:
            return False
        frame = s.current_frame()
        context = self.context(frame)
        for d in targets:
            self._shown[id(d)] = key
            if id(d) not in self._own_tick:
                self._others_tick = self._ticks
            d.render_frame(frame, context)
        return True

    def _this_tick(self, behind: list[Display]) -> list[Display]:
        """Of the displays behind, those to render on this tick: the others first; an own-tick display
        that is due after them, on a tick at least two after their last render (their repaint comes an
        event-loop turn or more after their update: one tick in between lets it through), the others
        then waiting one turn. Whoever waits keeps `pending`."""
        now = self._now if self._now is not None else time.perf_counter()
        own = [d for d in behind if id(d) in self._own_tick]
        others = [d for d in behind if id(d) not in self._own_tick]
        due = [d for d in own if getattr(d, "due", lambda _now: True)(now)]
        if own:
            self.pending = True  # an own-tick display that waits (not due, not its turn) is retried
        if not due:
            return others
        if others and not self._own_waits:
            self._own_waits = True  # the others go first; the own display is next
            return others
        if others:
            self.pending = True
        if self._ticks - self._others_tick >= 2:
            self._own_waits = False
            return due[:1]
        self._breathing = True
        return []  # the others' repaint is still on its way: nothing this tick, then the own display

    def shown(self, display: Display) -> bool:
        """True if `display` shows the session's current state."""
        return self._shown.get(id(display)) == self.key()
