"""Lint gates that CI enforces: ruff on the whole tree, import-linter's layering contract."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} not installed (pip install -e '.[test]')")
    return found


def test_ruff_clean():
    out = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]


def test_import_contract_core_is_headless(tmp_path):
    """import-linter reads a package from its folder, so the contract is checked on the installed
    layout: convsram/ with core/ and gui/ inside it, as the wheel installs them."""
    lint = _tool("lint-imports")
    pkg = tmp_path / "convsram"
    shutil.copytree(ROOT / "convsram", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("core", "gui"):
        shutil.copytree(ROOT / name, pkg / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([lint], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "KEPT" in out.stdout
