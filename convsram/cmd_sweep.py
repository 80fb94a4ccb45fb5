"""`convsram sweep`: Monte Carlo over chips and knob settings, on this machine's cores or a Dask
cluster, one CSV row per task (setting, chip seed, image shard), resumable, and its aggregates."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convsram.cli import command
from convsram.cmd_eval import MAX_CHIPS, _chip_args, _config, _int_at_least, _int_between, _positive, _seed

MAX_TASKS = 1_000_000  # (setting, seed, shard) tasks in one sweep
DEFAULT_SHARD = 1000  # test images per task


def _sweep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--knob", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="a ChipConfig field and the values to sweep (repeat for a grid)")
    p.add_argument("--chips", type=_int_between(1, MAX_CHIPS, "--chips"), default=20,
                   help="chip instances (seeds) per setting (default 20)")
    p.add_argument("--first-seed", type=_seed, default=0, help="seeds are first-seed .. first-seed+chips-1")
    p.add_argument("--images", type=_positive, default=2000, help="test images per chip (default 2000)")
    p.add_argument("--shard-images", type=_positive, default=DEFAULT_SHARD, metavar="N",
                   help=f"test images per task (default {DEFAULT_SHARD}): a chip's images split into tasks "
                        "that run in parallel and resume separately (one row each); a chip's accuracy and "
                        "energy do not depend on it")
    p.add_argument("--workers", type=_int_at_least(0, "--workers"), default=None,
                   help="local processes (default 0: all cores; 1: this process); not with --scheduler")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="run the tasks on the Dask cluster with this scheduler (needs convsram[cluster] here "
                        "and on the workers); default: the CONVSRAM_SCHEDULER environment variable unless "
                        "--workers is given, else this machine")
    p.add_argument("--resume", action="store_true",
                   help="keep the rows already in --out (and its .part journal) and run only the tasks "
                        "without one")
    p.add_argument("--out", type=Path, default=Path("sweep.csv"),
                   help="CSV with one row per task (default sweep.csv)")
    p.add_argument("--plot", type=Path, help="PNG plot (default: the CSV's name with .png)")
    p.add_argument("--aggregate", type=Path, metavar="CSV",
                   help="run nothing: recompute the summary and plot from the rows of a sweep's CSV")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _chip_args(p)


@command("sweep", "Monte Carlo: accuracy over many chip instances and a grid of non-ideality knobs, on "
         "this machine or a Dask cluster.", _sweep_args)
def run_sweep(args: argparse.Namespace) -> int:
    if args.aggregate is not None:
        return _aggregate(args)
    return _sweep(args)


def _engine_choice(args: argparse.Namespace) -> tuple[int, str | None]:
    from convsram.core.sweep_engines import ENV_SCHEDULER, scheduler_address

    if args.scheduler is not None and args.workers is not None:
        raise ValueError("--workers sets local processes and --scheduler a Dask cluster; give one of them")
    scheduler = args.scheduler
    if scheduler is None and args.workers is None:
        scheduler = os.environ.get(ENV_SCHEDULER) or None
    if scheduler is not None:
        scheduler = scheduler_address(scheduler)
    return args.workers or 0, scheduler


def _sweep(args: argparse.Namespace) -> int:
    from convsram.core.files import check_output
    from convsram.core.mnist import load
    from convsram.core.sweep import grid, parse_knob
    from convsram.core.sweep_rows import header, journal_path
    from convsram.core.sweep_tasks import DataSpec, config_of, config_text, file_sha, make_tasks

    # every check before any work, and before any existing output is touched
    out = check_output(args.out, ("csv",), "--out")
    plot_path = check_output(args.plot or args.out.with_suffix(".png"), ("png",), "--plot")
    workers, scheduler = _engine_choice(args)
    base = _config(args)
    knobs: dict[str, Sequence[Any]] = dict(parse_knob(k, base) for k in args.knob)
    from convsram.cmd_eval import _model
    from convsram.core.paths import DEFAULT_MODEL
    _model(args)  # fail fast, with a clear message, before starting workers
    available = len(load("test", args.mnist, limit=args.images))
    if available < args.images:
        raise ValueError(f"--images {args.images}: the test set has {available} images")
    settings = grid(knobs)
    seeds = list(range(args.first_seed, args.first_seed + args.chips))
    count = len(settings) * len(seeds) * math.ceil(args.images / args.shard_images)
    if count > MAX_TASKS:
        raise ValueError(f"{count} tasks (knob settings x --chips x shards of --shard-images) is more "
                         f"than the {MAX_TASKS} a sweep will attempt; sweep fewer values or chips, or "
                         "larger shards")
    tasks = make_tasks(settings, seeds, args.images, args.shard_images)
    model_sha = file_sha(args.model or DEFAULT_MODEL)
    base_dict = base.to_dict()
    by_setting: dict[tuple[Any, ...], str] = {}
    configs = {}
    for t in tasks:
        if t.setting not in by_setting:
            by_setting[t.setting] = config_text(config_of(base_dict, t))
        configs[t.index] = by_setting[t.setting]
    names = list(knobs)
    head = header(names)
    part = journal_path(out)
    prior, part_bytes = _prior_rows(args, out, part, names, tasks, model_sha, configs)
    replaces = out.exists() and not args.resume  # an earlier file there is replaced only by a whole sweep

    from convsram.core.sweep_engines import make_engine
    engine = make_engine(workers, scheduler)
    spec = DataSpec(str(args.model) if args.model else None, str(args.mnist) if args.mnist else None,
                    args.images)
    todo = [t for t in tasks if t.index not in prior]
    rows: dict[int, Sequence[str]] = {i: r.fields for i, r in prior.items()}
    new = 0
    interrupted = failed = False
    if todo:
        with engine:
            engine.start(spec)  # an unreachable or unfit cluster stops here: no file touched yet
            try:
                new = _run(args, engine, todo, tasks, base_dict, rows, part, head, part_bytes)
            except KeyboardInterrupt:
                interrupted = True
                new = len(rows) - len(prior)
            except _Failed as exc:
                failed = True
                new = exc.rows
                print(f"convsram sweep: error: {exc}", file=sys.stderr)
    return _finish(args, out, plot_path, part, head, rows, tasks, new, interrupted, failed, part_bytes,
                   names, replaces)


class _Failed(Exception):
    def __init__(self, message: str, rows: int) -> None:
        super().__init__(message)
        self.rows = rows


def _prior_rows(args: argparse.Namespace, out: Path, part: Path, names: list[str], tasks: list[Any],
                model_sha: str, configs: dict[int, str]) -> tuple[dict[int, Any], int | None]:
    """The rows already done (--resume) and the bytes of the journal to keep (None: no journal)."""
    from convsram.core.sweep_rows import check_rows, read_rows

    if not args.resume:
        if part.exists():
            raise ValueError(f"{part} holds the rows of an unfinished sweep: add --resume to continue it, "
                             "or delete it to start over")
        return {}, None
    by_ident = {t.ident(): t for t in tasks}
    prior: dict[int, Any] = {}
    part_bytes = None
    for path, torn_ok in ((out, False), (part, True)):
        if not path.exists():
            continue
        _, rows, size = read_rows(path, names, torn_tail_ok=torn_ok)
        for index, row in check_rows(path, rows, by_ident, model_sha, configs).items():
            if index in prior and prior[index].fields != row.fields:
                raise ValueError(f"{path}: the row of task {tasks[index].describe()} differs from the one "
                                 f"in {out}; delete one of the files to choose")
            prior[index] = row
        if path == part:
            part_bytes = size
    return prior, part_bytes


def _run(args: argparse.Namespace, engine: Any, todo: list[Any], tasks: list[Any], base: dict[str, Any],
         rows: dict[int, Sequence[str]], part: Path, head: list[str], part_bytes: int | None) -> int:
    """Run `todo`, journal and collect each row as its task finishes; the number of new rows."""
    from convsram.core.sweep_engines import SweepError, run
    from convsram.core.sweep_rows import Journal, format_row

    journal = Journal(part, head, part_bytes)
    new = 0
    try:
        with _progress(len(tasks), len(tasks) - len(todo), engine.name, args.quiet) as bar:
            started, images = time.perf_counter(), 0
            try:
                for result in run(todo, base, engine):
                    index = result.task.index
                    if index in rows:  # never twice, whatever an engine does
                        continue
                    row = format_row(result)
                    rows[index] = row  # first in memory: a Ctrl-C inside the journal's sync loses nothing
                    journal.append(row)
                    new += 1
                    images += result.task.images
                    rate = images / max(time.perf_counter() - started, 1e-9)
                    bar.set_postfix_str(f"{rate:,.0f} img/s", refresh=False)
                    bar.update(1)
            except SweepError as exc:
                raise _Failed(str(exc), new) from None
    finally:
        journal.close()
    return new


def _progress(total: int, done: int, where: str, quiet: bool) -> Any:
    from tqdm import tqdm
    return tqdm(total=total, initial=done, desc=f"sweep on {where}", unit="task", file=sys.stderr,
                disable=quiet or not sys.stderr.isatty(), dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} tasks "
                           "[{elapsed}<{remaining}{postfix}]")


def _finish(args: argparse.Namespace, out: Path, plot_path: Path, part: Path, head: list[str],
            rows: dict[int, Sequence[str]], tasks: list[Any], new: int, interrupted: bool, failed: bool,
            part_bytes: int | None, names: list[str], replaces: bool = False) -> int:
    """Write the rows in task order over --out and report. An interrupted or failed run that would
    replace an earlier file (no --resume) leaves it, and the plot, as they were: its rows stay in the
    journal for --resume."""
    from convsram.core.sweep_rows import write_sorted

    if not rows or (new == 0 and part_bytes is None and (interrupted or failed)):
        # nothing finished in this run and nothing to merge: the old results stay as they were
        part.unlink(missing_ok=True)
        if interrupted:
            raise KeyboardInterrupt
        if failed:
            return 1
    keep_old = replaces and (interrupted or failed)
    if rows and not keep_old:
        write_sorted(out, head, rows)  # all rows, in task order, replacing --out in one step
        part.unlink(missing_ok=True)
    done = len(rows)
    if keep_old:
        what = "interrupted" if interrupted else "stopped"
        print(f"{what}: kept {done} of {len(tasks)} tasks in {part}; {out} and {plot_path} are left as they "
              f"were; run the same command with --resume to finish (after moving {out} away if it holds "
              "another sweep)")
    elif interrupted or failed:
        what = "interrupted" if interrupted else "stopped"
        print(f"{what}: kept {done} of {len(tasks)} tasks in {out} ({new} new); run the same command with "
              "--resume to finish")
    else:
        print(f"wrote {done} tasks to {out}" + (f" ({new} new, {done - new} resumed)" if new < done else ""))
    if rows and not keep_old:
        _report(out, plot_path, names, args.images, f"{args.images} test images per chip")
    return 130 if interrupted else 1 if failed else 0


def _report(path: Path, plot_path: Path, names: list[str], images: int | None, title: str) -> None:
    """Per-setting aggregates from the rows in `path`, printed, and the plot."""
    from convsram.core.files import atomic_path
    from convsram.core.sweep_rows import read_rows
    from convsram.core.sweep_stats import chip_results, summarise_chips

    _, rows, _ = read_rows(path, names)
    chips, incomplete = chip_results(rows, images)
    if incomplete:
        print(f"  ({incomplete} chips with shards still to run are left out of the summary)")
    for s in summarise_chips(chips):
        label = ", ".join(f"{n}={v}" for n, v in zip(names, s.knobs, strict=True)) or "base config"
        ci = ("n/a" if math.isnan(s.ci_low) else f"{100 * s.ci_low:.2f}-{100 * s.ci_high:.2f}")
        print(f"  {label:32s} chips {s.chips:4d}  mean {100 * s.mean:6.2f} % (95% CI {ci})  "
              f"p5 {100 * s.p5:6.2f} %  p95 {100 * s.p95:6.2f} %  min {100 * s.worst:6.2f} %  "
              f"{s.energy_per_image_pj / 1e3:.2f} nJ/image")
    if chips:
        from convsram.plot import sweep_plot
        with atomic_path(plot_path) as tmp:
            sweep_plot(chips, names, tmp, title=title)
        print(f"plot: {plot_path}")


def _aggregate(args: argparse.Namespace) -> int:
    from convsram.core.files import check_output
    from convsram.core.sweep_rows import FIXED, read_rows

    if args.resume:
        raise ValueError("--aggregate reads a finished CSV and runs nothing; leave out --resume")
    plot_path = check_output(args.plot or args.aggregate.with_suffix(".png"), ("png",), "--plot")
    head, rows, _ = read_rows(args.aggregate)
    names = head[1:-len(FIXED)]
    print(f"{args.aggregate}: {len(rows)} rows")
    _report(args.aggregate, plot_path, names, None, f"from {args.aggregate.name}")
    return 0
