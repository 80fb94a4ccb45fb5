"""Soak test of the booth: the demo plays unattended (cycling test digits, each answer held) on an
accelerated display clock, with a visitor drawing a digit (and sometimes tapping or scribbling) every
few simulated minutes, and reports the process's memory over the run. Offscreen, the shipped model.

"Accelerated": the display loop is ticked as fast as the machine renders, each tick moving the demo's
clock on by 1/TICK_HZ s, so 30 minutes of booth time take however long the rendering takes.

    OMP_NUM_THREADS=1 nice -n 10 python bench/bench_soak.py [--minutes 30] [--tick-hz 20] [--trace 10 30]

What grows: each sample also counts the session's growing records (the command log, capped at
core.session.LOG_LENGTH; the answers; the drawings, capped) and Python's live objects; --trace A B
traces Python's allocations (numpy's arrays too) from the start, snapshots them at booth minutes A and
B and prints what grew in between, by source line (the image cache replaces runs with runs of the same
size, so a bounded cache nets out), then stops tracing (its own bookkeeping is freed; the RSS column is
inflated by it until then).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.drawn_digits (the pad's strokes)

from collections import deque  # noqa: E402
from typing import Any  # noqa: E402

from convsram.core.session import LOG_LENGTH, Session  # noqa: E402
from tests.drawn_digits import DIGITS, TAP, render, scribble  # noqa: E402


def rss_mb() -> float:
    """Resident memory of this process now, MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def log_bytes_at_cap(log: deque[tuple[str, tuple[Any, ...]]], cap: int) -> float:
    """What Session.log holds at its cap, MB, if its entries are like the ones it holds now: the
    deque's slots plus each entry's tuple, argument tuple and arguments (names are interned)."""
    if not log:
        return 0.0
    entries = list(log)[-1000:]
    each = sum(sys.getsizeof(e) + sys.getsizeof(e[1]) + sum(sys.getsizeof(a) for a in e[1]
               if not isinstance(a, bool) and not (isinstance(a, int) and -5 <= a <= 256))
               for e in entries) / len(entries)
    return cap * (each + 8) / 2**20  # + the deque's pointer per entry


def print_growth(since: tracemalloc.Snapshot, now: tracemalloc.Snapshot, minutes: float,
                 top: int = 12) -> None:
    """What Python holds more of at `now` than at `since`, by source line, largest first."""
    stats = now.compare_to(since, "lineno")
    total = sum(s.size_diff for s in stats)
    print(f"\ntracemalloc: {total / 2**20:+.2f} MB more held by Python over these {minutes:g} booth minutes; "
          f"largest changes:")
    for s in stats[:top]:
        frame = s.traceback[0]
        print(f"  {s.size_diff / 2**10:+9.1f} KiB {s.count_diff:+8d} blocks  "
              f"{Path(frame.filename).name}:{frame.lineno}")
    print(flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="booth time to play (default 30)")
    ap.add_argument("--tick-hz", type=float, default=20.0, help="display ticks per booth second (default 20)")
    ap.add_argument("--visitor-every", type=float, default=3.0, help="booth minutes between visitors")
    ap.add_argument("--size", default="1366x768")
    ap.add_argument("--settled", type=float, default=30.0,
                    help="booth minute from which memory should be flat (the command log is full by then)")
    ap.add_argument("--trace", nargs=2, type=float, metavar=("FROM", "TO"),
                    help="report what Python's allocations grew by between booth minutes FROM and TO")
    args = ap.parse_args()
    from PySide6 import QtWidgets

    from convsram.gui.app import application, show_offscreen
    from convsram.gui.demo.window import DemoWindow

    app = application()
    w, h = (int(v) for v in args.size.split("x"))
    demo = DemoWindow(Session.open())
    show_offscreen(demo, (w, h))
    demo.pacer.timer.stop()  # the bench drives the clock
    demo.start()
    dt = 1.0 / args.tick_hz
    now, end = 1000.0, 1000.0 + 60 * args.minutes
    next_sample, next_visitor, visitor = now, now + 60 * args.visitor_every, 0
    samples: list[tuple[float, float, int, int]] = []
    t0 = time.perf_counter()
    trace_from, trace_to = (60 * m + now for m in args.trace) if args.trace else (end + 1, end + 1)
    since: tracemalloc.Snapshot | None = None
    if args.trace:
        tracemalloc.start(1)
    print(f"booth time  wall s   RSS MB   test digits answered   drawings   log entries   answers kept   "
          f"Python objects   ({args.size}, {args.tick_hz:g} ticks/s)")
    while now < end:
        now += dt
        demo.pacer.tick(now)
        app.processEvents()  # the prefetcher's worker hands its images over through the event loop
        if now >= next_visitor:  # a visitor: a digit, every third one a tap or a scribble
            next_visitor += 60 * args.visitor_every
            kind = visitor % 3
            strokes = DIGITS[visitor % 10] if kind != 2 else (TAP if visitor % 2 else scribble(visitor))
            demo.classify(render(strokes))
            visitor += 1
        if now >= next_sample:
            next_sample += 60.0
            st = demo.session.stats
            samples.append((now - 1000.0, rss_mb(), len(st.images), len(st.drawings)))
            m, r, n, d = samples[-1]
            wall = time.perf_counter() - t0
            log = len(demo.session.log)
            print(f"{m / 60:7.1f} min  {wall:7.0f}  {r:7.1f}   {n:20d}   {d:8d}   {log:11,d}   "
                  f"{len(st.results):12,d}   {len(gc.get_objects()):14,d}", flush=True)
        if since is None and now >= trace_from:
            since = tracemalloc.take_snapshot()
        elif since is not None and now >= trace_to and tracemalloc.is_tracing():
            print_growth(since, tracemalloc.take_snapshot(), (trace_to - trace_from) / 60)
            tracemalloc.stop()
    demo.close()
    QtWidgets.QApplication.processEvents()
    first = samples[min(5, len(samples) - 1)]  # after five minutes: the image cache and plots are warm
    last = samples[-1]
    half = samples[len(samples) // 2]
    late = (last[1] - half[1]) / max(1e-9, (last[0] - half[0]) / 3600)
    st = demo.session.stats
    acc = len(st.correct) / max(1, len(st.images))
    growth = last[1] - first[1]
    per_hour = growth / max(1e-9, (last[0] - first[0]) / 3600)
    print(f"\n{args.minutes:g} booth minutes in {time.perf_counter() - t0:.0f} s wall; {len(st.images)} test "
          f"digits answered ({100 * acc:.1f} % right), {len(st.drawings)} drawings read; RSS "
          f"{samples[0][1]:.0f} MB at start, "
          f"{first[1]:.0f} MB at {first[0] / 60:.0f} min, {last[1]:.0f} MB at the end "
          f"({growth:+.1f} MB, {per_hour:+.1f} MB/h), "
          f"peak {max(s[1] for s in samples):.0f} MB; second half {late:+.1f} MB/h")
    settled = [x for x in samples if x[0] >= 60 * args.settled]
    if len(settled) > 1:  # the log at its cap: memory should be flat from here
        grown = settled[-1][1] - settled[0][1]
        hours = (settled[-1][0] - settled[0][0]) / 3600
        print(f"from booth minute {args.settled:g} (the command log full) to the end: {settled[0][1]:.1f} -> "
              f"{settled[-1][1]:.1f} MB ({grown:+.1f} MB, {grown / hours:+.2f} MB/h), range "
              f"{min(x[1] for x in settled):.1f}-{max(x[1] for x in settled):.1f} MB")
    log = demo.session.log
    print(f"Session.log: {len(log):,} of {LOG_LENGTH:,} entries; at its cap about "
          f"{log_bytes_at_cap(log, LOG_LENGTH):.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
