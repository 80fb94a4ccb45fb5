"""Jumping to the next event, like a waveform viewer: ADC saturation, a code error of at least k LSB
against the ideal chip, a misclassified image."""

from __future__ import annotations

from typing import Any

import numpy as np

EVENTS = ("saturation", "code_error", "misclassified")


def saturating(codes: np.ndarray, max_code: int) -> np.ndarray:
    """Which ADC outputs saturate: they sit at an end of the ADC's range (|code| = max_code)."""
    return np.abs(codes) >= max_code


def layer_saturation(run: Any, layer: int, max_code: int) -> tuple[int, int]:
    """(saturating conversions, conversions) of `layer` in an ImageRun."""
    recs = [rec.codes for (li, _, _), rec in run.records.items() if li == layer]
    return (int(sum(saturating(c, max_code).sum() for c in recs)), int(sum(c.size for c in recs)))


def frame_flags(run: Any, max_code: int, min_error: int = 1) -> dict[str, np.ndarray]:
    """Per frame of an ImageRun: does any evaluated column saturate its ADC, and the largest
    |code - ideal code| (LSB)."""
    n = len(run.places)
    saturated = np.zeros(n, dtype=bool)
    worst = np.zeros(n, dtype=np.int64)
    per_record = {key: (saturating(rec.codes, max_code),
                        np.abs(rec.codes.astype(np.int64) - rec.ideal_codes))
                  for key, rec in run.records.items()}
    for k, p in enumerate(run.places):
        if not p.invocation:
            continue  # a digital step (a pool, an add): no conversion
        sat, err = per_record[(p.layer, p.tile, p.chunk)]
        saturated[k] = sat[p.position].any()
        worst[k] = err[p.position].max()
    return {"saturation": saturated, "code_error": worst >= min_error, "worst_error": worst}


def find_next(session: Any, event: str, min_error: int = 1, max_images: int = 500) -> tuple[int, int] | None:
    """(image, frame) of the next event after the session's current frame, searching up to
    `max_images` images ahead; None if there is none. The session is not moved."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; one of {', '.join(EVENTS)}")
    n_images = len(session.data)
    start_image, start_frame = session.image, session.frame
    for offset in range(min(max_images, n_images)):
        image = (start_image + offset) % n_images
        if offset and image == start_image:
            break
        run = session.run_image(image)
        if event == "misclassified":
            if offset and run.prediction != run.label:
                return image, run.n_frames - 1
            continue
        flags = frame_flags(run, session.config.max_code, min_error)[event]
        first = start_frame + 1 if offset == 0 else 0
        hits = np.flatnonzero(flags[first:])
        if hits.size:
            return image, first + int(hits[0])
    return None
