"""`convsram` with no subcommand and `convsram app`: the window opens (and plays), or says what is
missing; without a display the command says so instead of hanging."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from convsram.cli import main
from convsram.core.paths import DEFAULT_MODEL

pytest_plugins = ["tests.test_gui_support"]


def _run_app_and_inspect(argv: list[str]) -> dict[str, object]:
    """Run `convsram ARGV` in-process; a timer inspects the window, closes it and ends the event loop."""
    from convsram.gui.main_window import MainWindow

    seen: dict[str, object] = {}

    def inspect() -> None:
        wins = [w for w in QtWidgets.QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()]
        if wins:
            win = wins[-1]
            seen.update(page="dashboard" if win.session is not None else "problem",
                        playing=win.player.playing, frame=win.frame,
                        message=win.problem.message.text() if win.session is None else "")
            win.close()
        QtWidgets.QApplication.instance().quit()

    app = QtWidgets.QApplication.instance()
    app.setQuitOnLastWindowClosed(False)  # exactly one quit: a second, stray one would end later tests' loops
    QtCore.QTimer.singleShot(400, inspect)
    try:
        seen["code"] = main(argv)
    finally:
        app.setQuitOnLastWindowClosed(True)
    return seen


def test_app_command_opens_the_window_and_plays(qapp, model_path, no_qt_warnings):
    seen = _run_app_and_inspect(["app", "--model", str(model_path), "--image", "5"])
    assert seen["code"] == 0
    assert seen["page"] == "dashboard" and seen["playing"] is True
    assert seen["frame"] is not None and seen["frame"].image == 5


def test_no_subcommand_opens_the_app_on_the_shipped_model(qapp, no_qt_warnings):
    seen = _run_app_and_inspect([])
    assert seen["code"] == 0
    if DEFAULT_MODEL.is_file():
        assert seen["page"] == "dashboard" and seen["playing"] is True
    else:  # not trained yet: the window still opens and says what is missing and how to fix it
        assert seen["page"] == "problem" and "not found" in str(seen["message"])


def test_app_without_a_display_says_so(monkeypatch, capsys):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["app"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no display" in err and "snapshot" in err and len(err.splitlines()) == 1
