"""Monte Carlo over chip instances (seeds) and a grid of non-ideality knobs, on all cores.

Results arrive one (knob setting, seed) point at a time, so an interrupted sweep keeps what finished.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import signal
import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convsram.core.config import ChipConfig
from convsram.core.evaluate import evaluate
from convsram.core.mnist import load
from convsram.core.network import load_model


@dataclass(frozen=True)
class Point:
    knobs: dict[str, Any]
    seed: int
    accuracy: float
    images: int
    energy_per_image_pj: float


def grid(knobs: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the knob values (the empty grid is one point: the base config)."""
    names = list(knobs)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*knobs.values())]


def parse_knob(text: str, base: ChipConfig | None = None) -> tuple[str, list[Any]]:
    """'cap_mismatch_sigma=0,0.02,0.05' -> ('cap_mismatch_sigma', [0.0, 0.02, 0.05]): each value parsed
    by the field's declared type (rows=32,64 gives integers) and checked on `base` (default nominal)."""
    from convsram.core.configfile import ConfigError, parse_value
    from convsram.core.files import short

    if "=" not in text:
        raise ValueError(f"--knob {short(text)}: write NAME=V1,V2,... e.g. cap_mismatch_sigma=0,0.02,0.05")
    name, _, values = text.partition("=")
    name = name.strip()
    if name not in ChipConfig.__dataclass_fields__:
        raise ValueError(f"--knob: unknown ChipConfig field {short(name)}")
    base = base or ChipConfig()
    out: list[Any] = []
    for v in values.split(","):
        try:
            value = parse_value(name, v)
            base.with_(**{name: value})
        except ConfigError as exc:
            raise ValueError(f"--knob {exc}") from None
        except ValueError as exc:
            raise ValueError(f"--knob {name}: {exc}") from None
        if value not in out:
            out.append(value)
    return name, out


_STATE: dict[str, Any] = {}


def _init_worker(model_path: str | None, mnist_dir: str | None, images: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a worker process: the parent handles Ctrl-C
    _init(model_path, mnist_dir, images)


def _init(model_path: str | None, mnist_dir: str | None, images: int) -> None:
    _STATE["model"] = load_model(model_path) if model_path else load_model(_default_model())
    data = load("test", mnist_dir, limit=images)
    _STATE["images"], _STATE["labels"] = data.images, data.labels


def _default_model() -> Path:
    from convsram.core.paths import DEFAULT_MODEL
    return DEFAULT_MODEL


def _run(task: tuple[dict[str, Any], dict[str, Any], int]) -> Point:
    base, knobs, seed = task
    config = ChipConfig(**{**base, **knobs})
    r = evaluate(_STATE["model"], _STATE["images"], _STATE["labels"], config, seed)
    return Point(knobs=knobs, seed=seed, accuracy=r["accuracy"], images=r["images"],
                 energy_per_image_pj=r["energy_per_image_pj"])


def sweep(base: ChipConfig, knobs: dict[str, Sequence[Any]], seeds: Sequence[int], images: int,
          model_path: Path | str | None = None, mnist_dir: Path | str | None = None, workers: int = 0,
          cancel: threading.Event | None = None) -> Generator[Point, None, None]:
    """Yield one Point per (knob setting, seed) as it finishes; `workers` 0 = all cores.

    Setting `cancel` (another thread) ends the sweep within a fraction of a second, and closing the
    generator (or Ctrl-C) ends its processes within a bounded time (:data:`SHUTDOWN_S`)."""
    tasks = [(base.to_dict(), k, int(s)) for k in grid(knobs) for s in seeds]
    workers = workers or mp.cpu_count()
    args = (str(model_path) if model_path else None, str(mnist_dir) if mnist_dir else None, images)
    if workers == 1:
        _init(*args)  # in this process, on this thread: its Ctrl-C handling stays the caller's
        for t in tasks:
            if cancel is not None and cancel.is_set():
                return
            yield _run(t)
        return
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    pool = ctx.Pool(max(1, min(workers, len(tasks))), initializer=_init_worker, initargs=args)
    try:
        results = pool.imap_unordered(_run, tasks)
        for _ in range(len(tasks)):
            while True:  # wait with a timeout, so a cancel (or a dead pool) never blocks for good
                if cancel is not None and cancel.is_set():
                    return
                try:
                    point = results.next(timeout=POLL_S)
                    break
                except mp.TimeoutError:
                    continue
            yield point
    finally:
        close_pool(pool)


POLL_S = 0.2
SHUTDOWN_S = 5.0


def close_pool(pool: Any, timeout: float = SHUTDOWN_S) -> None:
    """Terminate `pool` and wait for it at most `timeout` seconds, then kill what is left."""
    done = threading.Event()

    def terminate() -> None:
        try:
            pool.terminate()
            pool.join()
        finally:
            done.set()

    threading.Thread(target=terminate, name="sweep-shutdown", daemon=True).start()
    if not done.wait(timeout):
        for process in list(getattr(pool, "_pool", [])):
            try:
                process.kill()
            except (OSError, AttributeError, ValueError):
                pass


def summarise(points: Sequence[Point], knob: str | None) -> list[dict[str, Any]]:
    """Per value of `knob` (or overall): chips, mean accuracy, 5th and 95th percentiles."""
    groups: dict[Any, list[float]] = {}
    for p in points:
        groups.setdefault(p.knobs.get(knob) if knob else None, []).append(p.accuracy)
    out = []
    for value in sorted(groups, key=lambda v: (v is None, v)):
        acc = np.array(groups[value])
        out.append({"value": value, "chips": acc.size, "mean": float(acc.mean()),
                    "p5": float(np.percentile(acc, 5)), "p95": float(np.percentile(acc, 95)),
                    "min": float(acc.min())})
    return out
