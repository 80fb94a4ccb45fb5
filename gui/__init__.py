"""convsram gui: PySide6 + pyqtgraph views of a core session. Owns no simulation logic."""
