"""Shared fixtures. GUI tests run offscreen; core tests need no Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
