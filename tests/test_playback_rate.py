"""Playback says what it delivers: the player measures the invocations per second it really plays
(driven here by a fake clock) and the status bar shows that rate when it falls short of the speed asked
(2,500/s asked used to read "playing at 2500 invocations/s" while about 1,276/s were played)."""

from __future__ import annotations

import pytest

from convsram.core.session import Session
from convsram.gui.player import Player
from tests.helpers import random_model
from tests.test_session import small_data

pytest_plugins = ["tests.test_gui_support"]


def play(player: Player, speed: float, tick_s: float, seconds: float, t0: float = 100.0) -> float:
    player.set_speed(speed)
    player.set_playing(True)
    now = t0
    while now < t0 + seconds:
        player.advance(now)
        now += tick_s
    return now


def test_late_ticks_deliver_less_and_the_player_says_how_much(qapp):
    player = Player(prefetcher=None)  # type: ignore[arg-type]  (one image: never asks for the next)
    player.set_session(Session(random_model(), small_data()))
    # a display that manages one tick every 150 ms: each tick may move at most MAX_DT (0.1 s) worth
    play(player, 500, 0.15, 1.6)
    assert player.delivered() == pytest.approx(500 * 0.1 / 0.15, rel=0.03)
    assert player.falls_short() == pytest.approx(333, abs=10)


def test_on_time_ticks_deliver_the_speed_asked(qapp):
    player = Player(prefetcher=None)  # type: ignore[arg-type]
    player.set_session(Session(random_model(), small_data()))
    play(player, 500, 1 / 60, 1.6)
    assert player.delivered() == pytest.approx(500, rel=0.03)
    assert player.falls_short() is None


def test_the_status_bar_shows_the_delivered_rate_when_it_falls_short(window):
    player = window.player
    now = play(player, 500, 0.15, 1.6)
    window._update_play_status()
    text = window.status_play.text()
    assert "of the 500 steps/s asked" in text, text
    assert 325 <= int(text.split()[3]) <= 340, text  # "▶ playing at 333 of the 500 ..."
    player.set_speed(500)  # a new speed: measured afresh, the asked rate until there is a measurement
    play(player, 500, 1 / 60, 1.6, t0=now)
    window._update_play_status()
    assert window.status_play.text() == "▶ playing at 500 steps/s"
    player.set_playing(False)
