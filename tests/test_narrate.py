"""Plain sentences from a frame (core/narrate.py): they name what the frame does with the frame's own
numbers, and the worked equation equals the chip's ideal line difference."""

from __future__ import annotations

import numpy as np
import pytest

from convsram.core import narrate
from convsram.core.paths import DEFAULT_MODEL
from convsram.core.session import Session


@pytest.fixture(scope="module")
def session():
    if not DEFAULT_MODEL.is_file():
        pytest.skip("the shipped model is not built")
    return Session.open(DEFAULT_MODEL)


def _at(s: Session, k: int):
    s.run("frame", k)
    f = s.current_frame()
    spec = s.model.layers[f.place.layer]
    return f, narrate.sentence(f, spec, narrate.digital_after(s.model, spec.name))


def test_first_layer_sentence_names_the_window_rows_and_columns(session):
    f, text = _at(session, 0)
    spec = session.model.layers[0]
    k = spec.kernel
    assert f"the {k * k} pixels of this {k}×{k} window" in text
    assert f"rows 0–{len(f.x) - 1}" in text and f"{len(f.place.columns)} columns each add" in text
    assert "ADC" in text and text.endswith(".")


def test_tiled_layer_says_which_part_and_the_end_of_a_pooled_layer_says_pooling(session):
    run = session.current
    last_conv1 = run.layer_start[1] - 1
    _, text = _at(session, last_conv1)
    assert "max-pooling" in text
    f, text = _at(session, run.layer_start[1])
    tiles = len(session.model.layers[1].tiles)
    if tiles > 1:
        assert f"part 1 of {tiles}" in text and "added up digitally" in text


def test_final_frame_says_the_answer(session):
    f, text = _at(session, session.current.n_frames - 1)
    assert f.final and f"answers {f.prediction}" in text


def test_every_frame_has_a_sentence(session):
    run = session.current
    for k in np.linspace(0, run.n_frames - 1, 40).astype(int):
        _, text = _at(session, int(k))
        assert 40 < len(text) < 400


def test_worked_equation_equals_the_frames_ideal_difference(session):
    f, _ = _at(session, session.current.layer_start[1] + 5)
    for slot in range(len(f.place.columns)):
        w = session.chip.weights[:len(f.x), f.place.columns[slot]]
        worked = narrate.worked(f, w, session.config.dac_lsb, slot)
        assert worked.ideal_v == pytest.approx(float(f.ideal_diff[slot]), abs=1e-12)
        assert worked.code == int(f.codes[slot]) and worked.n == len(f.x)
    assert f"{worked.sum_wx:,}" in worked.equation()


def test_glossary_defines_the_terms_on_screen():
    terms = " ".join(t for t, _ in narrate.GLOSSARY)
    for word in ("DAC", "ADC", "bitcell", "V_N − V_P", "kT/C", "max-pooling", "TOPS/W", "baseline"):
        assert word in terms
