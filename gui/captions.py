"""Captions under the panels of the demo and of the main window: a plain one for a visitor and a
technical one for an engineer, one key (T) away. Each panel is named by a key; a window captions the
panels it shows (the demo has the drawing pad, the main window the line pair and the pre-ADC values),
and a panel both windows show reads the same plain words in both. The demo's technical captions are
TECHNICAL; the main window's are its views' own legends (PanelCaptions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6 import QtCore, QtWidgets

from convsram.core import classify
from convsram.gui import theme
from convsram.gui.help import TECHNICAL_KEY
from convsram.gui.views.plotting import Panel, caption_lines, set_font

__all__ = ["PLAIN", "TECHNICAL", "TECHNICAL_KEY", "PanelCaptions"]

PLAIN: dict[str, str] = {  # short: the narrow panels hold two lines of about 40 characters
    "digit": "The picture the chip reads. The box: the dots it is using now.",
    "pad": "Draw a digit 0–9, big. The chip reads it when you stop.",
    "array": "The memory: each dot stores a weight, +1 (bright) or −1 (dark). Orange rows bring the picture "
             "in; the lit columns all compute at once, inside the memory.",
    "lines": "Each column has two wires; blue dots: the + wire, red: the − wire, once the charges mix. "
             "Their gap is the column's sum.",
    "diff": "Each bar: one column's sum, as a tiny voltage. White: a perfect chip.",
    "codes": "Each voltage as a number. Green: as a perfect chip; orange: a bit off.",
    "hist": "How often each sum came out in this layer; orange: the sums now. The ADC counts between "
            "the red dashes.",
    "output": "What the network finds. At the end, a score per digit: the highest wins.",
    "answer": "",  # the answer says it in words already
    "energy": "",  # the saving says it in words already
}

TECHNICAL: dict[str, str] = {  # a few lines of small type; the views' own legends show above the plots
    "digit": "Input codes x = round(pixel · 127 / 255), one per DAC row; box: the current receptive field.",
    "pad": f"MNIST-style: 20×20 box, centre of mass centred. Refused: ink spans < {classify.MIN_EXTENT:.0%}, "
           f"covers > {classify.MAX_INK:.0%}, or score margin < {classify.MIN_MARGIN:g}.",
    "array": "64 × 256 10T bitcells (+1 steers to P, −1 to N); amber: row DAC voltage, bar = drop from the "
             "precharge; lit columns: this invocation's filters.",
    "diff": "V_N − V_P = dac_lsb / N · Σ w·x per evaluated column, mV; white: ideal chip; mismatch and kT/C "
            "noise make the gap.",
    "codes": "Integrating ADC codes (LSB); green = ideal chip's code, orange = differs, red outline = "
             "saturated.",
    "output": "Feature maps clip(floor(α P + β + ½), 0, 127); fc: class scores α P + β, answer = argmax.",
    "answer": "",  # the answer panel speaks for itself
    "energy": "",  # its bar and legend are the technical part; what both sides are charged: the tooltip
}


class PanelCaptions:
    """A plain caption at the foot of each panel given (keys of PLAIN) or, one key away, the views' own
    legends: the main window's technical captions, which carry the live figures (1 ADC code in mV, the
    kT/C sigma, the maps' code range) beside the colour keys. The plain captions say what the colours
    mean, so the legends hide with them shown, and the plots keep their height either way."""

    def __init__(self, panels: Mapping[str, Panel], legends: Sequence[QtWidgets.QWidget]) -> None:
        self.panels, self.legends = dict(panels), list(legends)
        self.labels: dict[str, QtWidgets.QLabel] = {}
        ignored, fixed = QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed
        for key, panel in self.panels.items():
            label = QtWidgets.QLabel(PLAIN[key])
            label.setObjectName("caption")
            label.setWordWrap(True)
            label.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
            label.setSizePolicy(ignored, fixed)
            set_font(label, theme.BASE_PX)
            caption_lines(label, 2, theme.BASE_PX)
            panel.add(label, 0)
            self.labels[key] = label
        self.technical = False
        self.set_technical(False)

    def set_technical(self, on: bool) -> None:
        """The views' technical legends, or the plain captions."""
        self.technical = on
        for label in self.labels.values():
            label.setVisible(not on and bool(label.text()))
        for legend in self.legends:
            legend.setVisible(on)
