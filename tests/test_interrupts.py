"""Ctrl-C (SIGINT) exits 130 cleanly everywhere, and shutdown never hangs (issue 9): real processes,
interrupted after a delay; exit status, stderr, the previous output and the wall time are checked.
Bounds are generous: the test machine may be busy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

CONVSRAM = [sys.executable, "-m", "convsram"]
OLD = b"previous output, must stay whole\n"


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONVSRAM_SETTINGS=str(tmp_path / "settings.ini"))
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def _interrupt(argv: list[str], delay: float, tmp_path: Path, bound: float = 30.0,
               wait_for: Path | None = None) -> tuple[int, str, float]:
    """Start `argv`, SIGINT it after `delay` s (or once `wait_for` exists), and wait at most `bound` s
    for it to end; (exit status, stderr, seconds from the signal to the exit)."""
    proc = subprocess.Popen(argv, cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    start = time.monotonic()
    while wait_for is not None and not wait_for.exists() and time.monotonic() - start < bound:
        time.sleep(0.05)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        _, err = proc.communicate(timeout=bound)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"{argv} did not exit within {bound} s of SIGINT")
    return proc.returncode, err.decode(errors="replace"), time.monotonic() - sent


def _clean(code: int, err: str) -> None:
    # 130, or ended by the SIGINT itself after its clean-up (CPython re-raises an interrupt it was told
    # of at exit): a shell reports both as 130 (seen in about one early interrupt in four, cause open)
    assert code in (130, -signal.SIGINT), (code, err)
    assert "Traceback" not in err and "Segmentation" not in err, err


# Early, but after CPython's own start (a signal while the interpreter imports `site`, 20-50 ms on a
# loaded machine, is CPython's fatal error, before any code of ours runs)
@pytest.mark.parametrize("delay", [0.1, 0.15, 0.2, 0.3])
@pytest.mark.parametrize("command", [["eval", "--images", "10000"], ["config", "--fields"], []])
def test_ctrl_c_early_in_any_command(tmp_path, delay, command):
    code, err, _ = _interrupt([*CONVSRAM, *command], delay, tmp_path)
    if code == 0 and command == ["config", "--fields"]:
        return  # it finished first
    if _before_our_code(err):
        return  # on a busy machine the signal can still land in CPython's own start (see above)
    _clean(code, err)


def _before_our_code(err: str) -> bool:
    """A traceback whose every frame is CPython's own start-up (runpy, importlib, site), before the first
    line of convsram runs: nothing of ours can catch it."""
    frames = [line.strip() for line in err.splitlines() if line.strip().startswith('File "')]
    return bool(frames) and "KeyboardInterrupt" in err and all(f.startswith('File "<frozen') for f in frames)


def test_ctrl_c_during_record_keeps_the_old_film(tmp_path):
    out = tmp_path / "film.gif"
    out.write_bytes(OLD)
    code, err, took = _interrupt([*CONVSRAM, "record", "--out", str(out), "--frames", "400", "--size",
                                  "960x540"], 6.0, tmp_path)
    _clean(code, err)
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.gif"]  # no temporary file left
    assert took < 20


@pytest.mark.parametrize("mode", [[], ["--demo"]])
def test_ctrl_c_quits_the_app_and_saves_settings(tmp_path, mode):
    code, err, took = _interrupt([*CONVSRAM, *mode], 7.0, tmp_path)
    _clean(code, err)
    assert "image=" in (tmp_path / "settings.ini").read_text()  # the window saved its settings
    assert took < 20


def test_ctrl_c_during_montecarlo_snapshot_does_not_hang(tmp_path):
    # 4 s: the whole snapshot takes about 6 s on a loaded machine since the evaluation got faster
    code, err, took = _interrupt([*CONVSRAM, "snapshot", "--view", "montecarlo", "--out",
                                  str(tmp_path / "mc.png")], 4.0, tmp_path)
    _clean(code, err)
    assert took < 20
    assert not (tmp_path / "mc.png").exists()


CLOSE_DURING_MC = textwrap.dedent("""
    import sys, time
    from PySide6 import QtCore
    from convsram.gui.app import application, open_session
    from convsram.gui.lab.actions import lab_for
    from convsram.gui.main_window import MainWindow

    app = application()
    session, _ = open_session(None, None, 0, 0)
    window = MainWindow(session, remember=False)
    window.show()
    lab = lab_for(window)
    lab.show()
    mc = lab.views["montecarlo"]
    mc.start(chips=8, images=5000)

    def close():
        assert mc.running
        print("closing", flush=True)
        window.close()
        app.quit()

    QtCore.QTimer.singleShot(4000, close)
    app.exec()
""")


def test_closing_the_app_during_a_lab_monte_carlo_exits(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", CLOSE_DURING_MC], cwd=tmp_path, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        closed = time.monotonic()
        assert line.strip() == "closing", proc.stderr.read()
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the app did not exit after its window closed during a Monte Carlo run")
    took = time.monotonic() - closed
    err = proc.stderr.read()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert took < 15, took
