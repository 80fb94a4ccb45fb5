"""The one protocol every view implements: ``show_frame(frame, context)``. The frame is the session's
current one (the same for every view of every window at a render); the context carries the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from convsram.core.session import Frame, Session
from convsram.gui.views.layer_stats import LayerStats


@dataclass(frozen=True)
class Context:
    """What a view needs besides the frame: the session, the frame's layer statistics (steady axes,
    the pre-ADC histogram), whether playback is running (views may then skip expensive extras) and the
    display clock's time of this render (seconds)."""

    session: Session
    stats: LayerStats
    playing: bool = False
    now: float = 0.0


class FrameView(Protocol):
    """A view of the current frame: builds its items once, then updates them per frame."""

    def show_frame(self, frame: Frame, context: Context) -> None: ...
