"""The stepping session (core, no Qt): replayable frames, counters that add up, commands."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from convsram.core import energy
from convsram.core.config import ChipConfig
from convsram.core.mnist import DataError, Split
from convsram.core.network import Model, forward, input_codes, lenet_bw, save_model
from convsram.core.session import COMMANDS, Frame, Session

COMPONENTS = energy.COMPONENTS


def random_model(seed: int = 0) -> Model:
    """LeNet-bw with random +/-1 weights (stand-in for the trained model)."""
    layers = lenet_bw()
    rng = np.random.default_rng(seed)
    return Model(layers=layers,
                 weights=[rng.choice([-1, 1], size=(s.rows, s.out_channels)) for s in layers],
                 alpha=[np.full(s.out_channels, 0.5) for s in layers],
                 beta=[np.zeros(s.out_channels) for s in layers], adc_step=[11, 31, 51])


def small_data(n: int = 6) -> Split:
    rng = np.random.default_rng(1)
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    images[:, 6:22, 8:20] = rng.integers(0, 256, size=(n, 16, 12), dtype=np.uint8)
    return Split(images=images, labels=np.arange(n, dtype=np.uint8) % 10)


@pytest.fixture
def session() -> Session:
    return Session(random_model(), small_data())


def same_frame(a: Frame, b: Frame) -> None:
    assert (a.image, a.index, a.place.index, a.layer_name) == (b.image, b.index, b.place.index, b.layer_name)
    for name in ("x", "v_dac", "v_p", "v_n", "ideal_diff", "codes", "ideal_codes"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("energy", "energy_layer", "energy_image", "energy_session"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.time_ns == b.time_ns and a.positions_done == b.positions_done


def test_step_forward_then_back_gives_identical_frames(session):
    session.run("frame", 570)
    before = [session.frame_at()]
    for _ in range(12):  # crosses from conv1 into conv2
        before.append(session.run("step"))
    after = [session.frame_at()]
    for _ in range(12):
        after.append(session.run("back"))
    for a, b in zip(before, reversed(after), strict=True):
        same_frame(a, b)


def test_frames_replay_after_the_cache_is_dropped(session):
    a = session.frame_at(image=2, index=700)
    for image in range(len(session.data)):
        session.run_image(image)
    session._runs.clear()
    same_frame(a, session.frame_at(image=2, index=700))


def test_counters_add_up(session):
    run = session.current
    n = run.n_frames
    invocations = sum(session.amap.invocations_per_image())
    assert run.invocations is not None and int(run.invocations[-1]) == invocations
    # and the digital steps, one per output position: conv1's requantisation, pool1, conv2's tile sums and
    # requantisation, pool2, fc's tile sum and class scores
    assert n == invocations + 24 * 24 + 12 * 12 + 2 * 10 * 10 + 5 * 5 + 2
    assert sum(p.invocation for p in run.places) == invocations
    last = session.frame_at(index=n - 1)
    total = np.sum([list(session.frame_at(index=k).energy.values()) for k in range(n)], axis=0)
    np.testing.assert_allclose(total, [last.energy_image[c] for c in COMPONENTS])
    # a stage's counter (a layer's invocations or a digital step) is the image counter since it started
    for st, start in enumerate(run.stage_start):
        end = run.stage_start[st + 1] - 1 if st + 1 < len(run.stage_start) else n - 1
        f = session.frame_at(index=end)
        before = session.frame_at(index=start - 1).energy_image if start else dict.fromkeys(COMPONENTS, 0.0)
        for c in COMPONENTS:
            assert f.energy_layer[c] == pytest.approx(f.energy_image[c] - before[c])
        assert f.layer_frames == end - start + 1
    # time is 150 ns per invocation at the paper's operating point
    assert last.time_ns == pytest.approx(invocations * energy.invocation_time_ns(session.config))
    assert last.final and last.prediction == int(np.argmax(last.scores))


def test_session_counter_accumulates_completed_images(session):
    session.run("last")
    first = session.frame_at()
    assert session.stats.images == {0}
    session.run("step")  # on to image 1
    assert session.image == 1 and session.frame == 0
    f = session.frame_at()
    for c in ("dac", "array", "adc"):
        assert f.energy_session[c] == pytest.approx(first.energy_image[c] + f.energy_image[c])
    assert f.energy_session["write"] == pytest.approx(session.write_pj)
    session.run("prev_image")
    session.run("last")  # seeing image 0 again does not count it twice
    assert session.stats.images == {0}


def test_prediction_matches_exact_path_on_ideal_chip():
    s = Session(random_model(), small_data(), config=ChipConfig.ideal())
    codes = input_codes(s.data.images[:3], 7)
    exact = forward(s.model, codes).argmax(axis=1)
    for image in range(3):
        s.run("goto", image)
        s.run("last")
        assert s.frame_at().prediction == exact[image]
        f = s.frame_at(index=700)
        np.testing.assert_array_equal(f.codes, f.ideal_codes)


def test_layer_commands(session):
    run = session.current
    # conv1, its requantisation, pool1, conv2, its tile sums and requantisation, pool2, fc, its tile sum
    # and class scores: every digital step a stage of its own
    assert run.stage_start == [0, 576, 1152, 1296, 1896, 1996, 2096, 2121, 2134, 2135]
    assert session.stage_names() == ["conv1", "conv1.requant", "pool1", "conv2", "conv2.sum", "conv2.requant",
                                     "pool2", "fc", "fc.sum", "fc.scores"]
    session.run("next_layer")  # PgDown reaches conv1's requantisation
    assert session.frame == run.stage_start[1] and session.current_frame().layer_name == "conv1.requant"
    session.run("next_layer")  # then the pooling
    assert session.frame == run.stage_start[2] and session.current_frame().layer_name == "pool1"
    session.run("next_layer")
    assert session.frame == run.layer_start[1] == run.stage_start[3]
    session.run("next_layer")  # conv2's tile sums
    assert session.current_frame().layer_name == "conv2.sum" and session.current_frame().place.node_step == 0
    session.run("step", 5)
    session.run("prev_layer")  # back to the start of this stage first
    assert session.frame == run.stage_start[4]
    session.run("prev_layer")
    assert session.frame == run.layer_start[1]
    session.run("first")
    session.run("end_of_layer")
    assert session.frame == run.stage_start[1] - 1
    session.run("last")
    assert session.frame == run.n_frames - 1
    session.run("first")
    assert session.frame == 0


def test_image_commands_and_errors(session):
    session.run("next_image")
    assert session.image == 1
    session.run("prev_image")
    session.run("prev_image")  # wraps around
    assert session.image == len(session.data) - 1
    session.run("goto", 3, 10)
    assert (session.image, session.frame) == (3, 10)
    with pytest.raises(ValueError, match="out of range"):
        session.run("goto", 99)
    with pytest.raises(ValueError, match="unknown command"):
        session.run("fly")
    assert ("goto", (3, 10)) in session.log
    assert {"step", "back", "goto", "frame", "next_layer", "prev_layer", "end_of_layer", "next_image",
            "prev_image", "first", "last", "seed", "ideal"} <= set(COMMANDS)


def test_seed_and_ideal_commands(session):
    a = session.frame_at(index=10)
    session.run("seed", 5)
    assert session.chip.seed == 5
    b = session.frame_at(index=10)
    assert not np.array_equal(a.v_p, b.v_p)
    session.run("ideal", "on")
    assert session.config.is_ideal()
    f = session.frame_at(index=10)
    np.testing.assert_allclose(f.v_n - f.v_p, f.ideal_diff, atol=1e-12)
    session.run("ideal", False)
    assert not session.config.is_ideal()


def test_feature_map_fills_in(session):
    f = session.frame_at(index=100)
    fmap = session.feature_map(0, f)
    done = ~np.isnan(fmap).any(axis=-1)
    assert done.sum() == f.positions_done
    assert np.isnan(session.feature_map(1, f)).all()
    assert np.isnan(session.feature_map(2, f)).all()
    last = session.frame_at(index=f.n_frames - 1)
    np.testing.assert_array_equal(session.feature_map(2, last), last.scores)


def test_active_inputs_and_receptive_field(session):
    run = session.current
    f = session.frame_at(index=0)
    assert session.active_inputs(f).sum() == 25 and session.receptive_field(f) == (0, 5, 0, 5)
    f = session.frame_at(index=run.layer_start[1])  # conv2, window (0, 0), first tile (kernel row 0)
    mask = session.active_inputs(f)
    assert mask.sum() == f.place.rows[1] - f.place.rows[0] == len(f.x)
    assert session.receptive_field(f) == (0, 6, 0, 10)
    fc = session.frame_at(index=run.layer_start[2])
    assert session.active_inputs(fc).sum() == len(fc.x)
    # the active inputs are exactly the codes on the rows
    np.testing.assert_array_equal(np.sort(session.layer_input(1)[mask]), np.sort(f.x))


def test_partial_scores_build_up_to_the_final_scores(session):
    run = session.current
    assert session.partial_scores(session.frame_at(index=0)) is None
    last = session.frame_at(index=run.n_frames - 1)
    np.testing.assert_allclose(session.partial_scores(last), run.scores)


def test_prefetch_from_another_thread_is_used(session):
    done = threading.Event()

    def work():
        session.run_image(4)
        done.set()

    threading.Thread(target=work).start()
    assert done.wait(30)
    assert session.is_simulated(4)
    stale = session.generation
    session.run("seed", 3)
    assert session.generation != stale and not session.is_simulated(4)


def test_open_reports_missing_model(tmp_path):
    with pytest.raises(DataError, match="not found"):
        Session.open(tmp_path / "nope.npz")
    path = save_model(random_model(), tmp_path / "m.npz")
    with pytest.raises(DataError, match="MNIST"):
        Session.open(path, mnist_dir=tmp_path)


def test_pooling_is_a_digital_step_of_its_own(session):
    """The 2x2 max-pool runs as frames of its own: which four values, which one wins; the array rests."""
    run = session.current
    pool1 = session.stage_names().index("pool1")
    f = session.run("frame", run.stage_start[pool1] + 13)  # pool1, output position 13 = (1, 1)
    p = f.place
    assert not p.invocation and p.node == "pool1" and p.node_step == 13 and p.node_window == (2, 2)
    assert f.layer_name == "pool1" and f.layer_frames == 144
    # the pool's 3 compares of each of 16 maps, booked here; nothing on the array
    assert f.energy["digital"] == pytest.approx(16 * 3 * energy.e("compare"))
    assert sum(f.energy.values()) == f.energy["digital"]
    last = session.frame_at(index=run.stage_start[1] - 1)  # the array shows conv1's last invocation
    np.testing.assert_array_equal(f.codes, last.codes)
    assert f.time_ns == last.time_ns  # no invocation, no array time
    inp, out = session.node_maps(f)
    act = run.activations["conv1.act"]
    np.testing.assert_array_equal(inp, act)
    np.testing.assert_array_equal(out[1, 1], act[2:4, 2:4].max(axis=(0, 1)))
    assert np.isnan(out[1, 2]).all() and not np.isnan(out[1, 1]).any()
    node = session.model.graph.by_name["pool1"]
    winners = node.step_cells(inp, p.node_window)
    ys, xs, cs = np.nonzero(winners)
    assert winners.sum() == 16 and sorted(cs) == list(range(16)) and (inp[ys, xs, cs] == out[1, 1, cs]).all()
    assert session.receptive_field(f) == (2, 8, 2, 8)  # the 2x2 window of conv1 outputs: 6x6 pixels


def test_tile_sums_and_requantisation_are_digital_steps_of_their_own(session):
    """conv2's rows span 3 tiles: after its invocations, one frame per output position adds the tiles'
    ADC codes (P), one more scales, rounds and clips P to the next layer's input codes; the numbers are
    the exact path's (forward records P and the codes) and the array rests."""
    run = session.current
    names = session.stage_names()
    f = session.run("frame", run.stage_start[names.index("conv2.sum")] + 23)  # output (2, 3)
    p = f.place
    assert not p.invocation and p.op == "sum" and p.node == "conv2.sum" and p.node_step == 23
    assert f.layer_name == "conv2.sum" and f.layer_frames == 100 and p.layer == 1
    v = session.layer_op_values(f)
    tiles = []  # each tile's codes at this position, from the chip's records
    for t, chunks in enumerate(session.amap.chunks[1]):
        codes = np.zeros(32, int)
        for c, filters in enumerate(chunks):
            codes[filters] = run.records[(1, t, c)].codes[23]
        tiles.append(codes)
    np.testing.assert_array_equal(v.tiles, tiles)
    np.testing.assert_array_equal(v.total, np.sum(tiles, axis=0))
    np.testing.assert_array_equal(v.total, run.activations["conv2.P"][2, 3])
    # 2 adds for each of 32 filters, booked on this frame; no array energy, no array time
    assert f.energy["digital"] == pytest.approx(32 * 2 * energy.e("add"))
    assert sum(f.energy.values()) == f.energy["digital"]
    assert f.time_ns == session.frame_at(index=run.stage_start[names.index("conv2.sum")] - 1).time_ns
    assert session.receptive_field(f) == session.model.graph.field("conv2", (2, 3, 3, 4))  # its position's
    f = session.run("frame", run.stage_start[names.index("conv2.requant")] + 23)
    v = session.layer_op_values(f)
    assert v.op == "requant" and not v.output
    u = session.model.alpha[1] * v.total + session.model.beta[1]
    np.testing.assert_allclose(v.scaled, u)
    np.testing.assert_array_equal(v.rounded, np.floor(u + 0.5))
    np.testing.assert_array_equal(v.out, np.clip(np.floor(u + 0.5), 0, session.config.max_input))
    np.testing.assert_array_equal(v.out, run.activations["conv2.act"][2, 3])
    assert f.energy["digital"] == pytest.approx(32 * (energy.e("mult") + energy.e("add")))
    with pytest.raises(ValueError, match="digital node"):
        session.node_maps(f)
    # the class scores: the last frame of the image, the answer
    f = session.run("last")
    v = session.layer_op_values(f)
    assert f.final and f.layer_name == "fc.scores" and v.output and v.tiles.shape == (13, 10)
    np.testing.assert_allclose(v.out, run.scores)
    np.testing.assert_allclose(session.partial_scores(f), run.scores)
    with pytest.raises(ValueError, match="digital step"):
        session.layer_op_values(session.frame_at(index=0))


def test_digital_energy_is_booked_where_it_is_done_and_adds_up(session):
    """Every digital operation sits on a frame of its own; the image's digital energy is the model's
    (core.inference.digital_energy_pj), none left over for the invocations."""
    run = session.current
    digital = run.energy[:, COMPONENTS.index("digital")]
    invocation = np.array([p.invocation for p in run.places])
    assert digital.sum() == pytest.approx(sum(session.digital), rel=1e-12)
    assert (digital[invocation] == 0).all() and (digital[~invocation] > 0).all()
