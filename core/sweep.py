"""Monte Carlo over chip instances (seeds) and a grid of non-ideality knobs, on all cores or a Dask
cluster: the knob grid and its parsing, and :func:`sweep`, a generator of one Point per chip as it
finishes (the chip lab's Monte Carlo tab uses it). The command line's resumable, sharded sweep is
built from the same parts: core/sweep_tasks.py (tasks), sweep_engines.py (where they run),
sweep_rows.py (the results file) and sweep_stats.py (aggregates).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convsram.core.config import ChipConfig


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
    from convsram.core.configfile import ConfigError, parse_value, renamed
    from convsram.core.files import short

    if "=" not in text:
        raise ValueError(f"--knob {short(text)}: write NAME=V1,V2,... e.g. cap_mismatch_sigma=0,0.02,0.05")
    name, _, values = text.partition("=")
    name = name.strip()
    if name not in ChipConfig.__dataclass_fields__:
        raise ValueError(f"--knob: {renamed(name) or f'unknown ChipConfig field {short(name)}'}")
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


def sweep(base: ChipConfig, knobs: dict[str, Sequence[Any]], seeds: Sequence[int], images: int,
          model_path: Path | str | None = None, mnist_dir: Path | str | None = None, workers: int = 0,
          cancel: threading.Event | None = None, scheduler: str | None = None
          ) -> Generator[Point, None, None]:
    """Yield one Point per (knob setting, seed) as it finishes: one task per chip on `workers` local
    processes (0 = all cores, 1 = this thread) or on the Dask cluster at `scheduler`.

    Setting `cancel` (another thread) ends the sweep within a fraction of a second, and closing the
    generator (or Ctrl-C) ends its processes within a bounded time (sweep_engines.SHUTDOWN_S)."""
    from convsram.core.sweep_engines import make_engine, run
    from convsram.core.sweep_tasks import DataSpec, make_tasks

    tasks = make_tasks(grid(knobs), seeds, images, images)
    spec = DataSpec(str(model_path) if model_path else None, str(mnist_dir) if mnist_dir else None, images)
    with make_engine(workers, scheduler) as engine:
        engine.start(spec)
        for r in run(tasks, base.to_dict(), engine, cancel):
            write_share = r.weight_write_pj / r.task.images
            yield Point(knobs=r.task.knobs, seed=r.task.seed, accuracy=r.correct / r.task.images,
                        images=r.task.images, energy_per_image_pj=r.energy_per_image_pj + write_share)
