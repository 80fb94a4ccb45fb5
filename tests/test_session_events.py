"""The session announces its changes (plain callbacks, no Qt): one event per command, chip changes
flagged, unsubscribe works; uid is never reused; current_frame is the one cached 'now'."""

from __future__ import annotations

import pytest

from convsram.core.config import ChipConfig
from convsram.core.session import Session
from tests.helpers import random_model


@pytest.fixture(scope="module")
def data():
    from convsram.core.mnist import load

    return load("test", limit=4)


def test_commands_announce_changes_and_chip_changes_say_so(data):
    s = Session(random_model(), data)
    seen = []
    stop = s.subscribe(seen.append)
    s.run("step", 3)
    assert [c.chip for c in seen] == [False] and seen[0].uid == s.uid and seen[0].version == s.version
    s.run("seed", 5)
    assert seen[-1].chip and s.generation == 2
    s.set_chip(ChipConfig(dac_lsb=0.002))
    assert seen[-1].chip
    with pytest.raises(ValueError):
        s.run("goto", 10**6)
    assert not seen[-1].chip  # a refused command still announces (nothing moved, views stay right)
    n = len(seen)
    stop()
    s.run("step")
    assert len(seen) == n


def test_current_frame_is_cached_until_the_session_moves(data):
    s = Session(random_model(), data)
    f = s.current_frame()
    assert s.current_frame() is f and f.index == s.frame
    s.run("step")
    assert s.current_frame() is not f and s.current_frame().index == 1


def test_uids_are_never_reused(data):
    uids = {Session(random_model(), data).uid for _ in range(5)}
    assert len(uids) == 5
