"""'Where we are': image and label, a strip of the network's layers with the current one marked and
its progress, invocation n of m, window position and tile."""

from __future__ import annotations

from typing import cast

from PySide6 import QtCore, QtGui, QtWidgets

from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.views.context import Context
from convsram.gui.views.plotting import font, set_font, set_size, set_text, spacing

OP_BOXES = {  # a weight layer's own digital step: its box title and what it does
    "sum": ("Σ", "digital logic adds each output's partial codes from the row tiles (Σ tiles)"),
    "requant": ("×α", "digital logic requantises each output: α·P + β, rounded, clipped to the next "
                "layer's input codes"),
    "scores": ("×α", "digital logic scales each class's total to its score, α·P + β"),
}
OP_WEIGHT = 0.3  # an op box's width, in stage boxes (not crowded; crowded, a tab in its layer's box)


class LayerStrip(QtWidgets.QWidget):
    """Boxes for the network's stages (input, layers, pools and residual adds, answer); the current
    stage lit, with a bar showing how far it has got. A weight layer's own digital steps are narrow
    boxes right after it: Σ adds its row tiles' codes, ×α requantises (or scales to class scores).
    Clicking a layer's box goes to that layer, a digital step's box (a pool, an add, Σ, ×α) to that
    step."""

    layerClicked = QtCore.Signal(int)
    stageClicked = QtCore.Signal(int)  # a digital step's stage (an index into ImageRun.stage_start)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self._rects: list[tuple[QtCore.QRectF, int | None]] = []
        set_size(self, min_h=54)
        self.boxes: list[tuple[str, str, int | None]] = []  # (title, detail, layer index or None)
        self.current = -1
        self.progress = 0.0
        self.done_through = -1
        self.final = False
        self.stages: list[int | None] = []  # per box: its stage (a layer's or a digital step's), if any
        self.current_stage: int | None = None  # when set, the lit box is the one of this stage
        self.owners: list[int | None] = []  # per box: the weight layer whose colour it wears
        self.tips: list[str] = []  # per box: what it does (the tooltip over it)

    def set_session(self, session: Session) -> None:
        boxes: list[tuple[str, str, int | None]] = [("input", "28×28 digit", None)]
        stages: list[int | None] = [None]
        owners: list[int | None] = [None]
        tips = ["The input: the digit's 28×28 pixels as 7-b codes"]
        graph = session.model.graph
        for st, name in enumerate(session.stage_names()):  # core.mapping.timeline's stages, in order
            layer, _, op = name.partition(".")
            li = graph.index.get(layer)
            if op:
                box, tip = OP_BOXES["scores" if op == "scores" else op]
                boxes.append((box, "", None))
                tips.append(f"{layer}: {tip}")
            else:
                node = graph.by_name[name]
                title, detail = node.describe(graph.in_shapes(node), graph.shapes[name])
                boxes.append((title, detail, li))
                tips.append(f"{name}: {'the array computes' if li is not None else 'digital logic'}")
            stages.append(st)
            owners.append(li)
        boxes.append(("answer", "argmax of 10", None))
        tips.append("The answer: the digit with the highest class score")
        self.boxes, self.stages, self.owners, self.tips = boxes, [*stages, None], [*owners, None], tips
        self.update()

    def is_op(self, i: int) -> bool:
        """Box i is a weight layer's own digital step (drawn narrow, next to its layer)."""
        if len(self.owners) != len(self.boxes):  # boxes set by hand (the demo's simplified strip)
            return False
        return self.owners[i] is not None and self.boxes[i][2] is None

    def set_stage(self, stage: int, progress: float, final: bool) -> None:
        """Light the box of `stage` (a layer's invocations or a digital step)."""
        self.current_stage = stage
        layer = -1
        for (_, _, li), st in zip(self.boxes, self.stages, strict=True):
            if li is not None and st is not None and st <= stage:
                layer = li
        self.set_position(layer, progress, final, force=True)

    def _lit(self, i: int, li: int | None) -> tuple[bool, bool]:
        """(is the current box, is done) for box i."""
        st = self.stages[i] if i < len(self.stages) else None
        if self.current_stage is not None and self.stages:
            if st is not None:
                return st == self.current_stage, st < self.current_stage
            return False, (i == 0) or (self.final and i == len(self.boxes) - 1)
        is_current = li is not None and li == self.current
        past = (li is not None and li < self.current) or (li is None and self._before_current(i)) \
            or (self.final and self.boxes[i][0] == "answer")
        return is_current, past

    def set_position(self, layer: int, progress: float, final: bool, force: bool = False) -> None:
        progress = min(max(progress, 0.0), 1.0)
        if force or (layer, round(progress, 3), final) != (self.current, round(self.progress, 3), self.final):
            self.current, self.progress, self.final = layer, progress, final
            self.update()

    def _geometry(self, w: float, h: float) -> tuple[list[QtCore.QRectF], list[bool], bool, float]:
        """Each box's rectangle, which are a layer's own digital steps, crowded or not, the arrow's
        length. Crowded, a layer's digital steps are tabs in the lower right of its box (the names keep
        their room); otherwise narrow boxes right after it."""
        n = len(self.boxes)
        ops = [self.is_op(i) for i in range(n)]
        crowded = n - sum(ops) > 8  # a deep network: slimmer arrows and digital steps, texts elided to fit
        arrow = theme.px(3 if crowded else 18)  # crowded: a gap, no arrowhead
        if crowded:  # every stage alike; the input and the answer narrower
            weights = [0.5 if i in (0, n - 1) else 1.0 for i in range(n)]
        else:
            # a layer's box the widest; the input and the answer, with little to say, narrower
            weights = [1.45 if li is not None else 0.9 if i in (0, n - 1) else 1.0
                       for i, (_, _, li) in enumerate(self.boxes)]
        weights = [(0.0 if crowded else OP_WEIGHT) if op else wt for wt, op in zip(weights, ops, strict=True)]
        # a layer's own digital steps sit close to it, without an arrow
        close = 0.0 if crowded else theme.px(2)
        gaps = [close if i + 1 < n and ops[i + 1] else arrow for i in range(n - 1)]
        widths = self._widths(w - sum(gaps), weights, ops, crowded)
        rects: list[QtCore.QRectF] = []
        x = 0.0
        layer_rect = QtCore.QRectF()
        tab = 0
        for i in range(n):
            if crowded and ops[i]:
                tab += 1
                m = tab + next((k for k, op in enumerate(ops[i + 1:]) if not op), n - i - 1)  # its tabs
                tw = layer_rect.width() / 3
                rects.append(QtCore.QRectF(layer_rect.right() - (m - tab + 1) * tw, h / 2, tw, h / 2 - 1))
                continue
            bw = widths[i]
            rects.append(QtCore.QRectF(x, 1, bw, h - 2))
            if not ops[i]:
                layer_rect, tab = rects[-1], 0
            x += bw + (gaps[i] if i < n - 1 else 0)
        return rects, ops, crowded, arrow

    def _widths(self, room: float, weights: list[float], ops: list[bool], crowded: bool) -> list[float]:
        """Each box's width: `room` shared by `weights`, but a box narrower than its title (the input
        and the answer, the narrow ones) widened to it, from the others' share, while they have room."""
        metrics = QtGui.QFontMetricsF(self._fonts(crowded)[0])
        need = [0.0 if op else metrics.horizontalAdvance(title) + theme.px(10)
                for (title, _, _), op in zip(self.boxes, ops, strict=True)]
        fixed: dict[int, float] = {}
        while True:
            free = sum(wt for i, wt in enumerate(weights) if i not in fixed)
            unit = max(room - sum(fixed.values()), 0.0) / free if free else 0.0
            short = [i for i, wt in enumerate(weights) if i not in fixed and unit * wt < need[i]]
            if not short or len(fixed) + len(short) >= len(weights):
                return [fixed.get(i, unit * wt) for i, wt in enumerate(weights)]
            fixed.update({i: need[i] for i in short})

    @staticmethod
    def _fonts(crowded: bool) -> tuple[QtGui.QFont, QtGui.QFont]:
        """The title's and the detail's font."""
        return (font(theme.TICK_PX if crowded else theme.BASE_PX, bold=True),
                font(theme.TICK_PX - 2 if crowded else theme.TICK_PX - 1))

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt API)
        if not self.boxes:
            return
        p = QtGui.QPainter(self)
        w, h = self.width(), self.height()
        n = len(self.boxes)
        rects, ops, crowded, arrow = self._geometry(w, h)
        tabs = [crowded and i + 1 < n and ops[i + 1] and not ops[i] for i in range(n)]  # has tabs
        title_f, detail_f = self._fonts(crowded)
        tab_f = font(theme.TICK_PX - 2, bold=True)
        self._rects = []
        for i, (title, detail, li) in enumerate(self.boxes):
            rect = rects[i]
            x, bw = rect.x(), rect.width()
            self._rects.append((rect, li))
            is_current, past = self._lit(i, li)
            owner = li if li is not None else (self.owners[i] if ops[i] else None)
            color = QtGui.QColor(theme.layer_color(owner)) if owner is not None else QtGui.QColor(
                theme.TEXT if is_current else theme.TEXT_DIM)
            fill = QtGui.QColor(theme.PANEL)
            if is_current:
                fill = QtGui.QColor(color)
                fill.setAlpha(60)
            p.setPen(QtGui.QPen(color if (is_current or past) else QtGui.QColor(theme.PANEL_EDGE),
                                2.5 if is_current else 1.2))
            p.setBrush(fill)
            p.drawRoundedRect(rect, 3 if ops[i] else 6, 3 if ops[i] else 6)
            if is_current:
                span = bw / 3 if tabs[i] else bw  # beside the tabs
                bar = QtCore.QRectF(x + 4, rect.bottom() - 7, (span - 8) * self.progress, 4)
                p.fillRect(bar, color)
            p.setPen(QtGui.QColor(theme.TEXT if (is_current or past) else theme.TEXT_DIM))
            elide = QtCore.Qt.TextElideMode.ElideRight
            if ops[i]:
                p.setFont(tab_f if crowded else title_f)
                p.drawText(rect.adjusted(0, 0, 0, -4), QtCore.Qt.AlignmentFlag.AlignCenter, title)
                continue
            p.setFont(title_f)
            title = QtGui.QFontMetricsF(title_f).elidedText(title, elide, bw - 4)
            p.drawText(QtCore.QRectF(x, 3, bw, h / 2), QtCore.Qt.AlignmentFlag.AlignCenter, title)
            if not tabs[i]:
                p.setFont(detail_f)
                p.setPen(QtGui.QColor(theme.TEXT_DIM))
                detail = QtGui.QFontMetricsF(detail_f).elidedText(detail, elide, bw - 4)
                p.drawText(QtCore.QRectF(x, h / 2 - 3, bw, h / 2 - 4), QtCore.Qt.AlignmentFlag.AlignCenter,
                           detail)
            nxt = next((j for j in range(i + 1, n) if not (crowded and ops[j])), None)
            if nxt is not None and not crowded and not ops[nxt]:
                ay = h / 2
                p.setPen(QtGui.QPen(QtGui.QColor(theme.TEXT_DIM), 1.5))
                p.drawLine(QtCore.QPointF(x + bw + 3, ay), QtCore.QPointF(x + bw + arrow - 4, ay))
                p.drawLine(QtCore.QPointF(x + bw + arrow - 9, ay - 4), QtCore.QPointF(x + bw + arrow - 4, ay))
                p.drawLine(QtCore.QPointF(x + bw + arrow - 9, ay + 4), QtCore.QPointF(x + bw + arrow - 4, ay))
        p.end()

    def box_at(self, pos: QtCore.QPointF) -> int | None:
        """The box under `pos`, if any."""
        for i in reversed(range(len(self._rects))):  # a tab lies on its layer's box: the tab first
            if self._rects[i][0].contains(pos):
                return i
        return None

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ToolTip:  # what the box under the pointer does
            he = cast(QtGui.QHelpEvent, event)
            i = self.box_at(QtCore.QPointF(he.pos()))
            if i is not None and len(self.tips) == len(self.boxes):
                QtWidgets.QToolTip.showText(he.globalPos(), self.tips[i], self)
            else:
                QtWidgets.QToolTip.hideText()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt API)
        i = self.box_at(event.position())
        if i is None:
            return
        li = self._rects[i][1]
        st = self.stages[i] if i < len(self.stages) else None
        if li is not None:
            self.layerClicked.emit(li)
        elif st is not None:
            self.stageClicked.emit(st)

    def _before_current(self, i: int) -> bool:
        """A non-layer box (input, pool) counts as done when a later layer is current."""
        for _, _, li in self.boxes[i + 1:]:
            if li is not None:
                return li <= self.current
        return self.final


def _digital_count(frame: Frame) -> str:
    """The header's count on a digital step: of the image's digital steps (its invocations are
    counted apart: every number a count of what it names)."""
    return f"digital step {frame.digital_steps:,} / {frame.n_digital_steps:,}"


def _fit(label: QtWidgets.QLabel, *texts: str) -> None:
    """The first of `texts` that fits the label's width (the last one if none does)."""
    metrics = label.fontMetrics()
    room = label.width() - 2
    set_text(label, next((t for t in texts if metrics.horizontalAdvance(t) <= room), texts[-1]))


class WhereView(QtWidgets.QFrame):
    """The header: where in the data set, the network and the layer we are."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        lay = QtWidgets.QHBoxLayout(self)
        spacing(lay, 18, (12, 6, 12, 6))
        left = QtWidgets.QVBoxLayout()
        left.setSpacing(0)
        self.image = QtWidgets.QLabel()
        set_font(self.image, theme.BIG_PX - 4, bold=True)
        self.label = QtWidgets.QLabel()
        set_font(self.label, theme.BASE_PX)
        self.label.setStyleSheet(f"color: {theme.TEXT_DIM};")
        left.addWidget(self.image)
        left.addWidget(self.label)
        for w in (self.image, self.label):  # fixed columns: new text never moves the layer strip
            set_size(w, fixed_w=340)
        lay.addLayout(left, 0)
        self.strip = LayerStrip()
        lay.addWidget(self.strip, 1)
        right = QtWidgets.QVBoxLayout()
        right.setSpacing(0)
        self.invocation = QtWidgets.QLabel()
        set_font(self.invocation, theme.BIG_PX - 4, bold=True)
        self.invocation.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        self.detail = QtWidgets.QLabel()
        set_font(self.detail, theme.BASE_PX)
        self.detail.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        right.addWidget(self.invocation)
        right.addWidget(self.detail)
        for w in (self.invocation, self.detail):
            set_size(w, fixed_w=560)
        lay.addLayout(right, 0)
        self.setToolTip("Where we are: the image, the network's layers (the lit one is running, its bar "
                        "shows how far), the invocation of the image, the output position and the row tile")

    def set_session(self, session: Session) -> None:
        self.strip.set_session(session)

    def show_frame(self, frame: Frame, context: Context) -> None:
        session = context.session
        p = frame.place
        spec = session.model.layers[p.layer]
        set_text(self.image, f"image #{frame.image}")
        set_text(self.label, f"of {len(session.data):,} MNIST test images · true label {frame.label}")
        run = session.run_image(frame.image)
        step = p.layer_step if p.node is None else p.node_step
        self.strip.set_stage(run.stage_of(frame.index), (step + 1) / frame.layer_frames, frame.final)
        if p.op is not None:
            out = session.model.graph.shapes[spec.name]
            at = f"output (y {p.node_step // out[1]}, x {p.node_step % out[1]})" if len(out) == 3 else \
                f"all {spec.out_channels} outputs"
            set_text(self.invocation, _digital_count(frame))
            head = f"{frame.layer_name} {p.node_step + 1} / {frame.layer_frames} · {at}"
            _fit(self.detail, f"{head} · the array rests", head)
            return
        if p.node is not None:
            node = session.model.graph.by_name[p.node]
            y, x = p.node_window or (0, 0)
            set_text(self.invocation, _digital_count(frame))
            head = (f"{p.node} {p.node_step + 1} / {frame.layer_frames} · window (y {y}, x {x}) · "
                    f"{node.short()}")
            _fit(self.detail, f"{head} · the array rests", head)
            return
        set_text(self.invocation, f"invocation {frame.invocations:,} / {frame.n_invocations:,}")
        r0, r1 = p.rows
        where = f"window (y {p.window[0]}, x {p.window[1]})" if p.window is not None else "fully connected"
        f0, f1 = int(p.filters.min()), int(p.filters.max())
        head = (f"{spec.name} {p.layer_step + 1} / {frame.layer_frames} · {where} · "
                f"tile {p.tile + 1}/{spec.n_tiles}")
        # a long layer's line loses its least telling parts first, never its start (the layer)
        _fit(self.detail, f"{head} (rows {r0}–{r1 - 1}) · filters {f0}–{f1}", f"{head} · filters {f0}–{f1}",
             head)
