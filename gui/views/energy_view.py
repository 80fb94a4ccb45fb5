"""Energy and time counters: this invocation, this layer, this image, the session, by component;
throughput efficiency and the saving against named digital baselines. Every figure's tooltip says
where its number comes from (core.energy's tables and their sources)."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from convsram.core import baselines as digital
from convsram.core import energy
from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.views.context import Context
from convsram.gui.views.fit_label import FitLabel
from convsram.gui.views.plotting import Panel, set_font, set_text, spacing

COLUMNS = ("this step", "stage", "image", "session")
COLUMN_TIPS = (
    "Energy of the current step alone: an invocation (one DAC conversion per active row, charge sharing on "
    "the evaluated columns, one ADC conversion per evaluated column), or a digital step (the adds, "
    "multiplies and compares of a tile sum, a requantisation, a pool, an add: the digital periphery is "
    "booked on the step that does it)",
    "Energy of the current stage (a layer's invocations, or one of the digital steps) for this image, "
    "from its first step up to this one",
    "Energy of this image from its first step up to this one",
    "Every image completed in this session, plus this image so far, plus the one-time weight write",
)


def _sources(*names: str, table: dict[str, energy.Entry] = energy.ENERGY_TABLE) -> str:
    return "\n".join(f"• {n}: {table[n].value:g} {table[n].unit} — {table[n].source}" for n in names)


COMPONENT_TIPS = {
    "dac": "Row DACs: a fixed part per active row plus recharging the row line, C·VDD·ΔV.\n"
           + _sources("dac_fixed", "dac_row_cap"),
    "array": "Array: word-line / steering drive per active row, precharge and share switches per evaluated "
             "column, and recharging the discharged line segments (c_line·VDD·ΔV).\n"
             + _sources("wordline", "column"),
    "adc": "Integrating ADCs: a fixed part per conversion plus one ramp step per code (|code| steps).\n"
           + _sources("adc_fixed", "adc_step"),
    "digital": "Digital periphery off the array: adding tile partial codes, requantising (multiply + add), "
               "max-pool and argmax compares, from the network's op counts.\n"
               + _sources("add", "mult", "compare"),
    "write": "Writing the weights into the array: once when the chip is programmed, and for every image "
             "again when the network is larger than the array and runs in phases (each rewrite booked on "
             "the first invocation after it).\n" + _sources("write_bit"),
}


def _label(text: str, tip: str = "", bold: bool = False, mono: bool = False,
           align: QtCore.Qt.AlignmentFlag = QtCore.Qt.AlignmentFlag.AlignRight, wrap: bool = False
           ) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(text)
    set_font(lab, theme.BASE_PX, bold=bold, mono=mono)
    lab.setWordWrap(wrap)
    lab.setAlignment(align | QtCore.Qt.AlignmentFlag.AlignVCenter)
    if tip:
        lab.setToolTip(tip)
    return lab


class EnergyView(Panel):
    # two dozen figures change every frame: while playing, ten times a second is as fast as anyone reads
    # them (and saves a third of the text painting); each update shows the frame the header shows
    playing_every_s = 0.1

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Energy and time", "", parent, subtitle_lines=0)
        self.set_note("hover a figure for its source", theme.TEXT_DIM)
        grid = QtWidgets.QGridLayout()
        spacing(grid, 3)
        grid.addWidget(_label("", align=QtCore.Qt.AlignmentFlag.AlignLeft), 0, 0)
        for j, (name, tip) in enumerate(zip(COLUMNS, COLUMN_TIPS, strict=True)):
            lab = _label(name, tip, bold=True)
            lab.setStyleSheet(f"color: {theme.TEXT_DIM};")
            grid.addWidget(lab, 0, j + 1)
        self.cells: dict[tuple[str, int], QtWidgets.QLabel] = {}
        rows = [*energy.COMPONENTS, "total"]
        for i, comp in enumerate(rows):
            if comp == "total":
                name, tip, color = "total", "Sum of the components above", theme.TEXT
            else:
                name, tip, color = theme.ENERGY_NAMES[comp], COMPONENT_TIPS[comp], theme.ENERGY_COLORS[comp]
            lab = _label(f"<span style='color:{color}'>■</span> {name}", tip, bold=comp == "total",
                         align=QtCore.Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(lab, i + 1, 0)
            for j in range(len(COLUMNS)):
                cell = _label("-", tip, bold=comp == "total", mono=True)
                grid.addWidget(cell, i + 1, j + 1)
                self.cells[(comp, j)] = cell
        holder = QtWidgets.QWidget()
        holder.setLayout(grid)
        self.add(holder, 0)

        self.time = FitLabel("150 ns per invocation [paper]; its split into phases is [assumed]:\n"
                             + _sources("dac", "share", "sign", "ramp_step", "readout",
                                        table=energy.TIME_TABLE))
        self.efficiency = FitLabel("TOPS/W = 2 ops per multiply-accumulate × MACs / energy (pJ), counting "
                                   "this image's MACs so far (rows × evaluated columns per invocation) and "
                                   "its energy so far without the one-time weight write (with the per-image "
                                   "rewrites of a network run in phases, as eval counts them). The paper "
                                   "reports 28.1 TOPS/W at 7b × 1b [derived from 56.94 pJ per 150 ns "
                                   "invocation].")
        self.add(self.time, 0)
        self.add(self.efficiency, 0)
        self.saving_title = FitLabel(
            "The factor depends on the baseline, so each is named. Both sides do the same work so far: "
            "the same MACs, the same digital periphery, and the same input fetch (one 8 KB SRAM read "
            "per input code the DACs load, charged to the chip as well). Figures at 65 nm [derived: "
            "Horowitz ISSCC 2014 ×2.6]; ranges and the microcontroller baselines: convsram report.",
            bold=True)
        self.add(self.saving_title, 0)
        self.savings: list[FitLabel] = []
        self.baselines = [b for b in digital.BASELINES if b.in_app]
        for b in self.baselines:
            lab = FitLabel(f"{b.name} [{b.precision}]:\n" + "\n".join(f"• {line}" for line in b.describe()))
            self.add(lab, 0)
            self.savings.append(lab)
        self.body.addStretch(1)
        self._macs_cum = np.zeros(0)
        self._codes_cum = np.zeros(0)
        self._ops_per_pj = 0.0
        self._macs_key: tuple | None = None
        self.tops_per_w = 0.0

    def _macs(self, session: Session) -> np.ndarray:
        key = (session.uid, session.generation)
        if key != self._macs_key:
            self._macs_key = key
            each = [(p.rows[1] - p.rows[0]) * len(p.filters) * p.invocation for p in session.places]
            self._macs_cum = np.cumsum(each)
            # input codes the DACs load: a tile's rows, once per position (its chunks share them)
            self._codes_cum = np.cumsum([(p.rows[1] - p.rows[0]) * (p.chunk == 0) * p.invocation
                                         for p in session.places])  # a digital step loads no codes
            work = digital.work_of(session.model)
            total_pj = float(sum(session.digital))
            self._ops_per_pj = work.digital_ops / total_pj if total_pj else 0.0
        return self._macs_cum

    def show_frame(self, frame: Frame, context: Context) -> None:
        session = context.session
        cols = (frame.energy, frame.energy_layer, frame.energy_image, frame.energy_session)
        for j, values in enumerate(cols):
            for comp in energy.COMPONENTS:
                set_text(self.cells[(comp, j)], theme.fmt_energy(values[comp]))
            set_text(self.cells[("total", j)], theme.fmt_energy(sum(values.values())))
        per = energy.invocation_time_ns(session.config)
        now = theme.fmt_time(frame.time_ns)
        count = f"{frame.invocations:,} × {theme.fmt_time(per)}"
        if frame.write_ns:  # a network run in phases: its weight rewrites take time too
            writes = theme.fmt_time(frame.write_ns)
            self.time.set_wordings(f"time {now} this image so far ({count} + {writes} of weight writes)",
                                   f"time {now} so far ({count} + {writes} writes)",
                                   f"time {now} this image so far", f"time {now}")
        else:
            self.time.set_wordings(f"time {now} this image so far ({count})", f"time {now} this image so far",
                                   f"time {now}")
        macs = float(self._macs(session)[frame.index])
        # the image's own energy: a network run in phases rewrites weights for every image (its "write"
        # here); the one-time programming is the session's alone
        chip_pj = sum(frame.energy_image.values())
        self.tops_per_w = energy.tops_per_w(macs, chip_pj)
        stats = session.stats
        done = len(stats.images)
        tops = f"{self.tops_per_w:.1f} TOPS/W so far"
        if done:
            per_image = theme.fmt_energy((sum(stats.energy_pj.values()) - session.write_pj) / done)
            self.efficiency.set_wordings(f"{tops} · {per_image} per image (mean of {done})",
                                         f"{tops} · {per_image}/image ({done})", tops)
        else:
            self.efficiency.set_wordings(f"{tops} · energy per image: once an image completes", tops)
        self.saving_title.set_wordings(f"vs digital, same {macs:,.0f} MACs and input fetch:",
                                       f"vs digital, same {macs:,.0f} MACs + input fetch:",
                                       "vs digital, same work:")
        periphery = frame.energy_image["digital"]
        work = digital.Work(macs=int(macs), input_codes=int(self._codes_cum[frame.index]),
                            digital_ops=int(round(periphery * self._ops_per_pj)))
        # the savings compare DAC + array + ADC (and the periphery) with the baselines, as eval does
        array_pj = sum(v for k, v in frame.energy_image.items() if k not in ("digital", "write"))
        for lab, b in zip(self.savings, self.baselines, strict=True):
            x = digital.saving(b, array_pj, periphery, work)
            verdict = f"<b>{x:.1f}× less</b>" if x >= 1 else f"<b>{1 / x:.1f}× more</b>"
            lab.set_wordings(f"{verdict} than {digital.article(b.name)} {b.name}",
                             f"{verdict} than {digital.article(b.short)} {b.short}")
