"""A sweep's rows on disk: one CSV row per task, appended as each finishes, never lost.

While a sweep runs its rows go to a journal, ``OUT.part`` next to the output: one line per finished
task, flushed and synced at once, so Ctrl-C, a crash or kill -9 loses at most the row being written. At
the end (finished or interrupted) every row, old and new, is written to OUT in task order, atomically
(core/files.py), and the journal goes. ``--resume`` reads OUT and any journal, checks every row
against the sweep it is asked to run, and runs only the tasks without a row.

Columns: task (index in the stable order), one per knob, seed, first_image, images, correct, accuracy,
energy_per_image_pj, weight_write_pj (see core/sweep_tasks.Result), model (SHA-256 of the model file,
16 hex digits) and config (the chip's full configuration as JSON).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from convsram.core.files import atomic_open
from convsram.core.sweep_tasks import Result, Task

FIXED = ("seed", "first_image", "images", "correct", "accuracy", "energy_per_image_pj", "weight_write_pj",
         "model", "config")
MAX_ROW_CHARS = 1 << 16  # a config row is about 1.5 kB; a longer line is not one this program wrote


class RowsError(ValueError):
    """A results file that is not rows of this sweep (one line: which file, which line, what)."""


def header(knobs: Sequence[str]) -> list[str]:
    return ["task", *knobs, *FIXED]


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".part")


def format_row(result: Result) -> list[str]:
    t = result.task
    return [str(t.index), *t.ident()[:-3], str(t.seed), str(t.first_image), str(t.images),
            str(result.correct), f"{result.correct / t.images:.6f}", f"{result.energy_per_image_pj:.3f}",
            f"{result.weight_write_pj:.3f}", result.model_sha, result.config]


def line(row: Sequence[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


@dataclass(frozen=True)
class Row:
    """One parsed row: the text fields as written, and the numbers aggregation needs."""

    fields: tuple[str, ...]
    knobs: tuple[str, ...]
    seed: int
    images: int
    correct: int
    energy_per_image_pj: float
    weight_write_pj: float

    @property
    def index(self) -> int:
        return int(self.fields[0])

    @property
    def ident(self) -> tuple[str, ...]:
        """Knob values, seed, first image, images: the task this row is of."""
        n = len(self.knobs)
        return self.fields[1:n + 4]


def read_rows(path: Path, knobs: Sequence[str] | None = None, torn_tail_ok: bool = False
              ) -> tuple[list[str], list[Row], int]:
    """(header, rows, bytes of whole lines) of a results file. `knobs` given: the header must name
    exactly those knobs. `torn_tail_ok`: a last line without its newline (a write cut short by a kill)
    is left out instead of refused. RowsError for anything else that is not a row this program wrote."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise RowsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    size = len(data)
    if torn_tail_ok and data and not data.endswith(b"\n"):
        size = data.rfind(b"\n") + 1
    try:
        text = data[:size].decode("utf-8")
    except UnicodeDecodeError:
        raise RowsError(f"{path} is not a sweep results file (not UTF-8 text); give another --out, or "
                        "leave out --resume to start over") from None
    lines = text.splitlines(keepends=True)
    if not lines:
        raise RowsError(f"{path} is empty, not a sweep results file; delete it or leave out --resume")
    try:
        parsed = list(csv.reader(lines, strict=True))
    except csv.Error as exc:
        raise RowsError(f"{path}: not CSV ({exc}); not a sweep results file") from None
    head = parsed[0]
    if len(head) < len(FIXED) + 1 or head[0] != "task" or tuple(head[-len(FIXED):]) != FIXED:
        raise RowsError(f"{path} is not a convsram sweep results file (its first line is not the header "
                        "`task,...,seed,...,config`); give another --out, or leave out --resume")
    names = head[1:-len(FIXED)]
    if knobs is not None and list(knobs) != names:
        raise RowsError(f"{path} holds a sweep over {', '.join(names) or 'no knobs'}, not over "
                        f"{', '.join(knobs) or 'no knobs'}; resume with the same --knob options or give "
                        "another --out")
    rows = [_row(path, i + 2, fields, names, len(head)) for i, fields in enumerate(parsed[1:])]
    return head, rows, size


def _row(path: Path, lineno: int, fields: list[str], knobs: Sequence[str], width: int) -> Row:
    def bad(what: str) -> RowsError:
        return RowsError(f"{path} line {lineno}: {what}; the file is damaged: delete that line (its task "
                         "runs again) and --resume, or start over without --resume")

    if len(fields) != width:
        raise bad(f"{len(fields)} fields, the header has {width}")
    if any(len(f) > MAX_ROW_CHARS for f in fields):
        raise bad("a field is too long")
    n = len(knobs)
    task, seed, first, images, correct, accuracy, energy, write = (fields[0], *fields[n + 1:n + 8])
    try:
        ints = [int(v) for v in (task, seed, first, images, correct)]
        floats = [float(v) for v in (accuracy, energy, write)]
    except ValueError:
        raise bad("a number field is not a number") from None
    if min(ints) < 0 or ints[3] < 1 or ints[4] > ints[3]:
        raise bad("counts out of range")
    if not all(math.isfinite(v) for v in floats) or accuracy != f"{ints[4] / ints[3]:.6f}":
        raise bad("accuracy does not match correct / images")
    return Row(tuple(fields), tuple(fields[1:n + 1]), ints[1], ints[3], ints[4], floats[1], floats[2])


def check_rows(path: Path, rows: Iterable[Row], tasks: dict[tuple[str, ...], Task], model_sha: str,
               configs: dict[int, str]) -> dict[int, Row]:
    """The rows by task index, each checked to be a row of one of `tasks` (same index, model and config).
    RowsError naming the first row that is not."""
    out: dict[int, Row] = {}
    for i, row in enumerate(rows):
        task = tasks.get(row.ident)
        where = f"{path} row {i + 1}"
        if task is None or task.index != row.index:
            raise RowsError(f"{where} ({', '.join(row.ident)}) is not a task of this sweep; resume with the "
                            "same --knob, --chips, --first-seed, --images and --shard-images as the run "
                            "that wrote it, or give another --out")
        if row.fields[-2] != model_sha:
            raise RowsError(f"{where} was computed with another model (sha {row.fields[-2][:16]}, now "
                            f"{model_sha}); resume with the same --model, or give another --out")
        if row.fields[-1] != configs[task.index]:
            raise RowsError(f"{where} was computed with another chip configuration; resume with the same "
                            "--chip / --config, or give another --out")
        if task.index in out and out[task.index].fields != row.fields:
            raise RowsError(f"{where}: task {task.describe()} has two different rows; the file is damaged: "
                            "keep one of them, or start over without --resume")
        out[task.index] = row
    return out


class Journal:
    """The append-only ``.part`` file: a header, then one line per finished task, each synced to disk."""

    def __init__(self, path: Path, head: Sequence[str], keep_bytes: int | None = None) -> None:
        """Create `path` with `head`, or (keep_bytes given) continue it after its first keep_bytes bytes
        (a torn last line beyond them is cut off)."""
        self.path = path
        if keep_bytes is None:
            self.f = open(path, "x", encoding="utf-8", newline="")
            self.f.write(line(head))
            self._sync()
        else:
            self.f = open(path, "r+", encoding="utf-8", newline="")
            self.f.truncate(keep_bytes)
            self.f.seek(keep_bytes)

    def append(self, row: Sequence[str]) -> None:
        self.f.write(line(row))
        self._sync()

    def _sync(self) -> None:
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self) -> None:
        self.f.close()


def write_sorted(path: Path, head: Sequence[str], rows: dict[int, Sequence[str]]) -> None:
    """Every row in task order, replacing `path` in one step."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        f.write(line(head))
        for index in sorted(rows):
            f.write(line(rows[index]))
