"""`convsram sweep` on this machine: rows that do not depend on the engine, sharding or interruption;
resume; damaged files refused in one line with the old results untouched; aggregates from the rows."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from convsram.cli import main
from convsram.core import sweep_engines
from convsram.core.config import ChipConfig
from convsram.core.evaluate import evaluate
from convsram.core.mnist import load
from convsram.core.network import load_model
from convsram.core.paths import DEFAULT_MODEL
from convsram.core.sweep_engines import Engine, LocalPool, run
from convsram.core.sweep_rows import format_row, line, read_rows
from convsram.core.sweep_stats import chip_results, summarise_chips
from convsram.core.sweep_tasks import DataSpec, make_tasks, run_task
from tests.sweep_cli import ARGS, one_line_error, sweep


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The uninterrupted sweep's CSV, in this process (--workers 1)."""
    out = tmp_path_factory.mktemp("ref") / "s.csv"
    assert sweep(out, "--workers", "1") == 0
    return out.read_bytes()


def five_then_ctrl_c(tasks, base, engine, cancel=None):  # type: ignore[no-untyped-def]
    """sweep_engines.run that delivers five results, then the user presses Ctrl-C."""
    for i, result in enumerate(run(tasks, base, engine, cancel)):
        yield result
        if i == 4:
            raise KeyboardInterrupt


def test_rows_are_one_per_task_in_task_order(reference: bytes) -> None:
    rows = list(csv.DictReader(reference.decode().splitlines()))
    assert [int(r["task"]) for r in rows] == list(range(12))
    assert [(r["cap_mismatch_sigma"], r["seed"], r["first_image"]) for r in rows[:4]] == [
        ("0.0", "0", "0"), ("0.0", "0", "20"), ("0.0", "1", "0"), ("0.0", "1", "20")]
    config = ChipConfig(**__import__("json").loads(rows[-1]["config"]))
    assert config.cap_mismatch_sigma == 0.05  # each row carries the full config that produced it


def test_two_local_workers_give_the_same_bytes(reference: bytes, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    assert sweep(out, "--workers", "2") == 0
    assert out.read_bytes() == reference
    assert not Path(str(out) + ".part").exists()


def test_shards_add_up_to_the_whole_evaluation() -> None:
    model = load_model(DEFAULT_MODEL)
    data = load("test", limit=60)
    config = ChipConfig(comparator_noise_sigma=2e-2)  # noise that flips predictions
    whole = evaluate(model, data.images, data.labels, config, seed=7)
    assert whole["accuracy"] < 0.99
    tasks = make_tasks([{}], [7], 60, 13)  # shards of 13, 13, 13, 13, 8
    spec = DataSpec(None, None, 60)
    results = [run_task(t, config.to_dict(), spec) for t in tasks]
    assert sum(r.correct for r in results) == whole["correct"]
    energy = (sum(r.energy_per_image_pj * r.task.images for r in results) + results[0].weight_write_pj) / 60
    assert energy == pytest.approx(whole["energy_per_image_pj"], rel=1e-9)


def test_interrupt_then_resume_equals_the_uninterrupted_sweep(reference: bytes, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.csv"

    monkeypatch.setattr(sweep_engines, "run", five_then_ctrl_c)
    assert sweep(out, "--workers", "2") == 130
    assert "interrupted: kept 5 of 12 tasks" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 6 and not Path(str(out) + ".part").exists()
    monkeypatch.undo()
    assert sweep(out, "--workers", "2", "--resume") == 0
    assert "7 new, 5 resumed" in capsys.readouterr().out
    assert out.read_bytes() == reference


def test_an_interrupted_sweep_leaves_an_earlier_file_and_plot_whole(
        reference: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C in a sweep that would replace earlier results (no --resume): the old CSV and plot stay as
    they were, the finished rows wait in the journal; once the old file is moved away, --resume ends
    with the uninterrupted sweep's rows."""
    out, plot = tmp_path / "s.csv", tmp_path / "s.png"
    out.write_bytes(b"earlier results\n")
    plot.write_bytes(b"earlier plot")

    monkeypatch.setattr(sweep_engines, "run", five_then_ctrl_c)
    assert sweep(out, "--workers", "1") == 130
    assert "left as they were" in capsys.readouterr().out
    assert out.read_bytes() == b"earlier results\n" and plot.read_bytes() == b"earlier plot"
    part = Path(str(out) + ".part")
    assert len(part.read_text().splitlines()) == 6  # header + the 5 finished rows
    monkeypatch.undo()
    out.rename(tmp_path / "old.csv")
    assert sweep(out, "--workers", "1", "--resume") == 0
    assert out.read_bytes() == reference and not part.exists()


def test_a_killed_sweep_resumes_from_its_journal(reference: bytes, tmp_path: Path) -> None:
    """kill -9 of the whole command: the .part journal keeps every finished row; --resume completes."""
    out = tmp_path / "s.csv"
    part = Path(str(out) + ".part")
    cmd = [sys.executable, "-m", "convsram", "sweep", *ARGS, "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if part.exists() and len(part.read_bytes().splitlines()) >= 4:  # header + 3 rows
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        proc.kill()
    finally:
        proc.wait(30)
    assert not out.exists()  # nothing but the journal until the sweep ends
    with part.open("ab") as f:
        f.write(b"7,0.05,1,0,20,1")  # a row torn by the kill: ignored, its task runs again
    assert main(["sweep", *ARGS, "--out", str(out), "--workers", "1"]) == 2  # the journal asks for --resume
    assert main(["sweep", *ARGS, "--out", str(out), "--workers", "1", "--resume"]) == 0
    assert out.read_bytes() == reference and not part.exists()


def test_ctrl_c_keeps_the_finished_rows_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    part = Path(str(out) + ".part")
    cmd = [sys.executable, "-m", "convsram", "sweep", *ARGS, "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if part.exists() and len(part.read_bytes().splitlines()) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    journalled = part.read_text().split("\n")[1:-1]  # whole rows on disk when Ctrl-C came
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode in (130, -signal.SIGINT), stderr
    assert "Traceback" not in stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) >= 2 and [int(r["task"]) for r in rows] == sorted(int(r["task"]) for r in rows)
    kept = out.read_text().split("\n")
    assert all(line in kept for line in journalled)  # a row in the journal is never lost
    assert not part.exists()


@pytest.mark.parametrize("damage", ["garbage", "edited accuracy", "another sweep", "another config"])
def test_damaged_results_refused_on_resume(reference: bytes, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str], damage: str) -> None:
    out = tmp_path / "s.csv"
    lines = reference.decode().splitlines(keepends=True)
    extra: list[str] = []
    if damage == "garbage":
        data = b"\x00\xffnot,a,sweep\n"
    elif damage == "edited accuracy":
        fields = next(csv.reader([lines[3]]))
        fields[6] = "0.123456"  # accuracy
        data = "".join([*lines[:3], line(fields)]).encode()
    elif damage == "another sweep":
        data = reference
        extra = ["--first-seed", "1"]
    else:
        data = reference
        extra = ["--chip", "harsh"]
    out.write_bytes(data)
    err = one_line_error(capsys, sweep(out, "--workers", "1", "--resume", *extra))
    assert str(out) in err
    assert out.read_bytes() == data and not Path(str(out) + ".part").exists()


def test_a_journal_without_resume_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.csv"
    part = Path(str(out) + ".part")
    part.write_bytes(b"task,seed\n")
    out.write_bytes(b"old\n")
    err = one_line_error(capsys, sweep(out, "--workers", "1"))
    assert "--resume" in err and part.read_bytes() == b"task,seed\n" and out.read_bytes() == b"old\n"


@pytest.mark.parametrize("argv, words", [
    (["--scheduler", "tcp://host:99999"], "tcp://HOST:PORT"),
    (["--scheduler", "not an address"], "tcp://HOST:PORT"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "give one of them"),
])
def test_bad_engine_options_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         argv: list[str], words: str) -> None:
    out = tmp_path / "s.csv"
    out.write_bytes(b"old\n")
    assert words in one_line_error(capsys, sweep(out, *argv))
    assert out.read_bytes() == b"old\n"


def test_without_dask_a_scheduler_says_what_to_install(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    monkeypatch.setenv("CONVSRAM_SCHEDULER", "tcp://127.0.0.1:8786")
    out = tmp_path / "s.csv"
    out.write_bytes(b"old\n")
    assert "convsram[cluster]" in one_line_error(capsys, sweep(out))
    assert out.read_bytes() == b"old\n"


def test_a_local_pool_process_killed_mid_sweep_costs_only_its_tasks() -> None:
    tasks = make_tasks([{"cap_mismatch_sigma": 0.05}], range(4), 40, 10)
    base = ChipConfig().to_dict()
    spec = DataSpec(None, None, 40)
    expected = {t.index: format_row(run_task(t, base, spec)) for t in tasks}
    got: list[list[str]] = []
    with LocalPool(2) as engine:
        engine.start(spec)
        for result in run(tasks, base, engine):
            got.append(format_row(result))
            if len(got) == 1:
                os.kill(engine.worker_pids()[0], signal.SIGKILL)
    assert sorted(int(r[0]) for r in got) == list(range(len(tasks)))  # every task once
    assert {int(r[0]): r for r in got} == expected


def test_cancel_ends_a_sweep_within_a_poll() -> None:
    import threading

    cancel = threading.Event()
    tasks = make_tasks([{}], range(50), 20, 20)
    with Engine() as engine:
        engine.start(DataSpec(None, None, 20))
        gen = run(tasks, ChipConfig().to_dict(), engine, cancel)
        next(gen)
        cancel.set()
        assert list(gen) == []


def test_aggregate_recomputes_the_summary_from_the_rows(reference: bytes, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.csv"
    out.write_bytes(reference)
    assert main(["sweep", "--aggregate", str(out)]) == 0
    text = capsys.readouterr().out
    assert "12 rows" in text and "cap_mismatch_sigma=0.05" in text and "95% CI" in text
    assert (tmp_path / "s.png").stat().st_size > 5000
    _, rows, _ = read_rows(out)
    chips, incomplete = chip_results(rows)
    assert len(chips) == 6 and incomplete == 0 and all(c.images == 40 for c in chips)
    s = summarise_chips(chips)
    assert [x.chips for x in s] == [3, 3]
    acc = [c.accuracy for c in chips[3:]]
    assert s[1].mean == pytest.approx(np.mean(acc)) and s[1].worst == min(acc)
    # half a chip's shards: that chip is left out, not averaged over fewer images
    chips, incomplete = chip_results(rows[:-1])
    assert len(chips) == 5 and incomplete == 1


def test_a_sweep_without_knobs_plots_chip_seeds_as_whole_numbers(tmp_path: Path) -> None:
    from convsram.plot import seed_ticks

    for seeds in ([0, 1, 2], list(range(3, 11)), list(range(0, 200))):
        ticks = seed_ticks(np.array(seeds))
        assert all(float(v).is_integer() and label == str(int(v)) for v, label in ticks)
        assert 2 <= len(ticks) <= 13


def test_dask_is_imported_only_for_a_scheduler(tmp_path: Path) -> None:
    code = ("import sys\nfrom convsram.cli import main\n"
            "assert main(['sweep', '--workers', '1', '--chips', '1', '--images', '5', '--quiet', "
            "'--out', sys.argv[1]]) == 0\nprint('distributed' in sys.modules, 'dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.csv")], capture_output=True,
                         text=True, env={**os.environ, "CONVSRAM_SCHEDULER": ""}, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False False", out.stderr
