"""The demo's captions: under every panel a plain one for a visitor, and a technical one for an
engineer, one key (T) away. Each panel is named by its key in the demo window."""

from __future__ import annotations

from convsram.core import classify
from convsram.gui.help import TECHNICAL_KEY

__all__ = ["PLAIN", "TECHNICAL", "TECHNICAL_KEY"]

PLAIN: dict[str, str] = {  # short: the narrow panels hold two lines of about 40 characters
    "digit": "The picture the chip reads. The box: the dots it is using now.",
    "pad": "Draw a digit 0–9, big. The chip reads it when you stop.",
    "array": "The memory: each dot stores a +1 (blue) or −1 (red) weight. Orange rows bring the picture in; "
             "all columns compute at once, inside the memory.",
    "diff": "Each bar: one column's sum, as a tiny voltage. White: a perfect chip.",
    "codes": "Each voltage as a number. Green: as a perfect chip; orange: a bit off.",
    "output": "What the network finds. At the end, a score per digit: the highest wins.",
    "answer": "",  # the answer says it in words already
    "energy": "",  # the saving says it in words already
}

TECHNICAL: dict[str, str] = {  # three lines of small type; the views' own legends show above the plots
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
