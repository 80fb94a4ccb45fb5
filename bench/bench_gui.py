"""GUI benchmark, offscreen: full-repaint frame time at 1920x1080, longest event-loop stall during
playback, launch to first painted frame, peak memory. Prints figures (goals in brackets).

    .venv/bin/python bench/bench_gui.py [--model PATH] [--frames 300] [--play-seconds 6]

Uses the shipped model if present, else a random model of the same architecture (the views and the
amount of drawing are the same).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from convsram.core.paths import DEFAULT_MODEL  # noqa: E402


def pick_model(arg: str | None, tmp: Path) -> Path:
    if arg:
        return Path(arg)
    if DEFAULT_MODEL.is_file():
        return DEFAULT_MODEL
    from tests.helpers import random_model_file

    return random_model_file(tmp)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_frames(window, app, frames: int) -> dict[str, list[float]]:
    """Per displayed frame: `update` = step + every view updated (Python), `frame` = update plus the
    event loop painting what changed (what playback costs), `full` = a synchronous repaint of the whole
    window, every widget (the worst case: e.g. after the window was covered)."""
    times: dict[str, list[float]] = {"update": [], "frame": [], "full": []}
    s = window.session
    s.run("frame", s.current.layer_start[1] + 100)  # mid conv2
    step = max(1, s.current.n_frames // frames)  # stride over the image: layer changes included
    for _ in range(frames):
        t0 = time.perf_counter()
        s.run("step", step)
        if s.frame == s.current.n_frames - 1:
            s.run("frame", 0)
        window.refresh()
        t1 = time.perf_counter()
        app.processEvents()
        t2 = time.perf_counter()
        window.repaint()
        t3 = time.perf_counter()
        times["update"].append((t1 - t0) * 1e3)
        times["frame"].append((t2 - t0) * 1e3)
        times["full"].append((t3 - t2) * 1e3)
    return times


def bench_playback(window, app, seconds: float, speed: float) -> tuple[float, int, float]:
    """Play for `seconds`; a 2 ms probe timer measures the longest gap in the event loop.
    Returns (longest stall ms, frames rendered, invocations per second achieved)."""
    from PySide6 import QtCore

    ticks: list[float] = []
    probe = QtCore.QTimer()
    probe.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    probe.setInterval(2)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    rendered = []
    window.rendered.connect(lambda: rendered.append(1))
    s = window.session
    window.command("goto", 0)
    window.refresh()
    for _ in range(5):
        app.processEvents()
    window.player.hold_s = 0.3
    window.transport.set_speed(speed)
    start_invocations = 0
    window.player.set_playing(True)
    probe.start()
    t_end = time.perf_counter() + seconds
    images_before = len(s.stats.images)
    while time.perf_counter() < t_end:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
    probe.stop()
    window.player.set_playing(False)
    gaps = np.diff(ticks) * 1e3 if len(ticks) > 1 else np.array([0.0])
    done = (len(s.stats.images) - images_before) * s.current.n_frames + s.frame - start_invocations
    return float(gaps.max()), len(rendered), done / seconds


LAUNCH_CHILD = textwrap.dedent("""
    import os, sys, time
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from convsram.gui.app import application, open_session
    app = application()
    from PySide6 import QtCore
    from convsram.gui.main_window import MainWindow
    session, error = open_session(Path({model!r}), None, 0, 0)
    window = MainWindow(session, error, remember=False, model_path=Path({model!r}))

    class FirstPaint(QtCore.QObject):
        def eventFilter(self, obj, event):
            if event.type() == QtCore.QEvent.Type.Paint and window.frame is not None:
                print(f"FIRST_PAINT {{time.time():.6f}}", flush=True)
                QtCore.QTimer.singleShot(0, app.quit)
            return False

    f = FirstPaint()
    window.array_view.array_plot.viewport().installEventFilter(f)
    window.resize(1920, 1080)
    window.show()
    window.player.set_playing(True)
    app.exec()
    window.close()
""")


def bench_launch(model: Path) -> float:
    code = LAUNCH_CHILD.format(root=str(ROOT), model=str(model))
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    for line in out.stdout.splitlines():
        if line.startswith("FIRST_PAINT"):
            return float(line.split()[1]) - t0
    raise RuntimeError(f"the launch child printed no first paint: {out.stderr[-2000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model file (default: shipped, else random)")
    parser.add_argument("--frames", type=int, default=300, help="frames to time (default 300)")
    parser.add_argument("--play-seconds", type=float, default=6.0, help="playback time per speed (default 6)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = pick_model(args.model, Path(tmp))
        launch_s = [bench_launch(model) for _ in range(3)]

        from convsram.gui.app import application
        app = application()
        from convsram.core.session import Session
        from convsram.gui.main_window import MainWindow

        window = MainWindow(Session.open(model), remember=False, model_path=model)
        window.resize(1920, 1080)
        window.apply_scale()
        window.show()
        app.processEvents()
        for _ in range(20):  # warm up caches and fonts
            window.command("step")
            window.refresh()
            window.repaint()
        times = bench_frames(window, app, args.frames)
        playback = {speed: bench_playback(window, app, args.play_seconds, speed)
                    for speed in (100.0, 2500.0, float("inf"))}
        # the same at 100 steps/s with the chip lab open beside it (its compare view showing)
        from convsram.gui.lab.actions import lab_for

        lab = lab_for(window)
        lab.resize(1920, 1080)
        lab.show_lab()
        for _ in range(10):
            app.processEvents()
        with_lab = bench_playback(window, app, args.play_seconds, 100.0)
        lab.close()
        window.close()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    print(f"model: {model.name}   screen: offscreen {window.width()}x{window.height()}")
    print(f"{args.frames} frames at 1920x1080 across a whole image (every layer), milliseconds:")
    for key, text in (("full", "full repaint of the window (all widgets)"),
                      ("frame", "frame: step + update views + paint changes"),
                      ("update", "  of which updating the views (Python)")):
        v = times[key]
        goal = "   [goal: p95 <= 16 ms]" if key == "full" else ""
        print(f"  {text:44s} median {percentile(v, 50):5.1f}  p95 {percentile(v, 95):5.1f}  "
              f"max {max(v):5.1f}{goal}")
    for speed, (stall, frames, rate) in playback.items():
        label = "whole stage per frame" if speed == float("inf") else f"{speed:g} steps/s"
        print(f"playback at {label:>22}: longest event-loop stall {stall:5.1f} ms [goal < 50 ms], "
              f"{frames / args.play_seconds:4.1f} frames/s, {rate:7.0f} steps/s")
    stall, frames, rate = with_lab
    print(f"playback at 100 steps/s, chip lab open: longest event-loop stall {stall:5.1f} ms "
          f"[goal < 50 ms], {frames / args.play_seconds:4.1f} frames/s, {rate:7.0f} steps/s")
    print(f"launch to first painted frame: median {np.median(launch_s):.2f} s "
          f"(runs: {', '.join(f'{v:.2f}' for v in launch_s)}) [goal < 3 s]")
    print(f"peak memory (max RSS): benchmark process {peak_mb:.0f} MB, launched app {child_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
