"""F1: how the chip works (the signal chain drawn, the charge-sharing equation worked on the frame on
screen), a glossary of the terms on screen, and the keyboard shortcuts, generated from the window's
actions so they never disagree with what the keys do. The words and numbers come from core.narrate."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from convsram import __version__
from convsram.core import narrate
from convsram.core.session import Session
from convsram.gui import theme
from convsram.gui.screen_fit import fit_to_screen
from convsram.gui.views.plotting import set_font

TECHNICAL_KEY = "T"  # the key for technical captions, both windows (gui/captions.py)
CHAIN_URL = "convsram:signal-chain.png"
CHAIN = (  # the signal chain, left to right: (name, what it does, colour)
    ("DAC", "one per row: input code x\n→ voltage drop x · dac_lsb", theme.DAC),
    ("10T bitcell", "weight +1 steers it to P,\n−1 to N", theme.LINE_P),
    ("charge sharing", "each line settles at the\naverage: V_N − V_P", theme.LINE_N),
    ("integrating ADC", "a ramp counts the difference\ninto a code", theme.CODE_OK),
)


def shortcut_rows(actions: dict[str, QtGui.QAction]) -> list[tuple[str, str]]:
    rows = []
    for action in actions.values():
        keys = [k.toString(QtGui.QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        if keys:
            rows.append((" or ".join(keys), action.text().replace("&", "")))
    return rows


def keys_html(rows: Sequence[tuple[str, str]], title: str = "Keyboard shortcuts") -> str:
    key_cell = f"<td style='padding:4px 24px 4px 0; color:{theme.ACCENT}'>"
    text_cell = "<td style='padding:4px 0'>"
    body = "".join(f"<tr>{key_cell}<b>{html.escape(k)}</b></td>{text_cell}{html.escape(t)}</td></tr>"
                   for k, t in rows)
    return f"<h2>{html.escape(title)}</h2><table>{body}</table>"


def shortcuts_html(actions: dict[str, QtGui.QAction]) -> str:
    return (keys_html(shortcut_rows(actions)) +
            "<p>The scrubber under the dashboard moves through the image's invocations (click or drag), "
            "also while paused. Hover the array, the DAC bars or any energy figure for details. "
            f"<b>{TECHNICAL_KEY}</b> switches the captions under the panels between plain words for "
            "visitors and the technical legends (the window remembers which); in demo mode (F5) it does "
            "the same for the demo's captions, and F1 shows this page.</p>")


def chain_picture(width: int = 940) -> QtGui.QImage:
    """The signal chain drawn: DAC -> bitcell steering -> charge sharing -> integrating ADC."""
    scale = width / 940
    img = QtGui.QImage(width, round(150 * scale), QtGui.QImage.Format.Format_ARGB32)
    img.fill(QtGui.QColor(theme.PANEL))
    p = QtGui.QPainter(img)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    box_w, gap, top, box_h = 190 * scale, 56 * scale, 14 * scale, 120 * scale  # 4 boxes, 3 gaps: 938
    for i, (name, what, color) in enumerate(CHAIN):
        x = 10 * scale + i * (box_w + gap)
        rect = QtCore.QRectF(x, top, box_w, box_h)
        p.setPen(QtGui.QPen(QtGui.QColor(color), 3 * scale))
        p.setBrush(QtGui.QColor(theme.BG))
        p.drawRoundedRect(rect, 10 * scale, 10 * scale)
        p.setPen(QtGui.QColor(color))
        f = QtGui.QFont(theme.FONT_FAMILY)
        f.setPixelSize(round(19 * scale))
        f.setBold(True)
        p.setFont(f)
        p.drawText(rect.adjusted(0, 8 * scale, 0, 0), QtCore.Qt.AlignmentFlag.AlignHCenter, name)
        f.setBold(False)
        f.setPixelSize(round(14 * scale))
        p.setFont(f)
        p.setPen(QtGui.QColor(theme.TEXT))
        p.drawText(rect.adjusted(6 * scale, 44 * scale, -6 * scale, 0), QtCore.Qt.AlignmentFlag.AlignHCenter,
                   what)
        if i + 1 < len(CHAIN):  # the arrow to the next stage
            y = top + box_h / 2
            x0, x1 = x + box_w + 6 * scale, x + box_w + gap - 6 * scale
            p.setPen(QtGui.QPen(QtGui.QColor(theme.TEXT_DIM), 3 * scale))
            p.drawLine(QtCore.QPointF(x0, y), QtCore.QPointF(x1, y))
            p.setBrush(QtGui.QColor(theme.TEXT_DIM))
            tip = [QtCore.QPointF(x1, y), QtCore.QPointF(x1 - 12 * scale, y - 7 * scale),
                   QtCore.QPointF(x1 - 12 * scale, y + 7 * scale)]
            p.drawPolygon(QtGui.QPolygonF(tip))
    p.end()
    return img


def worked_for(session: Session) -> narrate.Worked:
    """The equation worked on the session's current frame, for its evaluated column with the largest
    ideal |V_N − V_P| (the clearest example; an all-zero window gives 0 everywhere)."""
    frame = session.current_frame()
    n = len(frame.x)
    slot = int(np.argmax(np.abs(frame.ideal_diff)))
    column = frame.place.columns[slot]
    return narrate.worked(frame, session.chip.weights[:n, column], session.config.dac_lsb, slot)


def chip_html(session: Session | None) -> str:
    """How the chip works, with the equation worked on the current frame (if a session is open)."""
    out = ["<h2>How the chip computes</h2>",
           f"<p><img src='{CHAIN_URL}'></p>",
           "<p>A neural network spends nearly all its energy on multiply-adds: each input times a weight, "
           "summed. A conventional chip fetches every weight from memory and adds in logic. Conv-SRAM "
           "computes <i>inside</i> the memory: the +1/−1 weights stay in the SRAM array and the sums are "
           "done with electric charge on its wires.</p><ol>"
           "<li><b>DAC</b>: each of N rows gets one input (a 7-bit code x) as a voltage drop "
           "x · dac_lsb.</li>"
           "<li><b>Bitcell steering</b>: in every column, each 10T bitcell steers its row's voltage onto "
           "the column's P line (weight +1) or N line (weight −1).</li>"
           "<li><b>Charge sharing</b>: the pieces of each line share their charge, so each line settles at "
           "the average of what it received. Their difference is the weighted sum:</li></ol>"
           f"<p style='font-size:{theme.px(theme.BASE_PX + 6)}px; text-align:center'>"
           "<b>V<sub>N</sub> − V<sub>P</sub> = dac_lsb / N · Σ w·x</b></p>"
           "<ol start='4'><li><b>Integrating ADC</b>: a ramp counts up to the difference and gives a "
           "whole number, the code, which the digital logic passes on to the next layer.</li></ol>"]
    if session is not None:
        try:
            w = worked_for(session)
            frame = session.current_frame()
        except (ValueError, IndexError):
            w = None
        if w is not None:
            mv = 1e3
            name = html.escape(frame.layer_name)
            where = (f"{name}, invocation {frame.invocations:,} of {frame.n_invocations:,}"
                     if frame.place.invocation else
                     f"{name}, a digital step (the array rests), so its last "
                     f"invocation: {html.escape(session.model.layers[frame.place.layer].name)} invocation "
                     f"{frame.place.layer_step + 1:,}")
            out.append(
                f"<h3>Worked on the frame on screen</h3><p>"
                f"{'Your drawing' if session.is_drawing(frame.image) else f'Image {frame.image}'}, "
                f"{where}; array column {w.column} "
                f"(filter {w.filter}), N = {w.n} rows in use, dac_lsb = {w.dac_lsb_v * mv:g} mV:</p>"
                f"<p style='font-size:{theme.px(theme.BASE_PX + 4)}px; text-align:center'>"
                f"Σ w·x = <b>{w.sum_wx:,}</b> &nbsp;→&nbsp; V<sub>N</sub> − V<sub>P</sub> = "
                f"{w.dac_lsb_v * mv:g} mV / {w.n} × {w.sum_wx:,} = <b>{w.ideal_v * mv:.3f} mV</b></p>"
                f"<p>This chip, with its mismatch and noise, measured {w.actual_v * mv:.3f} mV; its ADC "
                f"(1 code = {w.adc_lsb_v * mv:.3f} mV) gave code <b>{w.code}</b>, the ideal chip "
                f"{w.ideal_code}.</p>")
    return "".join(out)


def glossary_html() -> str:
    cell = f"<td style='padding:3px 18px 3px 0; color:{theme.ACCENT}'>"
    rows = "".join(f"<tr>{cell}<b>{html.escape(t)}</b></td>"
                   f"<td style='padding:3px 0'>{html.escape(d)}</td></tr>" for t, d in narrate.GLOSSARY)
    return f"<h2>Glossary</h2><table>{rows}</table>"


class HelpDialog(QtWidgets.QDialog):
    """F1: the chip page (worked on the current frame), the glossary and the keys; modeless."""

    def __init__(self, session: Session | None, keys: Sequence[tuple[str, str]],
                 parent: QtWidgets.QWidget | None = None, keys_note: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("convsram — how the chip works, glossary, keys")
        # its own colours: opened from the demo it would inherit the demo's style (white type) only
        self.setStyleSheet(f"QDialog {{ background: {theme.PANEL}; }} "
                           f"QTextBrowser {{ background: {theme.PANEL}; "
                           f"color: {theme.TEXT}; border: none; }}")
        self.session, self.keys, self.keys_note = session, list(keys), keys_note
        lay = QtWidgets.QVBoxLayout(self)
        self.text = QtWidgets.QTextBrowser()
        set_font(self.text, theme.BASE_PX + 2)
        lay.addWidget(self.text)
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.accept)
        lay.addWidget(close)
        self.resize(theme.px(980), theme.px(800))
        fit_to_screen(self)
        self.worked: narrate.Worked | None = None
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the page on the session's current frame."""
        doc = self.text.document()
        room = self.text.viewport().width() - 60 if self.text.viewport().width() > 200 else theme.px(900)
        doc.addResource(QtGui.QTextDocument.ResourceType.ImageResource, QtCore.QUrl(CHAIN_URL),
                        chain_picture(min(theme.px(900), room)))
        self.worked = None
        if self.session is not None:
            try:
                self.worked = worked_for(self.session)
            except (ValueError, IndexError):
                self.worked = None
        self.text.setHtml(chip_html(self.session) + glossary_html() + keys_html(self.keys) + self.keys_note)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self.refresh()  # the signal chain is drawn to the page's width

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt API)
        self.refresh()  # the frame may have moved since the dialog was built
        super().showEvent(event)


class ShortcutsDialog(HelpDialog):
    """The main window's F1: its actions' keys first, then the chip page and the glossary."""

    def __init__(self, actions: dict[str, QtGui.QAction], parent: QtWidgets.QWidget | None = None,
                 session: Session | None = None) -> None:
        note = shortcuts_html(actions)
        note = note[note.index("</table>") + len("</table>"):]
        super().__init__(session, shortcut_rows(actions), parent, keys_note=note)


ABOUT = (f"<h2>convsram {__version__}</h2>"
         "<p>A live simulation of MIT's Conv-SRAM in-memory-computing macro (A. Biswas and "
         "A. P. Chandrakasan, ISSCC 2018; IEEE JSSC 2019) running binary-weight networks on MNIST: the "
         "shipped LeNet and residual network, or one of your own imported from ONNX.</p>"
         "<p>Every number on screen comes from the simulation. Figures tagged [paper] are published for "
         "the chip, [derived] are arithmetic on published numbers, [assumed] are modelling choices; the "
         "tooltips say which.</p>"
         "<p>MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0.</p>")
