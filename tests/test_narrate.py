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


def _op(session: Session, stage: str, step: int):
    run = session.current
    f = session.run("frame", run.stage_start[session.stage_names().index(stage)] + step)
    spec = session.model.layers[f.place.layer]
    v = session.layer_op_values(f)
    return f, v, narrate.sentence(f, spec, narrate.digital_after(session.model, spec.name), v)


def test_tile_sum_and_requantisation_sentences_work_one_filter_through(session):
    f, v, text = _op(session, "conv2.sum", 23)
    j = narrate.example(v)
    assert text.startswith("conv2, tile sums:") and "the array rests" in text
    terms = " + ".join(f"({c})" if c < 0 else str(c) for c in v.tiles[:, j]).replace("-", "−")
    assert f"Filter {j}: {terms} = {int(v.total[j])}".replace("-", "−") in text
    f, v, text = _op(session, "conv2.requant", 23)
    j = narrate.example(v)
    assert text.startswith("conv2, requantisation:") and "rounds" in text and "0–127" in text
    assert text.endswith(f"→ {v.rounded[j]} → {int(v.out[j])}.".replace("-", "−"))
    assert 40 < len(text) < 400


def test_the_last_step_scales_to_class_scores_and_answers(session):
    f, v, text = _op(session, "fc.scores", 0)
    assert f.final and text.startswith("Done:") and "α·P + β" in text and f"answers {f.prediction}" in text


def test_the_last_invocation_of_a_tiled_layer_announces_its_digital_steps(session):
    run = session.current
    _, text = _at(session, run.stage_range(run.layer_start[1])[1] - 1)  # conv2's last invocation
    assert "adds each position's tile codes and requantises them" in text and "max-pooling" in text
