"""`convsram snapshot --view NAME`: one chip-lab view rendered to a PNG without a screen.

Views: compare (ideal vs this chip), mismatch (the array mismatch map), errors (where the error comes
from, with the worst column's detail), waveform (inside one invocation), montecarlo (runs a small sweep
first: `chips` chips x `images` images, a few seconds on all cores), calibrate (calibrates this chip with
the uncalibrated preset's knobs and evaluates `chips` chips x `images` images before and after)."""

from __future__ import annotations

import time
from pathlib import Path

from convsram.gui.app import Position, application, check_interrupt, offscreen_session, show_offscreen

VIEWS = ("compare", "mismatch", "errors", "waveform", "montecarlo", "calibrate", "depth")
MC_CHIPS = 20
MC_IMAGES = 500
MC_TIMEOUT_S = 300.0


def snapshot_view(out: Path, view: str, size: tuple[int, int] = (1920, 1080), pos: Position | None = None,
                  model: Path | None = None, mnist: Path | None = None, seed: int = 0,
                  mc_chips: int = MC_CHIPS, mc_images: int = MC_IMAGES) -> Path:
    """Render the chip lab's `view` at `pos` to a PNG of exactly `size` pixels; returns the path."""
    if view not in VIEWS:
        raise ValueError(f"--view {view!r} is not a lab view; views: {', '.join(VIEWS)}")
    out, session = offscreen_session(out, pos or Position(), model, mnist, seed)
    app = application()
    from PySide6 import QtCore

    from convsram.gui.export import save_png
    from convsram.gui.lab.actions import lab_for
    from convsram.gui.lab.background import BackgroundView
    from convsram.gui.main_window import MIN_SIZE, MainWindow

    w, h = size
    if w < MIN_SIZE[0] or h < MIN_SIZE[1]:
        raise ValueError(f"--size {w}x{h} is smaller than the window's minimum {MIN_SIZE[0]}x{MIN_SIZE[1]}")
    main = MainWindow(session, remember=False, model_path=model, mnist_dir=mnist, seed=seed)
    lab = lab_for(main)
    try:
        main.refresh()
        lab.select(view)
        show_offscreen(lab, (w, h))
        shown = lab.views[view]

        def wait_for_worker() -> bool:
            """Process events until the view's worker ends (Ctrl-C: the finally below cancels the run
            and waits, bounded); False after MC_TIMEOUT_S."""
            deadline = time.monotonic() + MC_TIMEOUT_S
            while getattr(shown, "running", False) and time.monotonic() < deadline:
                check_interrupt()
                app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
                time.sleep(0.01)
            return not getattr(shown, "running", False)

        if isinstance(shown, BackgroundView):  # montecarlo, calibrate: a small run first
            shown.start(chips=mc_chips, images=mc_images)
            if not wait_for_worker():
                shown.cancel()
                what = {"montecarlo": "the Monte Carlo sweep", "calibrate": "the calibration"}.get(view, view)
                raise RuntimeError(f"{what} did not finish in {MC_TIMEOUT_S:.0f} s")
        if view == "depth":  # the view measures in a worker as it shows: wait for it
            lab.refresh()
            wait_for_worker()
        lab.refresh()
        app.processEvents()
        save_png(lab, out, (w, h))
    finally:
        lab.shutdown()
        lab.close()
        main.close()
        main.deleteLater()
    return out
