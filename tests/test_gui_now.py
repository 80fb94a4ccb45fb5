"""Every view shows the state at the current invocation: the pre-ADC histogram holds the conversions up
to now (the whole layer only dimmed behind, as its subtitle says), the lab shows the class scores as
far as the fc layer has converted them, and the energy ledger, throttled while playing, shows the
header's frame whenever it updates. Playback is driven by a fake clock through the display pacer."""

from __future__ import annotations

import re

import numpy as np
import pytest

from convsram.core import energy
from convsram.gui import theme
from convsram.gui.lab.actions import lab_for
from convsram.gui.transport import LAYER_PER_FRAME
from tests.test_gui_support import header_count

pytest_plugins = ["tests.test_gui_support"]


def go(win, layer: int, step: int) -> None:
    s = win.session
    win.command("frame", s.current.layer_start[layer] + step)
    win.refresh()


def conversions_up_to(s, layer: int, step: int) -> int:
    run = s.current
    return sum(len(s.frame_at(index=k).codes) for k in range(run.layer_start[layer],
                                                            run.layer_start[layer] + step + 1))


@pytest.mark.parametrize("layer,step", [(0, 0), (1, 0), (1, 40), (2, 1)])
def test_histogram_holds_the_conversions_up_to_now(window, layer, step):
    go(window, layer, step)
    s, h = window.session, window.hist_view
    assert h.counts_now.sum() == conversions_up_to(s, layer, step)
    assert h.counts.sum() == s.current.pre_adc(layer).size > h.counts_now.sum()
    assert "up to now" in h.subtitle.text() and "all" in h.subtitle.text()
    x, _ = h.current.getData()  # and "now" is marked
    assert x is not None and len(x) == 2 * len(window.frame.codes)


def test_histogram_counts_up_to_each_invocation_are_those_invocations_conversions(window):
    """The per-invocation cumulative counts (built a record at a time) equal each invocation's own
    conversions binned one by one."""
    from convsram.gui.views.layer_stats import _histogram

    s = window.session
    h = _histogram(s, s.image, 1)
    edges = np.concatenate([h.centres - h.width / 2, [h.centres[-1] + h.width / 2]])
    run = s.run_image(s.image)
    total = np.zeros(h.counts.size, dtype=np.int64)
    for step, k in enumerate(range(run.layer_start[1], run.layer_end(1))):
        p = run.places[k]
        rec = run.records[(p.layer, p.tile, p.chunk)]
        bins = np.clip(np.searchsorted(edges, rec.diff[p.position] / rec.adc_lsb, side="right") - 1, 0,
                       h.counts.size - 1)
        total += np.bincount(bins, minlength=h.counts.size)
        np.testing.assert_array_equal(h.cumulative[step + 1], total)
    np.testing.assert_array_equal(h.cumulative[-1], h.counts)


def test_histogram_bars_up_to_now_are_drawn(window):
    go(window, 1, 0)
    bars = window.hist_view.so_far.opts
    assert len(bars["x"]) == int((window.hist_view.counts_now > 0).sum()) > 0


@pytest.fixture
def lab(window):
    window.do("chip_lab")
    lab = lab_for(window)
    yield lab
    lab.shutdown()
    lab.close()


def test_lab_shows_class_scores_only_as_far_as_converted(window, lab):
    s = window.session
    view = lab.select("compare")
    go(window, 0, 0)
    lab.refresh()
    assert np.isnan(view.scores).all()  # conv1, invocation 1: no class score exists yet
    note = re.sub("<[^>]+>", "", view.scores_panel.note.text())
    assert "says" not in note and "not yet" in re.sub("<[^>]+>", "", view.summary.text())
    fc = len(s.model.layers) - 1
    go(window, fc, 0)
    lab.refresh()
    np.testing.assert_array_equal(view.scores, s.partial_scores(window.frame))
    if s.model.layers[fc].n_tiles > 1:  # the first of the fc layer's row tiles: not the final scores
        assert not np.array_equal(view.scores, s.current.scores)
    window.command("last")
    window.refresh()
    lab.refresh()
    np.testing.assert_array_equal(view.scores, s.current.scores)
    assert "says" in re.sub("<[^>]+>", "", view.scores_panel.note.text())


def test_lab_follows_the_session_through_the_pacer(window, lab):
    """No hand-called refresh: the session moves, the pacer ticks, the lab's update shows that frame."""
    s = window.session
    view = lab.select("compare")
    window.pacer.timer.stop()
    window.command("frame", s.current.layer_start[len(s.model.layers) - 1])
    window.pacer.tick(1.0)  # the dashboard's tick
    window.pacer.tick(1.016)  # the dashboard repaints
    window.pacer.tick(1.032)  # the lab's own
    np.testing.assert_array_equal(view.scores, s.partial_scores(s.current_frame()))


def test_the_lab_and_the_dashboard_never_render_on_the_same_tick(window, lab):
    """Each window's update (and the repaint after it) on a tick of its own: the dashboard first, the
    lab a tick later (one tick between lets the dashboard's repaint through); while playing, the lab
    takes a tick now and then (its view's interval) and the dashboard the others, so the two never
    stall the event loop back to back."""
    renders: list[tuple[int, str]] = []
    tick = {"k": 0}
    window.rendered.connect(lambda: renders.append((tick["k"], "main")))
    lab.updated.connect(lambda: renders.append((tick["k"], "lab")))
    lab.select("compare")
    window.pacer.timer.stop()
    window.command("step", 5)
    for k in range(3):
        tick["k"] = k
        window.pacer.tick(2.0 + 0.016 * k)
    assert renders == [(0, "main"), (2, "lab")]
    renders.clear()
    window.player.set_speed(100)
    window.player.set_playing(True)
    for k in range(3, 3 + 120):  # ~1.9 s of play
        tick["k"] = k
        window.pacer.tick(2.0 + 0.016 * k)
    window.player.set_playing(False)
    ticks = [k for k, _ in renders]
    assert len(ticks) == len(set(ticks))  # never both on one tick
    # nor on adjacent ticks: the dashboard's repaint goes through first
    assert all(b - a >= 2 for (a, _), (b, y) in zip(renders, renders[1:], strict=False) if y == "lab")
    labs = [k for k, who in renders if who == "lab"]
    assert len(labs) >= 8  # compare updates every 150 ms while playing: ~12 in 1.9 s
    # the dashboard renders on every other tick (each frame's signal plots on the next: FrameSplit) and
    # gives up a few to the lab
    assert sum(who == "main" for _, who in renders) >= 40


def test_while_playing_the_lab_draws_compare_in_two_parts_on_ticks_of_their_own(window, lab):
    """The compare view's signal panels on the lab's tick, its maps, scores and summary on the next
    (each part's repaint stalls the event loop alone; the dashboard renders on neither); paused, a lab
    update draws both parts at once."""
    events: list[tuple[int, str]] = []
    tick = {"k": 0}
    view = lab.select("compare")
    show_summary = view._show_summary
    view._show_summary = lambda *a: (events.append((tick["k"], "summary")), show_summary(*a))[1]
    window.rendered.connect(lambda: events.append((tick["k"], "main")))
    lab.updated.connect(lambda: events.append((tick["k"], "lab")))
    window.pacer.timer.stop()
    window.player.set_speed(100)
    window.player.set_playing(True)
    for k in range(60):
        tick["k"] = k
        window.pacer.tick(3.0 + 0.016 * k)
    window.player.set_playing(False)
    labs = [k for k, who in events if who == "lab"]
    summaries = [k for k, who in events if who == "summary"]
    mains = {k for k, who in events if who == "main"}
    assert len(labs) >= 3 and summaries[:len(labs)] == [k + 1 for k in labs][:len(summaries)]
    assert not mains & (set(labs) | set(summaries))
    events.clear()
    lab.refresh()  # paused: the whole view at once
    assert [who for _, who in events] == ["summary", "lab"]


def ledger(win) -> dict:
    return {(c, j): win.energy_view.cells[(c, j)].text() for c in energy.COMPONENTS for j in range(4)}


def expected_ledger(frame) -> dict:
    cols = (frame.energy, frame.energy_layer, frame.energy_image, frame.energy_session)
    return {(c, j): theme.fmt_energy(v[c]) for j, v in enumerate(cols) for c in energy.COMPONENTS}


def test_energy_ledger_shows_the_headers_frame_at_each_update(window):
    s = window.session
    window.pacer.timer.stop()
    window.transport.set_speed(500)
    window.player.set_speed(500)
    now = 10.0
    window.player.set_playing(True)
    updates = 0
    before = ledger(window)
    for _ in range(60):
        now += 0.016
        window.pacer.tick(now)
        f = window.frame
        assert window.where.invocation.text() == header_count(window.session, f)
        shown = ledger(window)
        if shown != before:  # the ledger updated: to the header's frame, not an older one
            updates += 1
            assert shown == expected_ledger(f)
        before = shown
    assert updates >= 5  # throttled (about every 0.1 s of play), but it does follow
    window.player.set_playing(False)
    window.pacer.tick(now + 0.016)
    assert ledger(window) == expected_ledger(s.current_frame())  # paused: exactly the header's frame


def test_a_view_added_to_the_list_gets_every_frame(window):
    """One protocol, one registration: an object with show_frame(frame, context) in `views` is shown
    the session's current frame with the context of its layer."""
    seen = []

    class Probe:
        def show_frame(self, frame, context):
            seen.append((frame, context))

    window.views.append(Probe())
    window.pacer.timer.stop()
    window.command("step", 3)
    window.pacer.tick(1.0)
    frame, context = seen[-1]
    assert frame is window.session.current_frame() and context.session is window.session
    assert context.stats.histogram.counts.sum() == window.session.current.pre_adc(frame.place.layer).size


def test_layer_per_frame_playback_is_clock_driven(window):
    window.pacer.timer.stop()
    window.transport.set_speed(LAYER_PER_FRAME)
    window.player.set_speed(LAYER_PER_FRAME)
    window.player.set_playing(True)
    stages: list[str] = []
    ticks = 0
    while not window.frame.final:  # the layers and the digital steps
        window.pacer.tick(5.0 + 0.016 * ticks)
        ticks += 1
        if not stages or stages[-1] != window.frame.layer_name:
            stages.append(window.frame.layer_name)
        assert ticks < 100
    # every stage's last frame in turn: the layers and the digital steps (their own, then the pools),
    # each drawn over three ticks (a new stage repaints every plot: spread, see FrameSplit)
    assert stages == ["conv1", "conv1.requant", "pool1", "conv2", "conv2.sum", "conv2.requant", "pool2", "fc",
                      "fc.sum", "fc.scores"]
    assert ticks == 2 + 3 * (len(stages) - 2) + 1  # the first frame moves within conv1 (two ticks: its
    # signal plots on the second); the last has just started drawing fc.scores: its next two ticks draw
    # the rest, without moving on
    shown = window.session.frame
    for k in range(2):
        window.pacer.tick(6.0 + 0.016 * k)
        assert window.session.frame == shown


def test_a_new_stage_while_playing_is_drawn_over_three_ticks_and_pausing_shows_it_whole(window):
    """Playing into a new layer repaints every plot: the frame is drawn in three parts on three ticks
    (each part's repaint then stalls the event loop alone), playback waiting meanwhile; within a layer
    in two (the signal plots on the second tick); a frame drawn on demand, paused, at once; pausing
    draws what waits at once."""
    s = window.session
    window.pacer.timer.stop()
    drawn: list[str] = []
    def noted(view):
        show, name = view.show_frame, type(view).__name__

        def show_frame(frame, context):
            drawn.append(name)
            show(frame, context)
        return show_frame

    for view in window.views:
        view.show_frame = noted(view)
    names = {type(v).__name__ for v in window.views}
    signals = {"LinesView", "DiffView", "CodesView", "HistogramView"}
    middle = {"ArrayView", "OutputView", "ResultView", "EnergyView"}
    conv2 = s.current.layer_start[1]
    window.command("frame", conv2 - 3)
    window.refresh()
    window.player.set_speed(64)  # one step a tick at 1/64 s
    window.player.set_playing(True)
    now = 10.0
    seen, frames = [], []
    for _ in range(12):
        drawn.clear()
        window.pacer.tick(now)
        now += 1 / 64
        seen.append(set(drawn))
        frames.append(s.frame)
    # the tick that entered a new stage (conv2) drew the first part only
    k = frames.index(conv2)
    assert seen[k] == names - signals - middle
    assert seen[k + 1] == middle and seen[k + 2] == signals
    assert frames[k] == frames[k + 1] == frames[k + 2]  # playback waits while the frame is drawn
    # within a stage: every view but the signal plots, then those on the next tick
    window.command("frame", conv2 + 10)
    window.refresh()
    window.split.flush(window._show)
    throttled = {"EnergyView"}  # a ledger updates only every so often while playing
    for _ in range(2):
        drawn.clear()
        now += 1 / 64
        window.pacer.tick(now)
        if set(drawn) - throttled == names - signals - throttled:
            break
    assert set(drawn) - throttled == names - signals - throttled
    drawn.clear()
    window.pacer.tick(now + 1 / 64)
    assert set(drawn) == signals
    # paused, a frame drawn on demand: every view at once
    window.player.set_playing(False)
    window.command("frame", conv2 + 20)
    drawn.clear()
    window.refresh()
    assert set(drawn) == names
    window.player.set_playing(True)
    # a new stage, then a pause before its parts are drawn: the whole frame shows at once
    drawn.clear()
    window.command("frame", s.current.layer_start[2] - 1)
    window.refresh()
    assert not (set(drawn) & (signals | middle))
    drawn.clear()
    window.player.set_playing(False)
    assert set(drawn) - throttled == (middle | signals) - throttled


def test_a_knob_drags_new_chip_is_drawn_in_two_parts_and_a_single_change_at_once(window):
    """Dragging a knob redraws every view for each new chip: that redraw is split like a playing frame
    (the signal plots on the next tick); a knob set once (no drag) redraws everything at once."""
    import dataclasses

    s = window.session
    window.pacer.timer.stop()
    drawn: list[str] = []
    for view in window.views:
        show = view.show_frame

        def show_frame(frame, context, show=show, name=view.__class__.__name__):
            drawn.append(name)
            show(frame, context)
        view.show_frame = show_frame
    signals = {"LinesView", "DiffView", "CodesView", "HistogramView"}
    for k, dragged in enumerate((True, False)):
        s.set_chip(config=dataclasses.replace(s.config, cap_mismatch_sigma=s.config.cap_mismatch_sigma * 1.5))
        drawn.clear()
        window.chip_changed(spread_axes=dragged)
        assert bool(set(drawn) & signals) != dragged
        drawn.clear()
        window.pacer.tick(10.0 + k)
        assert (set(drawn) == signals) == dragged
