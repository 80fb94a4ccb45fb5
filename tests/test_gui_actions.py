"""Every action of the window is a window handler (one table) or a session command, never neither (a
handler may wrap a command with its argument: ideal, new_chip); the ones a missing session leaves
enabled are the ones whose handler needs none."""

from __future__ import annotations

from convsram.core.session import COMMANDS
from convsram.gui.actions import ACTIONS
from convsram.gui.main_window import WITHOUT_SESSION

pytest_plugins = ["tests.test_gui_support"]


def test_every_action_has_exactly_one_meaning(window):
    for name in ACTIONS:
        assert name in window.handlers or name in COMMANDS, name
    assert set(window.handlers) <= set(ACTIONS)


def test_actions_without_a_session_need_none(window):
    for name in WITHOUT_SESSION:
        assert not window.handlers[name].needs_session, name
    for name, handler in window.handlers.items():
        if handler.needs_session:
            assert name not in WITHOUT_SESSION


def test_a_command_action_runs_on_the_session_and_stepping_pauses(window):
    s = window.session
    window.player.set_playing(True)
    window.do("step")
    assert s.frame == 1 and not window.player.playing
    window.do("next_layer")
    assert s.frame == s.current.stage_start[1]  # the requantisation after conv1's invocations
