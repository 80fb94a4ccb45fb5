"""Scripted demos: parsing with line-numbered errors, and replay on a session."""

import pytest

from convsram.core.mnist import load
from convsram.core.script import ScriptError, apply, parse
from convsram.core.session import Session
from tests.helpers import random_model

DEMO = """
# booth demo
speed 300
goto 2
play
wait 1.5
knob comparator_offset_sigma 0.0008
next_layer
preset ideal
step 10
loop
"""


def test_parse_demo():
    steps = parse(DEMO)
    assert [s.name for s in steps] == ["speed", "goto", "play", "wait", "knob", "next_layer", "preset",
                                       "step", "loop"]
    assert steps[3].args == (1.5,) and steps[4].args == ("comparator_offset_sigma", 0.0008)
    assert steps[0].line == 3


@pytest.mark.parametrize("text,match", [
    ("jump 3", "script:1: unknown command 'jump'"),
    ("\nknob cap_mismatch_sigma -1", "script:2: .*cap_mismatch_sigma"),
    ("knob cap_mismatch 0.1", "unknown knob"),
    ("wait soon", "not a number"),
    ("preset spicy", "unknown preset"),
    ("speed", "takes 1"),
])
def test_bad_lines_name_the_line(text, match):
    with pytest.raises(ScriptError, match=match):
        parse(text)


def test_replay_drives_the_session():
    s = Session(random_model(), load("test", limit=5))
    for step in parse(DEMO):
        apply(s, step)
    assert s.image == 2
    assert s.config.is_ideal()
    assert s.frame == s.current.stage_start[1] + 10  # next_layer: conv1's requantisation, then playing
    assert s.log[0] == ("goto", (2,))  # arguments are parsed (and checked) when the script is read
