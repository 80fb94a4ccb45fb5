"""The input side of the current invocation: the digit with the receptive field outlined, and the
layer's own input (the window's codes for the first layer, the input feature maps for deeper ones)
with the cells on the active rows lit in the DAC colour."""

from __future__ import annotations

import numpy as np
from PySide6 import QtWidgets

from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.views import colormaps
from convsram.gui.views.context import Context
from convsram.gui.views.digital_table import DigitalTable
from convsram.gui.views.map_grid import MapGrid
from convsram.gui.views.mosaic import GAP, cell_rects, mosaic
from convsram.gui.views.plotting import NumberGrid, Panel, Segments, caption_lines, make_image_plot

MOSAIC_ASPECT = 0.8  # the input panel is taller than wide
TABLE_EVERY_S = 0.1  # while playing, the digital-step table redraws at most this often (see _table_due)


class InputView(Panel):
    """Digit (top) and the layer input (bottom)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Input", "", parent, subtitle_lines=0)
        self.digit_caption = QtWidgets.QLabel()
        self.digit_caption.setObjectName("subtitle")
        self.digit_caption.setWordWrap(True)
        caption_lines(self.digit_caption, 2)
        self.add(self.digit_caption, 0)
        self.digit_plot, self.digit = make_image_plot()
        self.digit.setLookupTable(colormaps.grey_lut())
        self.field = Segments(theme.DAC, width=3)
        self.digit_plot.getPlotItem().addItem(self.field)
        self.add(self.digit_plot, 5)

        self.layer_caption = QtWidgets.QLabel()
        self.layer_caption.setObjectName("subtitle")
        self.layer_caption.setWordWrap(True)
        caption_lines(self.layer_caption, 3)
        self.add(self.layer_caption, 0)
        self.maps_plot, self.maps = make_image_plot()
        self.window_box = Segments(theme.IDEAL, width=1, alpha=150)
        self.active = Segments(theme.DAC, width=2)
        mp = self.maps_plot.getPlotItem()
        mp.addItem(self.window_box)
        mp.addItem(self.active)
        self.numbers = NumberGrid()
        mp.addItem(self.numbers)
        self.grid = MapGrid(self.maps_plot, MOSAIC_ASPECT, self._regrid)  # the grid follows the plot's shape
        self._last: tuple[Frame, Context] | None = None  # the frame on screen, for a re-layout
        self.table = DigitalTable()  # a layer's own digital step (tile sum, requantisation) instead
        # one place for the two: switching pages re-lays out nothing (a hide/show pair re-laid out the
        # panel, ~17 ms at each stage change of fast playback)
        self.pages = QtWidgets.QStackedWidget()
        self.pages.addWidget(self.maps_plot)
        self.pages.addWidget(self.table)
        self.add(self.pages, 6)
        self._digit_key: tuple | None = None
        self._maps_key: tuple | None = None
        self._cols = 1
        self.field_rect: tuple[int, int, int, int] = (0, 0, 0, 0)
        self._table_at = -1e9  # when the digital step's table was last drawn (context.now, s)

    def _regrid(self) -> None:
        """After a resize that makes another grid better: the frame on screen laid out again."""
        if self._last is not None:
            self._maps_key = None
            self.show_frame(*self._last)

    def show_frame(self, frame: Frame, context: Context) -> None:
        self._last = (frame, context)
        session = context.session
        self._show_digit(frame, session)
        op = frame.place.op is not None
        page = self.table if op else self.maps_plot
        if self.pages.currentWidget() is not page:  # swap only on entering or leaving such a stage
            self.pages.setCurrentWidget(page)
        if op:
            if not self._table_due(frame, context):
                return
            self._show_layer_op(frame, session)
            return
        self.table.clear_values()
        if frame.place.node is not None:
            self._show_step(frame, session)
        elif session.takes_image(frame.place.layer) and frame.place.window is not None:
            self._show_window(frame, session)
        else:
            self._show_maps(frame, session)

    def _table_due(self, frame: Frame, context: Context) -> bool:
        """While playing, the digital step's table (a rich-text table: ~10 ms to lay out and paint) is
        redrawn at most every TABLE_EVERY_S, always on the step's first and last positions; paused, always
        (the pacer renders the frame again when playback stops)."""
        last = len(context.session.amap.windows[frame.place.layer]) - 1
        if context.playing and 0 < frame.place.node_step < last \
                and 0.0 <= context.now - self._table_at < TABLE_EVERY_S:
            return False
        self._table_at = context.now
        return True

    # --- the digit ----------------------------------------------------------------------------------
    def _show_digit(self, frame: Frame, session: Session) -> None:
        key = (frame.image, session.generation)
        if key != self._digit_key:
            self._digit_key = key
            codes = session.run_image(frame.image).codes_in
            self.digit.setImage(colormaps.to_index(codes, session.config.max_input), levels=(0, 255),
                                autoLevels=False)
            h, w = codes.shape
            p = self.digit_plot.getPlotItem()
            p.setRange(xRange=(-0.3, w + 0.3), yRange=(-0.3, h + 0.3), padding=0)
        y0, y1, x0, x1 = session.receptive_field(frame)
        self.field_rect = (y0, y1, x0, x1)
        self.field.set_rects(np.array([x0]), np.array([y0]), x1 - x0, y1 - y0)
        first = frame.place.layer == 0
        what = "the window on the DAC rows" if first else "pixels the active rows depend on"
        text = (f"MNIST test image #{frame.image} (28×28, {session.config.input_bits}-b codes) · "
                f"<span style='color:{theme.DAC}'>□</span> {what}")
        if self.digit_caption.text() != text:
            self.digit_caption.setText(text)

    # --- first layer: the window's codes -----------------------------------------------------------
    def _show_window(self, frame: Frame, session: Session) -> None:
        spec = session.model.layers[frame.place.layer]
        k = spec.kernel_shape(session.shapes[frame.place.layer]["source"])[0]
        y, x = frame.place.window or (0, 0)
        layer_in = np.pad(session.layer_input(frame.place.layer, frame.image), k)  # padding reads code 0
        patch = layer_in[y + k:y + 2 * k, x + k:x + 2 * k].astype(float)
        key = ("window", k)
        if key != self._maps_key:
            self._maps_key = key
            self.grid.clear()  # one window of numbers, no grid of maps
            p = self.maps_plot.getPlotItem()
            p.setRange(xRange=(-0.3, k + 0.3), yRange=(-0.3, k + 0.3), padding=0)
            self.maps.setLookupTable(colormaps.grey_lut())
            self.window_box.clear_segments()
            self.active.set_rects(np.array([0.0]), np.array([0.0]), float(k), float(k))
        self.maps.setImage(colormaps.to_index(patch, session.config.max_input), levels=(0, 255),
                           autoLevels=False)
        self.numbers.set_values(patch.astype(int), patch > session.config.max_input * 0.55)
        caption = (f"{spec.name} input window {k}×{k} at (y, x) = ({y}, {x}): these {k * k} codes drive "
                   f"DAC rows 0–{k * k - 1}")
        if self.layer_caption.text() != caption:
            self.layer_caption.setText(caption)

    # --- a weight layer's own digital step: its numbers at this output position ----------------------
    def _show_layer_op(self, frame: Frame, session: Session) -> None:
        v = session.layer_op_values(frame)
        self.table.show_values(v)
        spec = session.model.layers[frame.place.layer]
        out = session.model.graph.shapes[spec.name]
        at = f"output ({v.position // out[1]}, {v.position % out[1]})" if len(out) == 3 else "the output"
        tiles = len(v.tiles)
        if v.op == "sum":
            caption = (f"{spec.name} tile sums at {at}: each {'class' if v.output else 'filter'}'s {tiles} "
                       f"partial codes (one per row tile, from its column's ADC) add up to its total P")
        elif v.output:
            caption = f"{spec.name} class scores: each class's total P scaled, α·P + β; the largest wins"
        else:
            caption = (f"{spec.name} requantisation at {at}: α·P + β, rounded to a whole number, clipped to "
                       f"0…{v.max_code}: the next layer's input codes")
        if self.layer_caption.text() != caption:
            self.layer_caption.setText(caption)

    # --- a digital step (a pool, an add): its input maps, its window, the cells that win -------------
    def _show_step(self, frame: Frame, session: Session) -> None:
        name = frame.place.node
        assert name is not None
        node = session.model.graph.by_name[name]
        layer_in, _ = session.node_maps(frame)
        h, w, c = layer_in.shape
        cols = self.grid.best(h, w, c)
        key = ("step", name, frame.image, session.generation, cols)
        if key != self._maps_key:
            self._maps_key = key
            self.numbers.set_values(np.zeros((0, 0)), np.zeros((0, 0)))
            self._cols = cols
            self.maps.setLookupTable(colormaps.grey_lut())
            img = colormaps.to_index(mosaic(layer_in, self._cols), session.config.max_input)
            self.maps.setImage(img, levels=(0, 255), autoLevels=False)
            x_range, y_range = self.grid.lay_out(h, w, c, cols)
            self.maps_plot.getPlotItem().setRange(xRange=x_range, yRange=y_range, padding=0)
        y, x = frame.place.node_window or (0, 0)
        k = node.window_size()
        cells = node.step_cells(layer_in, (y, x))
        xs, ys = cell_rects(cells, self._cols)
        self.active.set_rects(xs, ys, 1.0, 1.0)
        gy, gx = np.divmod(np.arange(c), self._cols)
        self.window_box.set_rects(gx * (w + GAP) + x, gy * (h + GAP) + y, float(k), float(k))
        first = layer_in[y:y + k, x:x + k, 0].astype(int).ravel()
        won = layer_in[..., 0][cells[..., 0]].astype(int)
        values = ", ".join(map(str, first))
        others = [i for i in node.inputs[1:]]
        what = (f"map 0: {values} → {int(won[0])}" if len(won) == 1 and k > 1 else
                f"map 0: {values} → {node.short()}" if k > 1 else
                f"adds {', '.join(others)} at the same place" if others else node.short())
        caption = (f"{name} input: {c} maps {h}×{w} ({node.inputs[0]} output) · white: the {k}×{k} window at "
                   f"({y}, {x}) · <span style='color:{theme.DAC}'>■</span> what makes the output · {what}")
        if self.layer_caption.text() != caption:
            self.layer_caption.setText(caption)

    # --- deeper layers: the input maps ---------------------------------------------------------------
    def _show_maps(self, frame: Frame, session: Session) -> None:
        layer = frame.place.layer
        spec = session.model.layers[layer]
        layer_in = session.layer_input(layer, frame.image)
        if layer_in.ndim == 1:  # pragma: no cover - fc after fc is not an architecture we build
            layer_in = layer_in[None, None, :]
        h, w, c = layer_in.shape
        cols = self.grid.best(h, w, c)
        key = ("maps", layer, frame.image, session.generation, cols)
        if key != self._maps_key:
            self._maps_key = key
            self.numbers.set_values(np.zeros((0, 0)), np.zeros((0, 0)))
            self._cols = cols
            self.maps.setLookupTable(colormaps.grey_lut())
            img = colormaps.to_index(mosaic(layer_in.astype(float), self._cols), session.config.max_input)
            self.maps.setImage(img, levels=(0, 255), autoLevels=False)
            x_range, y_range = self.grid.lay_out(h, w, c, cols)
            self.maps_plot.getPlotItem().setRange(xRange=x_range, yRange=y_range, padding=0)
        mask = session.active_inputs(frame)
        xs, ys = cell_rects(mask, self._cols)
        self.active.set_rects(xs, ys, 1.0, 1.0)
        prev = session.model.graph.layer_source(layer)
        if frame.place.window is not None:
            k = spec.kernel_shape(session.shapes[layer]["source"])[0]
            y, x = frame.place.window
            gy, gx = np.divmod(np.arange(c), self._cols)
            self.window_box.set_rects(gx * (w + GAP) + x, gy * (h + GAP) + y, float(k), float(k))
            caption = (f"{spec.name} input: {c} maps {h}×{w} ({prev} output) · white: {k}×{k} window "
                       f"at ({y}, {x}) · <span style='color:{theme.DAC}'>■</span> the {int(mask.sum())} "
                       f"inputs of tile {frame.place.tile + 1}/{spec.n_tiles} on the DAC rows")
        else:
            self.window_box.clear_segments()
            r0, r1 = frame.place.rows
            caption = (f"{spec.name} input: {c} maps {h}×{w} ({prev} output), flattened to "
                       f"{h * w * c} · <span style='color:{theme.DAC}'>■</span> inputs {r0}–{r1 - 1} of "
                       f"tile {frame.place.tile + 1}/{spec.n_tiles} on the DAC rows")
        if self.layer_caption.text() != caption:
            self.layer_caption.setText(caption)

