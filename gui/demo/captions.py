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

TECHNICAL: dict[str, str] = {
    "digit": "Input codes x = round(pixel × 127 / 255), 7 b, one per DAC row; the box is the receptive field "
             "of the current invocation's rows.",
    "pad": f"Centred and scaled like MNIST (20×20 box in 28×28, centre of mass at the centre). Refused when "
           f"the ink spans < {classify.MIN_EXTENT:.0%} of the pad, covers > {classify.MAX_INK:.0%} of the "
           f"digit, or the best class score beats the runner-up by < {classify.MIN_MARGIN:g}.",
    "array": "64 × 256 10T bitcells (+1 steers to P, −1 to N); amber: row DAC voltage, bar = drop from the "
             "precharge; lit columns: the filters evaluated in this invocation.",
    "diff": "V_N − V_P = dac_lsb / N · Σ w·x per evaluated column (one per ADC group), mV; white: ideal "
            "chip; "
            "mismatch and kT/C noise make the gap.",
    "codes": "Integrating ADC codes (LSB), ReLU-clipped or signed by layer; green = ideal chip's code, "
             "orange "
             "= differs, red outline = saturated at the largest code.",
    "output": "Requantised feature maps clip(floor(α P + β + ½), 0, 127) of the current layer; fc: class "
              "scores α P + β; the answer is their argmax.",
    "answer": "Prediction = argmax of the fc scores on the final invocation; drawings never count in the "
              "test-set tally.",
    "energy": "",  # filled by the energy view (it names the baseline and its pJ per MAC)
}
