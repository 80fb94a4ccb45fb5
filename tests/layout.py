"""The installed layout of the package, laid out from the repository for tools that read packages
from folders (import-linter, mypy): convsram/ with core/ and gui/ inside it, as the wheel has them."""

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def installed_layout(dest: Path) -> Path:
    """Copy convsram/, core/ and gui/ (sources only) to dest/convsram; returns dest."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    pkg = dest / "convsram"
    shutil.copytree(ROOT / "convsram", pkg, ignore=skip)
    for name in ("core", "gui"):
        shutil.copytree(ROOT / name, pkg / name, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest
