"""Knob benchmark, offscreen at 1920x1080 with the dashboard and the chip lab both on screen: the longest
event-loop stall while a knob slider is dragged continuously, and the time from a knob change to the
updated frame (re-simulated, every view updated and painted). Prints figures (goals in brackets).

    .venv/bin/python bench/bench_knobs.py [--model PATH] [--drag-seconds 4] [--changes 12]

A drag is the slider's value changing at the mouse's rate (one move per 16 ms), swept back and forth
over its range; the panel sends at most one value per THROTTLE_MS, and the lab takes one change at a
time: the newest value that came while a change was on its way to the screen goes after a rest (half
that change's time; the last value always lands). A 2 ms probe timer measures the event loop's gaps.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from convsram.core.paths import DEFAULT_MODEL  # noqa: E402

DRAG_KNOB = "cap_mismatch_sigma"
MOVE_MS = 16


def pick_model(arg: str | None, tmp: Path) -> Path:
    if arg:
        return Path(arg)
    if DEFAULT_MODEL.is_file():
        return DEFAULT_MODEL
    from tests.helpers import random_model_file

    return random_model_file(tmp)


def settle(app, seconds: float) -> None:
    from PySide6 import QtCore

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)


def bench_drag(app, window, lab, seconds: float) -> dict[str, float]:
    """Drag one slider back and forth for `seconds`; the probe's longest gap is the stall."""
    from PySide6 import QtCore

    slider = lab.knobs.sliders[DRAG_KNOB]
    lo, hi = 0.0, slider.maximum()
    ticks: list[float] = []
    probe = QtCore.QTimer()
    probe.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    probe.setInterval(2)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    moves = {"n": 0}
    t_start = time.perf_counter()

    def move() -> None:
        phase = ((time.perf_counter() - t_start) / 2.0) % 1.0  # a sweep up and down every 2 s
        frac = 2 * phase if phase < 0.5 else 2 - 2 * phase
        slider.setValue(lo + frac * (hi - lo))
        moves["n"] += 1

    mover = QtCore.QTimer()
    mover.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    mover.setInterval(MOVE_MS)
    mover.timeout.connect(move)
    generation = window.session.generation
    probe.start()
    mover.start()
    settle(app, seconds)
    mover.stop()
    settle(app, 0.3)  # the trailing (last) value lands
    probe.stop()
    gaps = np.diff(ticks) * 1e3 if len(ticks) > 1 else np.array([0.0])
    cycles = lab.knob_cycle_ms[-20:] or [float("nan")]
    return {"stall_ms": float(gaps.max()), "p99_gap_ms": float(np.percentile(gaps, 99)),
            "cycle_ms": float(np.median(cycles)),
            "moves": moves["n"], "resimulations": window.session.generation - generation,
            "final_ok": float(abs(window.session.config.cap_mismatch_sigma * 100 - slider.value()) < 1e-6)}


def bench_latency(app, window, lab, changes: int) -> dict[str, list[float]]:
    """Single knob changes (the slider at rest between them): time to the main window's re-rendered
    frame, to the lab's updated view, and to both painted."""
    from PySide6 import QtCore

    slider = lab.knobs.sliders["comparator_offset_sigma"]
    out: dict[str, list[float]] = {"rendered": [], "lab": [], "painted": []}
    marks: dict[str, float] = {}
    window.rendered.connect(lambda: marks.setdefault("rendered", time.perf_counter()))
    lab.updated.connect(lambda: marks.setdefault("lab", time.perf_counter()))
    values = np.linspace(0.1, 1.5, changes)
    for v in values:
        settle(app, 0.25)  # longer than the throttle: each change is a leading edge
        marks.clear()
        generation = window.session.generation
        t0 = time.perf_counter()
        slider.setValue(float(v))
        while window.session.generation == generation or "lab" not in marks or "rendered" not in marks:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
            if time.perf_counter() - t0 > 10:
                raise RuntimeError("the knob change never reached the frame")
        app.processEvents()  # paint what changed
        t1 = time.perf_counter()
        out["rendered"].append((marks["rendered"] - t0) * 1e3)
        out["lab"].append((marks["lab"] - t0) * 1e3)
        out["painted"].append((t1 - t0) * 1e3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model file (default: shipped, else random)")
    parser.add_argument("--drag-seconds", type=float, default=4.0, help="drag time per lab view (default 4)")
    parser.add_argument("--changes", type=int, default=12, help="single knob changes to time (default 12)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = pick_model(args.model, Path(tmp))
        from convsram.gui.app import application

        app = application()
        from convsram.core.session import Session
        from convsram.gui.lab.actions import lab_for
        from convsram.gui.lab.knobs import THROTTLE_MS
        from convsram.gui.lab.window import REST_FACTOR, REST_MIN_MS
        from convsram.gui.main_window import MainWindow

        window = MainWindow(Session.open(model), remember=False, model_path=model)
        window.resize(1920, 1080)
        window.apply_scale()
        window.show()
        s = window.session
        window.command("frame", s.current.layer_start[1] + 266)  # mid conv2, paused
        window.refresh()
        lab = lab_for(window)
        lab.resize(1920, 1080)
        lab.apply_scale()
        lab.show_lab()
        settle(app, 0.5)
        drags = {}
        for view in ("compare", "errors", "waveform", "mismatch"):
            lab.select(view)
            lab.refresh()
            settle(app, 0.3)
            drags[view] = bench_drag(app, window, lab, args.drag_seconds)
        lab.select("errors")
        lab.refresh()
        latency = bench_latency(app, window, lab, args.changes)
        lab.shutdown()
        lab.close()
        window.close()

    print(f"model: {model.name}   screen: offscreen, dashboard and chip lab both 1920x1080, paused mid conv2")
    print(f"drag of the '{DRAG_KNOB}' slider, {args.drag_seconds:g} s per visible lab view, one move per "
          f"{MOVE_MS} ms; values >= {THROTTLE_MS} ms apart, one change at a time, then a rest of "
          f"{REST_FACTOR:g}x its time (>= {REST_MIN_MS} ms):")
    for view, d in drags.items():
        print(f"  lab view {view:10s}: longest event-loop stall {d['stall_ms']:6.1f} ms [goal < 100 ms], "
              f"p99 gap {d['p99_gap_ms']:5.1f} ms, {d['moves']} moves -> {d['resimulations']} re-simulations "
              f"(a whole change {d['cycle_ms']:.0f} ms), last value "
              f"applied: {'yes' if d['final_ok'] else 'NO'}")
    worst = max(d["stall_ms"] for d in drags.values())
    print(f"  longest stall over all views: {worst:.1f} ms [goal < 100 ms]")
    print(f"knob change -> updated frame ({args.changes} single changes of comparator_offset_sigma, "
          "errors view visible), milliseconds:")
    for key, text in (("rendered", "dashboard re-simulated and re-rendered"),
                      ("lab", "chip lab view updated"), ("painted", "both windows painted")):
        v = latency[key]
        print(f"  {text:40s} median {np.median(v):6.1f}  max {max(v):6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
