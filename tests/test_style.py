"""Lint gates that CI enforces: ruff on the whole tree, import-linter's layering contract, mypy."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.layout import ROOT, installed_layout


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
    """import-linter reads a package from its folder: the contract is checked on the installed layout."""
    lint = _tool("lint-imports")
    root = installed_layout(tmp_path)
    out = subprocess.run([lint], cwd=root, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stdout[-3000:]
    assert "KEPT" in out.stdout


def test_types_check(tmp_path):
    """mypy over core/, gui/ and the CLI as installed (it cannot follow the package-dir mapping of the
    editable install, so it reads the laid-out copy), with the settings in pyproject.toml."""
    mypy = _tool("mypy")
    root = installed_layout(tmp_path)
    out = subprocess.run([mypy, "-p", "convsram", "--cache-dir", str(tmp_path / ".mypy_cache")], cwd=root,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-5000:]
