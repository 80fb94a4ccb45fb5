"""The compiler onto macros: phases with weight rewrites when layers do not fit at once, several
macros, the placement table; the rewrites cost energy and time and keep the ideal chip exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convsram.cli import main
from convsram.core import network
from convsram.core.architectures import resnet_bw
from convsram.core.chip import Chip
from convsram.core.compiler import format_plan, plan
from convsram.core.config import ChipConfig
from convsram.core.evaluate import evaluate
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.mapping import place
from convsram.core.mnist import load
from tests.helpers import random_model


def random_resnet(seed: int = 0) -> network.Model:
    rng = np.random.default_rng(seed)
    layers = network.Model(resnet_bw(), [], [], [], []).layers
    return network.Model(resnet_bw(), [rng.choice([-1, 1], (s.rows, s.out_channels)) for s in layers],
                         [rng.uniform(0.05, 0.3, s.out_channels) for s in layers],
                         [rng.uniform(0, 20, s.out_channels) for s in layers],
                         [7, 21, 21, 21, 31, 31, 31, 31, 31])


def test_lenet_fits_one_macro_in_one_phase() -> None:
    p = plan(random_model())
    assert len(p.phases) == 1 and p.rewrites_per_image == 0 and p.write_pj_per_image == 0
    assert [lp.columns for lp in p.layers] == [16, 96, 130] and {lp.macro for lp in p.layers} == {0}
    assert [lp.invocations for lp in p.layers] == [576, 600, 13]
    text = format_plan(p, "lenet")
    assert "no rewrites" in text and "conv2" in text and "1,189" in text


def test_a_network_larger_than_the_macro_runs_in_phases() -> None:
    model = random_resnet()
    amap = place(model)
    assert amap.phases == 5 and amap.phase == (0, 0, 0, 0, 1, 2, 3, 4, 4)
    p = plan(model)
    assert p.rewrites_per_image == 5
    bits = sum(w.size for w in model.weights)
    assert sum(ph.bits for ph in p.phases) == bits and p.write_pj_per_image == pytest.approx(bits * 0.41)
    five = plan(model, ChipConfig(macros=5))
    assert len(five.phases) == 1 and [lp.macro for lp in five.layers] == [0, 0, 0, 0, 1, 2, 3, 4, 4]


@pytest.mark.parametrize("macros", [1, 2, 5])
def test_rewrites_and_macros_keep_the_ideal_chip_exact_and_book_the_writes(macros: int) -> None:
    model = random_resnet(1)
    config = ChipConfig.ideal(macros=macros)
    x = network.input_codes(load("test", limit=6).images)
    chip = Chip(config, seed=2)
    amap, _ = programmed_chip(model, chip)
    ev = ChipEvaluator(chip, model, amap)
    rec_int: dict[str, np.ndarray] = {}
    rec_chip: dict[str, np.ndarray] = {}
    np.testing.assert_array_equal(network.forward(model, x, ev, record=rec_chip, batch_size=4),
                                  network.forward(model, x, record=rec_int))
    for key in rec_int:
        np.testing.assert_array_equal(rec_chip[key], rec_int[key], err_msg=key)
    p = plan(model, config)
    booked = sum(led.energy_pj["write"] for led in ev.ledger)
    assert booked == pytest.approx(6 * p.write_pj_per_image)
    assert (booked > 0) == (len(p.phases) > 1)


def test_evaluate_counts_the_rewrites_per_image() -> None:
    model = random_resnet(2)
    data = load("test", limit=4)
    one = evaluate(model, data.images, data.labels, ChipConfig.ideal())
    five = evaluate(model, data.images, data.labels, ChipConfig.ideal(macros=5))
    p = plan(model)
    once = one["weight_write_once"]["energy_pj"] / 4
    assert one["energy_breakdown_pj"]["write"] == pytest.approx(p.write_pj_per_image + once)
    bits = sum(w.size for w in model.weights)
    assert five["energy_breakdown_pj"]["write"] == pytest.approx(bits * 0.41 / 4)
    assert one["accuracy"] == five["accuracy"]


def test_compile_command_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = network.save_model(random_resnet(), tmp_path / "resnet.npz")
    assert main(["compile", str(path)]) == 0
    out = capsys.readouterr().out
    assert "conv4b" in out and "5 phases" in out and "utilisation" in out
    assert main(["compile", str(path), "--macros", "5"]) == 0
    assert "no rewrites" in capsys.readouterr().out
    assert main(["compile", str(path), "--macros", "0"]) == 2
    assert "--macros" in capsys.readouterr().err


def test_contents_is_what_the_macro_holds_in_each_phase() -> None:
    """The array view draws ArrayMap.contents: the weights the macro holds while a phase is resident."""
    model = random_resnet(3)
    chip = Chip(ChipConfig.ideal())
    amap = place(model)
    for p in range(amap.phases):
        amap.program(chip, model, p, 0)
        used = amap.owner(p, 0)[:, 0] >= 0
        np.testing.assert_array_equal(amap.contents(model, p, 0)[:, used], chip.weights[:, used])
        assert (amap.contents(model, p, 0)[:, ~used] == 0).all()


def test_the_app_books_each_rewrite_at_the_start_of_its_phase() -> None:
    from convsram.core.session import COMPONENTS, Session

    model = random_resnet(4)
    s = Session(model, load("test", limit=2), ChipConfig())
    run = s.current
    writes = run.energy[:, COMPONENTS.index("write")]
    starts = [run.layer_start[li] for li in range(len(model.layers)) if li == 0 or
              s.amap.phase[li] != s.amap.phase[li - 1]]
    assert list(np.nonzero(writes)[0]) == starts
    assert writes.sum() == pytest.approx(plan(model).write_pj_per_image)


def test_a_padded_layer_marks_its_output_position_not_its_window(qapp) -> None:
    """conv1a pads by 1: its first window starts at (-1, -1), its first output is at (0, 0)."""
    from convsram.core.session import Session
    from convsram.gui.views.context import Context
    from convsram.gui.views.outputs import OutputView

    s = Session(random_resnet(5), load("test", limit=1), ChipConfig())
    s.run("frame", s.current.layer_start[1] + s.amap.invocations_per_position(1) * 13)  # output 13
    f = s.current_frame()
    assert f.layer_name == "conv1a" and f.place.window == (0, 0) and f.place.position == 13
    view = OutputView()
    view.show_frame(f, Context(s, None))  # type: ignore[arg-type]
    xs, ys = view.now_box.getData()
    gap = 12 + 0.3  # map side + the mosaic's gap never exceeds this: the box of map 0 sits at (1, 1)
    assert min(xs) == 1.0 and min(ys) == 1.0 and max(xs) < 16 * gap
