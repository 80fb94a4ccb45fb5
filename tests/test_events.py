"""Event jumps land on frames that have the event."""

import numpy as np
import pytest

from convsram.core.config import ChipConfig
from convsram.core.events import find_next, frame_flags
from convsram.core.mnist import load
from convsram.core.session import Session
from tests.helpers import random_model


@pytest.fixture(scope="module")
def session():
    return Session(random_model(), load("test", limit=30), ChipConfig.harsh(), seed=1)


def test_saturation_jump_lands_on_a_saturated_frame(session):
    hit = find_next(session, "saturation")
    assert hit is not None
    image, frame = hit
    f = session.frame_at(image, frame)
    assert np.abs(f.codes).max() >= session.config.max_code
    flags = frame_flags(session.run_image(image), session.config.max_code)["saturation"]
    if image == session.image:  # nothing saturated between here and the hit
        assert not flags[session.frame + 1:frame].any()


def test_code_error_jump_respects_threshold(session):
    for k in (1, 3):
        hit = find_next(session, "code_error", min_error=k)
        assert hit is not None
        f = session.frame_at(*hit)
        assert np.abs(f.codes.astype(int) - f.ideal_codes).max() >= k


def test_misclassified_jump(session):
    hit = find_next(session, "misclassified")
    assert hit is not None
    run = session.run_image(hit[0])
    assert run.prediction != run.label and hit[0] != session.image


def test_ideal_chip_has_no_code_errors():
    s = Session(random_model(), load("test", limit=3), ChipConfig.ideal())
    assert find_next(s, "code_error", max_images=3) is None
    with pytest.raises(ValueError, match="unknown event"):
        find_next(s, "glitch")
