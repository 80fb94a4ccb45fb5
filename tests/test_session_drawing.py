"""Digits drawn by a visitor run through the same chip simulation as test images; every image run to
its answer leaves a result (label, prediction, energy)."""

import numpy as np
import pytest

from convsram.core.mnist import load
from convsram.core.session import NO_LABEL, Session
from tests.helpers import random_model


@pytest.fixture(scope="module")
def data():
    return load("test", limit=6)


def test_a_drawing_is_simulated_like_the_test_image_it_copies(data):
    s = Session(random_model(), data)
    index = s.add_drawing(data.images[3])
    assert index == len(data) and s.is_drawing(index) and s.label_of(index) == NO_LABEL
    s.run("goto", index)
    drawn, test = s.current, s.run_image(3)
    np.testing.assert_array_equal(drawn.codes_in, test.codes_in)
    np.testing.assert_array_equal(drawn.scores.shape, test.scores.shape)
    assert drawn.label == NO_LABEL and s.frame_at().label == NO_LABEL
    # same picture, same ideal codes (noise streams differ by image index, ideal codes do not)
    k = s.current.layer_start[1] + 7
    np.testing.assert_array_equal(s.frame_at(index, k).ideal_codes, s.frame_at(3, k).ideal_codes)


def test_a_drawing_counts_in_results_not_in_accuracy(data):
    s = Session(random_model(), data)
    s.run("goto", 2)
    s.run("last")
    index = s.add_drawing(data.images[0])
    s.run("goto", index)
    s.run("last")
    assert s.stats.images == {2} and s.stats.drawings == {index}
    assert len(s.stats.history) == 1
    results = s.stats.results
    assert [r.image for r in results] == [2, index]
    assert results[1].drawn and results[1].correct is None and results[1].as_dict()["label"] is None
    assert results[0].correct == (results[0].prediction == results[0].label)
    assert results[1].energy_pj["adc"] == pytest.approx(float(s.current.energy[:, 2].sum()))
    # the session's energy counts both images (and the weight writes)
    total = sum(s.frame_at().energy_session.values())
    assert total == pytest.approx(s.write_pj + sum(sum(r.energy_pj.values()) for r in results))
    # after a drawing, "next image" goes on after the test image it interrupted, "previous" back to it
    s.run("next_image")
    assert s.image == 3
    s.run("goto", index)
    s.run("prev_image")
    assert s.image == 3


def test_bad_drawings_are_refused(data):
    s = Session(random_model(), data)
    with pytest.raises(ValueError, match="28x28"):
        s.add_drawing(np.zeros((20, 20)))
    with pytest.raises(ValueError, match="out of range"):
        s.run("goto", len(data) + 5)
