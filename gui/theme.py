"""Colours with a meaning, fonts sized for a screen seen from three metres, and number formatting.

One colour per concept, used in every view: the DAC is amber wherever it appears (rows lit in the
array, the DAC bars, the DAC energy row); the P line is blue and the N line red; an ADC code that
matches the ideal chip is green, one that differs is orange; each layer has its own hue.
"""

from __future__ import annotations

import math

# --- palette ------------------------------------------------------------------------------------
BG = "#0d1017"  # window
PANEL = "#151a23"  # panel background
PANEL_EDGE = "#283040"
PLOT_BG = "#10141c"
TEXT = "#e8ecf2"
TEXT_DIM = "#9aa5b5"
GRID = "#2a3242"
AXIS = "#8b96a8"
ACCENT = "#5ec8ff"

DAC = "#ffb703"  # amber: DAC voltages, rows in use
LINE_P = "#4d9fff"  # P line
LINE_N = "#ff5d6c"  # N line
DIFF_POS = "#46d39a"  # V_N - V_P > 0
DIFF_NEG = "#c77dff"  # V_N - V_P < 0
IDEAL = "#ffffff"  # the ideal chip's value (markers)
CODE_OK = "#46d39a"  # ADC code equals the ideal code
CODE_BAD = "#ff8c1a"  # ADC code differs from the ideal code
SATURATED = "#ff4d4d"  # outside the ADC range
HIST = "#6f8fb8"
CORRECT = "#46d39a"
WRONG = "#ff4d4d"
PREDICTED = "#ffd166"

ENERGY_COLORS = {"dac": DAC, "array": LINE_P, "adc": CODE_OK, "digital": "#b8c0cc", "write": "#ff7eb6"}
ENERGY_NAMES = {"dac": "DAC", "array": "array", "adc": "ADC", "digital": "digital", "write": "weight writes"}

_LAYER_HUES = ("#2ec4b6", "#9d8df1", "#a7c957", "#f4a6c6", "#5ec8ff", "#e9c46a")


def layer_color(index: int) -> str:
    """The hue that marks layer `index` everywhere (array columns, layer strip, scrubber)."""
    return _LAYER_HUES[index % len(_LAYER_HUES)]


def hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def rgba(color: str, alpha: int) -> tuple[int, int, int, int]:
    return (*hex_rgb(color), alpha)


# --- fonts (pixel sizes: the same on every screen density a projector may report) ----------------
FONT_FAMILY = "DejaVu Sans"
BASE_PX = 15
TITLE_PX = 17
TICK_PX = 13
AXIS_LABEL_PX = 14
BIG_PX = 28
HUGE_PX = 64

SCALE = 1.0  # the whole dashboard scales like a slide: 1.0 at 1920x1080


def px(size: float) -> int:
    """A design size (pixels at 1920x1080) at the current scale."""
    return max(1, round(size * SCALE))


def set_scale(scale: float) -> None:
    global SCALE
    SCALE = scale


def stylesheet() -> str:
    """The window's style sheet at the current scale."""
    return f"""
QMainWindow, QWidget#central {{ background: {BG}; }}
QWidget {{ color: {TEXT}; }}
QFrame#panel {{ background: {PANEL}; border: 1px solid {PANEL_EDGE}; border-radius: 6px; }}
QLabel#title {{ font-size: {px(TITLE_PX)}px; font-weight: bold; color: {TEXT}; background: transparent; }}
QLabel#subtitle {{ font-size: {px(TICK_PX)}px; color: {TEXT_DIM}; background: transparent; }}
QLabel {{ background: transparent; }}
QLabel#value {{ font-family: "DejaVu Sans Mono"; }}
QMenuBar {{ background: {PANEL}; color: {TEXT}; font-size: {px(BASE_PX)}px; }}
QMenuBar::item:selected {{ background: {PANEL_EDGE}; }}
QMenu {{ background: {PANEL}; color: {TEXT}; border: 1px solid {PANEL_EDGE}; font-size: {px(BASE_PX)}px; }}
QMenu::item:selected {{ background: #24406a; }}
QStatusBar {{ background: {PANEL}; color: {TEXT_DIM}; font-size: {px(TICK_PX)}px; }}
QStatusBar QLabel {{ color: {TEXT_DIM}; padding: 0 {px(8)}px; font-size: {px(TICK_PX)}px; }}
QToolTip {{ background: #1f2633; color: {TEXT}; border: 1px solid {ACCENT}; font-size: {px(TICK_PX)}px; }}
QPushButton, QToolButton {{ background: #1f2633; border: 1px solid {PANEL_EDGE}; border-radius: 5px;
    padding: {px(4)}px {px(10)}px; color: {TEXT}; font-size: {px(BASE_PX)}px; }}
QPushButton:hover, QToolButton:hover {{ background: #27324a; border-color: {ACCENT}; }}
QPushButton:pressed, QToolButton:pressed {{ background: #2f3d59; }}
QToolButton#play {{ background: #1d4d7a; border-color: {ACCENT}; font-weight: bold;
    font-size: {px(BASE_PX + 2)}px; }}
QSpinBox, QComboBox {{ background: #1f2633; border: 1px solid {PANEL_EDGE}; border-radius: 4px;
    padding: {px(2)}px {px(6)}px; color: {TEXT}; selection-background-color: #24406a;
    font-size: {px(BASE_PX)}px; }}
QComboBox QAbstractItemView {{ background: {PANEL}; color: {TEXT}; selection-background-color: #24406a; }}
QDialog, QMessageBox {{ background: {PANEL}; font-size: {px(BASE_PX)}px; }}
QLabel#transport {{ font-size: {px(BASE_PX)}px; }}
QTextBrowser {{ background: {PANEL}; border: none; }}
QScrollBar:vertical {{ background: {PANEL}; width: {px(12)}px; margin: 0; border: none; }}
QScrollBar:horizontal {{ background: {PANEL}; height: {px(12)}px; margin: 0; border: none; }}
QScrollBar::handle {{ background: {PANEL_EDGE}; border-radius: {px(5)}px; min-height: {px(28)}px;
    min-width: {px(28)}px; }}
QScrollBar::handle:hover {{ background: #3a4760; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: none; background: none; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QLabel#idealBadge {{ background: {IDEAL}; color: {BG}; font-weight: bold; font-size: {px(BASE_PX + 1)}px;
    border-radius: {px(5)}px; padding: {px(3)}px {px(12)}px; }}
"""


# --- number formatting ---------------------------------------------------------------------------
def fmt_energy(pj: float) -> str:
    """pJ with an SI prefix that reads well: 56.9 pJ, 47.3 nJ, 1.25 uJ."""
    if not math.isfinite(pj):
        return "-"
    a = abs(pj)
    for scale, unit in ((1e6, "µJ"), (1e3, "nJ"), (1.0, "pJ")):
        if a >= scale or unit == "pJ":
            v = pj / scale
            return f"{v:.3g} {unit}" if abs(v) < 100 else f"{v:.0f} {unit}"
    return f"{pj:.3g} pJ"  # pragma: no cover


def fmt_time(ns: float) -> str:
    """ns with an SI prefix: 150 ns, 86.4 µs, 1.20 ms."""
    a = abs(ns)
    for scale, unit in ((1e6, "ms"), (1e3, "µs"), (1.0, "ns")):
        if a >= scale or unit == "ns":
            v = ns / scale
            return f"{v:.3g} {unit}" if abs(v) < 100 else f"{v:.0f} {unit}"
    return f"{ns:.3g} ns"  # pragma: no cover
