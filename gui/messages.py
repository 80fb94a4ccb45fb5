"""What worker threads send to the GUI thread: small immutable records, one type per kind of message
(delivered through queued signals; the receiving slot dispatches on the type)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Simulated:
    """The prefetch worker simulated `image` of the session `session_uid` (it is in its cache)."""

    session_uid: int
    image: int


@dataclass(frozen=True)
class SimulationFailed:
    """Simulating `image` raised; `error` is the one-line reason."""

    session_uid: int
    image: int
    error: str


@dataclass(frozen=True)
class ChipSimulated:
    """The lab's worker simulated the current image on chip `generation` of a session, in `ms`."""

    session_uid: int
    generation: int
    ms: float


@dataclass(frozen=True)
class SearchProgress:
    """An event search (number `token`) has looked at `images` images."""

    token: int
    images: int


@dataclass(frozen=True)
class SearchHit:
    """The event search found the event at (image, frame)."""

    token: int
    image: int
    frame: int


@dataclass(frozen=True)
class SearchNone:
    """No event in the `images` images searched."""

    token: int
    images: int


@dataclass(frozen=True)
class SearchEnd:
    """The search is over (always the last message)."""

    token: int


SearchMessage = SearchProgress | SearchHit | SearchNone | SearchEnd
PrefetchMessage = Simulated | SimulationFailed
