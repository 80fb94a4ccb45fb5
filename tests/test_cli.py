"""The headless commands: eval's report, sweep's files, and one-line errors with exit status 2."""

import csv
import gzip
import json
import shutil

import pytest

from convsram.cli import main
from convsram.core.mnist import FILES
from convsram.core.paths import MNIST_DIR
from tests.helpers import random_model_file


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return random_model_file(tmp_path_factory.mktemp("model"))


def _one_line_error(capsys, code):
    out = capsys.readouterr()
    assert code == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0], out.err
    return lines[0]


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and "convsram" in capsys.readouterr().out


def test_eval_json_report(model_path, capsys):
    code = main(["eval", "--model", str(model_path), "--images", "40", "--chip", "ideal", "--json"])
    assert code == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("images", "accuracy", "energy_per_image_pj", "energy_breakdown_pj", "invocations_per_image",
                "time_per_image_ns", "tops_per_w", "baselines"):
        assert key in r
    assert r["images"] == 40 and r["invocations_per_image"] == 1189
    assert r["time_per_image_ns"] == pytest.approx(1189 * 150, rel=0.01)
    assert set(r["energy_breakdown_pj"]) == {"dac", "array", "adc", "digital", "write"}
    assert r["energy_per_image_pj"] == pytest.approx(sum(r["energy_breakdown_pj"].values()))
    assert set(r["energy_by_layer_pj"]) == {"conv1", "conv2", "fc"}
    for b in r["baselines"]:
        assert b["name"] and b["energy_per_image_pj"] > 0 and b["assumptions"]
        assert b["saving"] == pytest.approx(b["energy_per_image_pj"] / r["chip_energy_compared_pj"])
    assert r["chip_input_fetch_pj"] > 0  # the input fetch is charged to the chip as to the baselines


def test_eval_text_names_every_baseline(model_path, capsys):
    assert main(["eval", "--model", str(model_path), "--images", "20"]) == 0
    out = capsys.readouterr().out
    assert out.count("less energy than") >= 2 and "accuracy" in out


def test_truncated_mnist_exits_2(model_path, tmp_path, capsys):
    for stem in FILES["test"]:
        shutil.copy(MNIST_DIR / f"{stem}.gz", tmp_path / f"{stem}.gz")
    raw = gzip.decompress((tmp_path / "t10k-images-idx3-ubyte.gz").read_bytes())
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[: len(raw) // 2]))
    code = main(["eval", "--model", str(model_path), "--mnist", str(tmp_path), "--images", "5"])
    assert "t10k-images" in _one_line_error(capsys, code)


def test_corrupt_model_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"definitely not a zip file")
    code = main(["eval", "--model", str(bad), "--images", "5"])
    assert "bad.npz" in _one_line_error(capsys, code)


def test_negative_sigma_toml_exits_2(model_path, tmp_path, capsys):
    cfg = tmp_path / "chip.toml"
    cfg.write_text("comparator_offset_sigma = -1\n")
    code = main(["eval", "--model", str(model_path), "--config", str(cfg), "--images", "5"])
    assert "comparator_offset_sigma" in _one_line_error(capsys, code)


def test_bad_knob_exits_2(model_path, capsys):
    code = main(["sweep", "--model", str(model_path), "--knob", "cap_mismatch_sigma=0,-1"])
    assert "cap_mismatch_sigma" in _one_line_error(capsys, code)


def test_config_command_writes_a_loadable_file(tmp_path, capsys):
    path = tmp_path / "harsh.toml"
    assert main(["config", "--chip", "harsh", "--out", str(path)]) == 0
    assert main(["config", "--check", str(path)]) == 0
    assert "cap_mismatch_sigma" in capsys.readouterr().out


def test_sweep_writes_csv_and_png(model_path, tmp_path, capsys):
    out = tmp_path / "s.csv"
    code = main(["sweep", "--model", str(model_path), "--knob", "comparator_offset_sigma=0,0.002",
                 "--chips", "2", "--images", "20", "--workers", "1", "--out", str(out)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 4 and {r["comparator_offset_sigma"] for r in rows} == {"0.0", "0.002"}
    assert (tmp_path / "s.png").stat().st_size > 5000
    assert "p5" in capsys.readouterr().out


def test_sweep_interrupted_keeps_what_finished(model_path, tmp_path, monkeypatch, capsys):
    from convsram.core.sweep_tasks import run_task

    def two_then_interrupt(tasks, base, engine, cancel=None):
        for task in tasks[:2]:
            yield run_task(task, base, engine.spec)
        raise KeyboardInterrupt

    monkeypatch.setattr("convsram.core.sweep_engines.run", two_then_interrupt)
    out = tmp_path / "i.csv"
    code = main(["sweep", "--model", str(model_path), "--chips", "5", "--images", "10", "--workers", "1",
                 "--out", str(out)])
    assert code == 130
    assert len(list(csv.DictReader(out.open()))) == 2
    assert "interrupted: kept 2 of 5" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["eval", "--seed", "x"], ["eval", "--images", "0"], ["bogus"],
                                  ["sweep", "--chips", "-3"]])
def test_usage_errors_are_one_line(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1 and "--help" in err[0]


def test_app_options_work_without_the_app_command(monkeypatch):
    """`convsram --paused --seed 3 --image 5` opens the app paused on that chip and image (it was refused);
    `convsram app --paused` still works; an app option before another command is a one-line error."""
    import convsram.gui.app as app

    calls = []
    monkeypatch.setattr(app, "run_app", lambda **kw: calls.append(kw) or 0)
    assert main(["--paused", "--seed", "3", "--image", "5"]) == 0
    assert main(["app", "--paused", "--seed", "4"]) == 0
    assert main([]) == 0
    got = [(c["play"], c["seed"], c["image"]) for c in calls]
    assert got == [(False, 3, 5), (False, 4, None), (True, 0, None)]


def test_app_option_before_another_command_is_refused(capsys):
    assert main(["--seed", "3", "eval", "--images", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "put it after 'eval'" in err[0]


def test_a_reader_that_goes_away_ends_the_command_quietly(monkeypatch, capsys):
    """`convsram compile | head -3`: the pipe closes under the table; no 'error: [Errno 32] Broken pipe'
    line, the status a command killed by SIGPIPE has (141)."""
    import io

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    assert main(["compile"]) == 141
    assert capsys.readouterr().err == ""
