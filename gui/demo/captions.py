"""The demo's captions: the windows' shared ones (gui/captions.py), so a panel both windows show reads
the same words in both. Each panel is named by its key in the demo window."""

from __future__ import annotations

from convsram.gui.captions import PLAIN, TECHNICAL, TECHNICAL_KEY

__all__ = ["PLAIN", "TECHNICAL", "TECHNICAL_KEY"]
