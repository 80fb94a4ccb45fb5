"""A layer larger than one macro: its row tiles go whole to several macros of one phase (issue 10's
compiler: 'splitting a layer over macros' was refused), and a layer larger than all the macros goes on
over further phases (was refused too). The ideal chip stays bit-exact with the integer path, the bulk
chip path equals the tile-by-tile one, each (phase, macro) holds only its tiles, and a row tile whose
filters do not fit one macro is told what to change."""

from __future__ import annotations

import numpy as np
import pytest

from convsram.cli import main
from convsram.core import energy, network
from convsram.core.architectures import resnet_bw
from convsram.core.chip import Chip
from convsram.core.compiler import format_plan, plan
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, digital_energy_pj, programmed_chip
from convsram.core.mapping import place
from convsram.core.mnist import load
from convsram.core.noise import KeyedNoise
from tests.test_fast_paths import _same_ledgers, tile_by_tile


def wide_resnet(seed: int = 0) -> network.Model:
    """resnet_bw with 64 channels in its second stage: conv3a/b and conv4a/b hold 576 rows = 9 row tiles x
    64 filters = 576 columns, more than a 256-column macro."""
    rng = np.random.default_rng(seed)
    graph = resnet_bw(16, 64)
    layers = network.Model(graph, [], [], [], []).layers
    return network.Model(graph, [rng.choice([-1, 1], (s.rows, s.out_channels)) for s in layers],
                         [rng.uniform(0.02, 0.1, s.out_channels) for s in layers],
                         [rng.uniform(0, 20, s.out_channels) for s in layers],
                         [7, 21, 21, 21, 41, 41, 41, 41, 41])


@pytest.fixture(scope="module")
def codes() -> np.ndarray:
    return network.input_codes(load("test", limit=10).images)


def test_a_layer_larger_than_every_macro_goes_on_over_phases() -> None:
    """One macro of 256 columns holds 4 of conv3a's 9 row tiles of 64 filters: the layer runs in three
    phases (from a fresh one), phase by phase over every output position."""
    model = wide_resnet()
    amap = place(model, ChipConfig())
    li = [s.name for s in amap.layers].index("conv3a")
    assert amap.tile_phase[li] == (2, 2, 2, 2, 3, 3, 3, 3, 4) and amap.layer_phases(li) == (2, 3, 4)
    assert amap.macros_used == 1 and amap.phases == 14
    for p in amap.layer_phases(li):  # each phase holds exactly its tiles' weights
        held = amap.contents(model, p, 0)
        for t in amap.tiles_on(li, 0, p):
            r0, r1 = amap.layers[li].tiles[t]
            np.testing.assert_array_equal(held[:r1 - r0, amap.columns[li][t]], model.weights[li][r0:r1])
    # the order of invocations: every position with tiles 0-3, then with tiles 4-7, then with tile 8
    tiles = [p.tile for p in amap.places() if p.layer == li and p.chunk == 0]
    positions = len(amap.windows[li])
    assert tiles == [0, 1, 2, 3] * positions + [4, 5, 6, 7] * positions + [8] * positions
    # each (phase, macro) is written before its first tile runs
    starts = amap.phase_starts()
    assert starts[(li, 0)] == [(2, 0)] and starts[(li, 4)] == [(3, 0)] and starts[(li, 8)] == [(4, 0)]
    row = next(lp for lp in plan(model, ChipConfig()).layers if lp.name == "conv3a")
    assert row.phases == (2, 3, 4) and row.phase_text == "2-4"


def test_a_row_tile_larger_than_a_macro_says_what_to_change() -> None:
    """16 filters in ADC groups of one column each: one row tile needs 16 columns, the macro has 8."""
    with pytest.raises(ValueError, match=r"conv0: one row tile of 16 filters needs more than the 8 columns"):
        place(wide_resnet(), ChipConfig(columns=8, adc_groups=8))


def test_the_row_tiles_go_whole_to_several_macros_of_one_phase() -> None:
    model = wide_resnet()
    config = ChipConfig(macros=3)
    amap = place(model, config)
    li = [s.name for s in amap.layers].index("conv3a")
    assert amap.layer_macros(li) == (0, 1, 2) and amap.macros_used == 3
    assert amap.tile_macro[li] == (0, 0, 0, 0, 1, 1, 1, 1, 2)  # 4 tiles of 64 filters fill a macro
    for m in range(3):  # each macro holds exactly its tiles' weights
        held = amap.contents(model, amap.phase[li], m)
        for t in range(9):
            r0, r1 = amap.layers[li].tiles[t]
            cols = amap.columns[li][t]
            if amap.macro_of(li, t) == m:
                np.testing.assert_array_equal(held[:r1 - r0, cols], model.weights[li][r0:r1])
    p = plan(model, config)
    row = next(lp for lp in p.layers if lp.name == "conv3a")
    assert row.macros == (0, 1, 2) and row.macro_text == "0-2"
    assert " 0-2 " in format_plan(p)


@pytest.mark.parametrize("macros", [1, 2, 3, 4])
def test_the_ideal_chip_is_exact_on_a_split_layer(codes: np.ndarray, macros: int) -> None:
    model = wide_resnet(1)
    config = ChipConfig.ideal(macros=macros)
    chip = Chip(config, seed=2)
    amap, _ = programmed_chip(model, chip)
    ev = ChipEvaluator(chip, model, amap)
    rec_int: dict[str, np.ndarray] = {}
    rec_chip: dict[str, np.ndarray] = {}
    np.testing.assert_array_equal(network.forward(model, codes, ev, record=rec_chip, batch_size=4),
                                  network.forward(model, codes, record=rec_int))
    for key in rec_int:
        np.testing.assert_array_equal(rec_chip[key], rec_int[key], err_msg=key)


@pytest.mark.parametrize("macros,keyed", [(3, True), (1, True), (1, False), (2, True)])
def test_the_bulk_chip_path_equals_tile_by_tile_on_a_split_layer(codes: np.ndarray, macros: int,
                                                                  keyed: bool) -> None:
    """Each tile on its own macro (3), or on one macro over phases (1; 2: both): its own DAC table and
    mismatch draws, weights and rewrites, in both paths."""
    model = wide_resnet(2)
    config = ChipConfig(macros=macros, comparator_noise_sigma=2e-3)
    runs = []
    for fast in (True, False):
        chip = Chip(config, 5)
        amap, _ = programmed_chip(model, chip)
        rng = KeyedNoise(5) if keyed else np.random.default_rng(5)
        ev = ChipEvaluator(chip, model, amap, rng=rng)
        if isinstance(rng, KeyedNoise):
            rng.begin(0, len(codes))
        runs.append((network.forward(model, codes, ev if fast else tile_by_tile(ev), config=config), ev))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    _same_ledgers(runs[0][1], runs[1][1])
    assert runs[0][1].rewrite_log == runs[1][1].rewrite_log
    # the macros differ: the same tile on another macro would convert differently
    assert len({id(c) for c in runs[0][1].chips}) == macros


def test_compile_and_eval_run_a_split_network(tmp_path, capsys) -> None:
    path = tmp_path / "wide.npz"
    network.save_model(wide_resnet(3), path)
    assert main(["compile", str(path), "--macros", "3"]) == 0
    assert "0-2" in capsys.readouterr().out
    assert main(["compile", str(path)]) == 0  # one macro: conv3a in phases 2-4
    out = capsys.readouterr().out
    assert " 2-4 " in out and "14 phases" in out and "partial codes" in out
    assert main(["eval", "--model", str(path), "--images", "4", "--calibrate"]) == 0


def test_the_array_view_shows_the_macro_of_the_tile_now(qapp, tmp_path) -> None:
    """The dashboard's array picture is the macro holding the current tile: conv3a's tile 5 is on macro
    1, its tile 8 on macro 2, each with that macro's weights."""
    from convsram.core.mnist import load as load_split
    from convsram.core.session import Session
    from convsram.gui.main_window import MainWindow

    model = wide_resnet(4)
    session = Session(model, load_split("test", limit=3), ChipConfig(macros=3))
    window = MainWindow(session, remember=False)
    try:
        li = [s.name for s in model.layers].index("conv3a")
        for tile, macro in ((5, 1), (8, 2)):
            k = next(p.index for p in session.places if p.layer == li and p.tile == tile and p.invocation)
            window.command("frame", k)
            window.refresh()
            view = window.array_view
            assert f"macro {macro}" in view.note.text()
            held = session.amap.contents(model, session.amap.phase[li], macro)
            np.testing.assert_array_equal(view._weights, held)
    finally:
        window.close()



def test_the_session_steps_a_layer_over_phases(qapp) -> None:
    """Frame by frame on one macro: conv3a's tile 5 is in its second phase (phase 4 of 14), the array
    view shows that phase's weights, each rewrite's energy sits on the first frame after it, and the
    final scores are the integer path's (ideal chip)."""
    from convsram.core.mnist import load as load_split
    from convsram.core.session import COMPONENTS, Session
    from convsram.gui.main_window import MainWindow

    model = wide_resnet(4)
    data = load_split("test", limit=2)
    session = Session(model, data, ChipConfig.ideal())
    run = session.current
    np.testing.assert_array_equal(run.scores, network.forward(model, network.input_codes(data.images[:1]))[0])
    amap = session.amap
    li = [s.name for s in model.layers].index("conv3a")
    write = run.energy[:, COMPONENTS.index("write")]
    firsts = {next(p.index for p in run.places if p.layer == li and p.tile == t and p.invocation)
              for t in (0, 4, 8)}
    assert all(write[k] > 0 for k in firsts)
    assert write[[p.index for p in run.places if p.layer == li]].astype(bool).sum() == 3
    window = MainWindow(session, remember=False)
    try:
        k = next(p.index for p in session.places if p.layer == li and p.tile == 5 and p.invocation)
        window.command("frame", k)
        window.refresh()
        view = window.array_view
        assert "phase 4/14" in view.note.text()
        np.testing.assert_array_equal(view._weights, amap.contents(model, 3, 0))
        # no output position of conv3a is whole before its last phase (tile 8): its map stays empty
        assert session.frame_at(index=k).positions_done == 0
        assert np.isnan(session.feature_map(li, session.frame_at(index=k))).all()
        assert "0 / 36 positions done" in window.output_view.note.text()
        last = max(p.index for p in session.places if p.layer == li and p.tile == 8 and p.position == 0)
        assert session.frame_at(index=last).positions_done == 1
        # the time so far counts the rewrites too (the chip computes nothing while it writes), and the
        # whole image's equals eval's latency per image
        f = session.frame_at(index=k)
        per = energy.invocation_time_ns(session.config)
        assert f.write_ns > 0 and f.time_ns == pytest.approx(f.invocations * per + f.write_ns)
        assert f.invocations == sum(p.invocation for p in run.places[:k + 1]) < f.index + 1
        chip = Chip(session.config, seed=session.seed)
        amap_e, _ = programmed_chip(model, chip)
        ev = ChipEvaluator(chip, model, amap_e)
        network.forward(model, network.input_codes(data.images[:1]), ev, config=session.config)
        assert session.frame_at(index=run.n_frames - 1).time_ns == pytest.approx(ev.totals().time_ns)
        # and the energy panel's TOPS/W and energy per image count the image's rewrites (as eval does:
        # array, digital periphery and rewrites)
        window.command("frame", run.n_frames - 1)
        window.refresh()
        per_image = sum(ev.totals().energy_pj.values()) + float(sum(digital_energy_pj(model, amap_e)))
        macs = float(window.energy_view._macs(session)[-1])
        assert window.energy_view.tops_per_w == pytest.approx(energy.tops_per_w(macs, per_image))
        assert session.stats.images and sum(session.stats.energy_pj.values()) - session.write_pj == \
            pytest.approx(per_image)
    finally:
        window.close()


def test_the_header_line_of_a_long_layer_fits_at_1366x768(qapp) -> None:
    """conv3a of the wide network at invocation 1201 / 1296, tile 9/9, rows 512-575: the header's line
    drops its least telling parts instead of being cut at its start (it was, at 1366x768)."""
    from convsram.core.mnist import load as load_split
    from convsram.core.session import Session
    from convsram.gui.main_window import MainWindow

    session = Session(wide_resnet(4), load_split("test", limit=2), ChipConfig())
    window = MainWindow(session, remember=False)
    try:
        window.resize(1366, 768)
        window.show()
        li = [s.name for s in session.model.layers].index("conv3a")
        for k in (next(p.index for p in session.places if p.layer == li and p.layer_step == 1200),
                  next(p.index for p in session.places if p.layer == li and p.layer_step == 5)):
            window.command("frame", k)
            window.refresh()
            qapp.processEvents()
            detail = window.where.detail
            assert detail.text().startswith("conv3a ")
            assert detail.fontMetrics().horizontalAdvance(detail.text()) <= detail.width()
    finally:
        window.close()


def test_the_partial_code_buffer_of_a_layer_over_phases_is_charged() -> None:
    """conv3a over 3 phases on one macro: 36 positions x 64 filters of 12-b partial codes (9 tiles x
    127 codes, signed) written and read back twice, as digital energy of that layer (eval and session
    alike); a layer in one phase is charged nothing."""
    from convsram.core import energy
    from convsram.core.inference import digital_energy_pj, partial_code_buffer_pj

    model = wide_resnet()
    amap = place(model, ChipConfig())
    li = [s.name for s in amap.layers].index("conv3a")
    want = 2 * 36 * 64 * 12 * (energy.e("write_bit") + energy.e("sram_read32") / 32)
    assert partial_code_buffer_pj(amap, li) == pytest.approx(want)
    assert partial_code_buffer_pj(amap, 0) == 0.0
    with_buffer, without = digital_energy_pj(model, amap), digital_energy_pj(model)
    assert with_buffer[li] - without[li] == pytest.approx(want)
    assert with_buffer[0] == without[0]
    wide = place(model, ChipConfig(macros=3))  # one phase for conv3a: no buffer
    assert digital_energy_pj(model, wide) == without
