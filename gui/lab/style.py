"""Styling shared by the chip lab's widgets: the window style sheet extras (tabs, sliders, check
boxes, docks, progress bars) and building or restyling at the lab window's own scale."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from convsram.gui import theme

DIVERGING_NEG = theme.DIFF_NEG  # below nominal / negative: the same violet as V_N - V_P < 0
DIVERGING_POS = theme.DIFF_POS  # above nominal / positive: the same green as V_N - V_P > 0
THIS_CHIP = theme.PREDICTED  # this chip, wherever it is marked among others (Monte Carlo)
SELECTED = theme.ACCENT  # the selected column


@contextmanager
def scaled(scale: float) -> Iterator[None]:
    """Run a block with theme.SCALE set to `scale` (the lab window scales apart from the dashboard)."""
    before = theme.SCALE
    theme.set_scale(scale)
    try:
        yield
    finally:
        theme.set_scale(before)


def stylesheet() -> str:
    px = theme.px
    return theme.stylesheet() + f"""
QMainWindow#lab, QWidget#labcentral {{ background: {theme.BG}; }}
QTabWidget::pane {{ border: 1px solid {theme.PANEL_EDGE}; background: {theme.BG}; top: -1px; }}
QTabBar::tab {{ background: {theme.PANEL}; color: {theme.TEXT_DIM}; border: 1px solid {theme.PANEL_EDGE};
    padding: {px(6)}px {px(16)}px; font-size: {px(theme.BASE_PX)}px; margin-right: 2px;
    border-top-left-radius: 5px; border-top-right-radius: 5px; }}
QTabBar::tab:selected {{ background: #1f2633; color: {theme.TEXT}; border-bottom-color: {theme.ACCENT}; }}
QDockWidget {{ color: {theme.TEXT}; font-size: {px(theme.BASE_PX)}px; }}
QDockWidget::title {{ background: {theme.PANEL}; padding: {px(4)}px {px(8)}px; }}
QCheckBox, QRadioButton {{ color: {theme.TEXT}; font-size: {px(theme.BASE_PX)}px; spacing: {px(6)}px; }}
QDoubleSpinBox, QLineEdit, QAbstractSpinBox {{ background: #1f2633; border: 1px solid {theme.PANEL_EDGE};
    border-radius: 4px; color: {theme.TEXT}; font-size: {px(theme.BASE_PX)}px;
    selection-background-color: #24406a; }}
QSlider::groove:horizontal {{ height: {px(6)}px; background: #2a3242; border-radius: 3px; }}
QSlider::sub-page:horizontal {{ background: #3d6ea8; border-radius: 3px; }}
QSlider::handle:horizontal {{ background: {theme.TEXT}; border: 1px solid {theme.ACCENT};
    width: {px(14)}px; margin: -{px(5)}px 0; border-radius: {px(7)}px; }}
QSlider:disabled::sub-page:horizontal {{ background: #3a4150; }}
QProgressBar {{ background: #1f2633; border: 1px solid {theme.PANEL_EDGE}; border-radius: 4px;
    color: {theme.TEXT}; text-align: center; font-size: {px(theme.TICK_PX)}px; }}
QProgressBar::chunk {{ background: #3d6ea8; border-radius: 3px; }}
QLabel#section {{ font-size: {px(theme.BASE_PX)}px; font-weight: bold; }}
QLabel#hint {{ color: {theme.TEXT_DIM}; font-size: {px(theme.TICK_PX)}px; }}
QListWidget {{ background: {theme.PANEL}; border: 1px solid {theme.PANEL_EDGE}; color: {theme.TEXT};
    font-size: {px(theme.TICK_PX)}px; }}
QListWidget::item:selected {{ background: #24406a; }}
QToolButton#event {{ padding: {px(3)}px {px(8)}px; }}
QPushButton:checked {{ background: #1d4d7a; border-color: {theme.ACCENT}; font-weight: bold; }}
QScrollArea#knobscroll {{ background: {theme.PANEL}; border: none; }}
QWidget#knobpanel {{ background: {theme.PANEL}; }}
QWidget#knobpanel QLabel {{ color: {theme.TEXT}; }}
QWidget#knobpanel QLabel#hint {{ color: {theme.TEXT_DIM}; }}
"""
