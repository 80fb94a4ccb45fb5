"""core/ must stay headless: importing all of it loads no Qt, and no source mentions Qt or the GUI."""

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import convsram.core

CORE = Path(convsram.core.__file__).parent


def test_core_imports_no_qt():
    modules = [f"convsram.core.{m.name}" for m in pkgutil.iter_modules([str(CORE)])]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + (
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt', 'shiboken6')"
        " or m.startswith('convsram.gui')]\nprint(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core pulled in {out.stdout.strip()}"


def test_core_sources_do_not_mention_qt():
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|pyqtgraph|superqt|qtpy|convsram\.gui)\b", re.M)
    offenders = [p.name for p in CORE.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
