"""Shared fixtures. GUI tests run offscreen; core tests need no Qt."""

import gc
import os

import pytest

os.environ["QT_QPA_PLATFORM"] = os.environ.get("QT_QPA_PLATFORM") or "offscreen"  # unset or empty


@pytest.fixture(autouse=True)
def _collect_garbage_on_main_thread():
    """GUI code disables automatic collection (convsram.gui.gc_guard); collect between tests, here on
    the main thread, so nothing of one test is finalised later in a worker thread of another."""
    yield
    if not gc.isenabled():
        gc.unfreeze()  # what a window froze (convsram.gui.gc_guard.freeze_long_lived) is collected too
        gc.collect()
