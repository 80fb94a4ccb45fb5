"""Sweep tasks: one (knob setting, chip seed, image shard) each, and the function that runs one.

A task's result depends on its identity alone, never on the worker, the process or the order: the
chip's static mismatch is drawn from its seed (core/chip.py: ``default_rng([seed, 0])``, a numpy
SeedSequence) and every per-image noise draw from (seed, the image's index in the test set)
(core/noise.py: KeyedNoise, SeedSequence ``[seed, 2]`` hashed with the index). So one task gives the
same row on one local worker, on a process pool or on any worker of a Dask cluster, and the shards of a
chip add up to exactly ``convsram eval --seed S`` on the same images.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convsram.core.config import ChipConfig
from convsram.core.network import Model


@dataclass(frozen=True)
class Task:
    """One unit of work: chip `seed` with the knob `setting`, on test images first_image .. +images-1.
    `index` is the task's place in the sweep's stable order (setting, then seed, then shard)."""

    index: int
    setting: tuple[tuple[str, Any], ...]
    seed: int
    first_image: int
    images: int

    @property
    def knobs(self) -> dict[str, Any]:
        return dict(self.setting)

    def ident(self) -> tuple[str, ...]:
        """The task's identity as the CSV writes it: knob values, seed, first image, images."""
        return (*(str(v) for _, v in self.setting), str(self.seed), str(self.first_image), str(self.images))

    def describe(self) -> str:
        knobs = ", ".join(f"{k}={v}" for k, v in self.setting)
        return (f"{knobs + ', ' if knobs else ''}seed {self.seed}, images {self.first_image}-"
                f"{self.first_image + self.images - 1}")


def make_tasks(settings: Sequence[dict[str, Any]], seeds: Sequence[int], images: int,
               shard: int) -> list[Task]:
    """Every (setting, seed, shard) in the stable order; `shard` images per task (the last one may be
    smaller)."""
    if images < 1 or shard < 1:
        raise ValueError("a sweep needs at least 1 image per chip and per shard")
    tasks: list[Task] = []
    for setting in settings:
        items = tuple(setting.items())
        for seed in seeds:
            for first in range(0, images, shard):
                tasks.append(Task(len(tasks), items, int(seed), first, min(shard, images - first)))
    return tasks


def config_of(base: dict[str, Any], task: Task) -> ChipConfig:
    return ChipConfig(**{**base, **task.knobs})


def config_text(config: ChipConfig) -> str:
    """The full config as one line of JSON (sorted keys, floats exact): what the rows record."""
    return json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":"))


# --- the data every task reads -------------------------------------------------------------------
@dataclass(frozen=True)
class SweepData:
    """What a worker needs: the model and the first `len(images)` test images with labels.
    `model_sha` names the model file's bytes (the rows record it)."""

    model: Model
    images: np.ndarray
    labels: np.ndarray
    model_sha: str


@dataclass(frozen=True)
class DataSpec:
    """Where the data comes from, for processes on this machine (each loads it once)."""

    model_path: str | None
    mnist_dir: str | None
    images: int

    def load(self) -> SweepData:
        return _load(self)


@functools.lru_cache(maxsize=2)
def _load(spec: DataSpec) -> SweepData:
    from convsram.core.mnist import load
    from convsram.core.network import load_model
    from convsram.core.paths import DEFAULT_MODEL

    path = Path(spec.model_path) if spec.model_path else DEFAULT_MODEL
    model = load_model(path)
    data = load("test", spec.mnist_dir, limit=spec.images)
    return SweepData(model, data.images, data.labels, file_sha(path))


def file_sha(path: Path | str) -> str:
    """First 16 hex digits of the file's SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


# --- running one task ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    """What one task measured. Energies in pJ: `energy_per_image_pj` is DAC + array + ADC + digital
    periphery per image of this shard; `weight_write_pj` is the chip's one-time weight write (not
    included above; a chip's energy per image adds it once over all its images)."""

    task: Task
    correct: int
    energy_per_image_pj: float
    weight_write_pj: float
    model_sha: str
    config: str


def run_task(task: Task, base: dict[str, Any], data: SweepData | DataSpec) -> Result:
    """Evaluate one task (in whatever process or worker runs it)."""
    from convsram.core.evaluate import evaluate

    if isinstance(data, DataSpec):
        data = data.load()
    else:
        relax_malloc_trim()  # a Dask worker
    config = config_of(base, task)
    stop = task.first_image + task.images
    if stop > len(data.images):
        raise ValueError(f"task {task.describe()} needs {stop} test images; the worker has "
                         f"{len(data.images)}")
    r = evaluate(data.model, data.images[task.first_image:stop], data.labels[task.first_image:stop],
                 config, task.seed, first_image=task.first_image)
    per_image = float(sum(v for k, v in r["energy_breakdown_pj"].items() if k != "write"))
    return Result(task, int(r["correct"]), per_image, float(r["weight_write_once"]["energy_pj"]),
                  data.model_sha, config_text(config))


_RELAXED: list[bool] = []


def relax_malloc_trim() -> None:
    """Undo, in this process, the malloc setting Dask's nanny gives its workers. The nanny starts each
    worker with MALLOC_TRIM_THRESHOLD_=65536 (to hand freed memory back to the system); with any such
    variable set, glibc also stops raising its mmap threshold, so every numpy temporary above 128 kB is
    mapped and unmapped afresh. A task then ran 2-3x slower on a Dask worker than in a local process
    (measured with bench/bench_sweep.py's tiny tasks: about 90 ms against 25 ms). Set the thresholds to
    the values glibc's own adaptation reaches (mmap 32 MiB, its maximum on 64-bit; trim twice that)."""
    if _RELAXED or "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return
    _RELAXED.append(True)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to undo
        pass


def init_pool_worker(spec: DataSpec) -> None:
    """Initializer of a local pool process: the parent handles Ctrl-C; one worker thread per process
    (the processes are the parallelism; core.threads would otherwise start one per core in each, and
    oversubscribe the machine: same results, slower), unless CONVSRAM_THREADS says otherwise; load the
    data once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("CONVSRAM_THREADS", "1")
    spec.load()


def worker_versions() -> dict[str, str]:
    """What a worker runs (checked against this machine before a cluster sweep starts): the package
    version, a digest of the simulator's source (core/) and numpy's version."""
    from convsram import __version__

    return {"convsram": __version__, "core source": core_digest(), "numpy": np.__version__}


@functools.cache
def core_digest() -> str:
    """First 12 hex digits of the SHA-256 over this package's core/*.py files (name and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
