"""No references outside the repository: tracked files point at nothing the repository does not hold.
No documents from outside it (``../shared/docs/...``, "the model document"), no Sphinx cross-reference
(:func:, :class:, ...) to a function, class or module that does not exist, no repository path to a file
that is not there."""

from __future__ import annotations

import ast
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
BINARY = (".gz", ".npz", ".png", ".gif", ".jpg", ".ico", ".pdf")
# documents that were never in the repository, and a function that was never written
OUTSIDE = re.compile(r"shared/docs|\.\./shared|model doc(ument)?\b|paper_operating_point", re.IGNORECASE)
ROLE = re.compile(r":(func|meth|class|data|attr|exc|mod):`~?([A-Za-z_][\w.]*)(?:\(\))?`")
REPO_PATH = re.compile(r"\b(?:convsram/)?((?:core|gui|convsram|tests|bench|assets|docs|\.ci)/[\w/.-]*\w"
                       r"\.(?:py|md|npz|toml|png|csv|gz|json))\b")


@cache
def tracked() -> dict[str, str]:
    """Text of every tracked file (path relative to the repository -> contents)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    texts = {}
    for name in out.decode().split("\0"):
        path = ROOT / name
        if name and not name.endswith(BINARY) and path.is_file():
            texts[name] = path.read_bytes().decode("utf-8", errors="replace")
    return texts


def module_file(dotted: str) -> str | None:
    """The tracked file of a module named as imported (convsram.core.x) or as in the tree (core.x)."""
    parts = dotted.split(".")
    if parts[0] == "convsram" and len(parts) > 1 and parts[1] in ("core", "gui", "assets"):
        parts = parts[1:]
    for candidate in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
        if candidate in tracked():
            return candidate
    return None


@cache
def defined(path: str | None = None) -> frozenset[str]:
    """Names defined (functions, classes, assigned names and attributes) in one file or in all of them."""
    names: set[str] = set()
    for name, text in tracked().items():
        if not name.endswith(".py") or (path is not None and name != path):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name | ast.arg) and isinstance(getattr(node, "ctx", ast.Store()),
                                                                    ast.Store):
                names.add(node.id if isinstance(node, ast.Name) else node.arg)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return frozenset(names)


def resolves(kind: str, target: str) -> bool:
    if kind == "mod":
        return module_file(target) is not None
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):  # a module prefix: the name must be defined in it
        path = module_file(".".join(parts[:cut]))
        if path is not None:
            return parts[cut] in defined(path)
    return parts[-1] in defined()


def test_no_file_points_outside_the_repository():
    hits = [f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
            for name, text in tracked().items() if name != THIS for m in OUTSIDE.finditer(text)]
    assert not hits, "references to what the repository does not hold:\n" + "\n".join(hits)


def test_cross_references_name_what_exists():
    bad = [f"{name}: :{m.group(1)}:`{m.group(2)}`" for name, text in tracked().items() if name.endswith(".py")
           for m in ROLE.finditer(text) if not resolves(m.group(1), m.group(2))]
    assert not bad, "cross-references to nothing:\n" + "\n".join(bad)


def test_repository_paths_exist():
    missing = sorted({f"{name}: {m.group(1)}" for name, text in tracked().items() if name != THIS
                      for m in REPO_PATH.finditer(text) if not (ROOT / m.group(1)).exists()})
    assert not missing, "paths to files the repository does not hold:\n" + "\n".join(missing)


def test_the_checks_catch_what_they_are_for():
    assert OUTSIDE.search("see ``../shared/docs/convsram-model.md`` section 3")
    assert OUTSIDE.search("(model doc section 2)") and OUTSIDE.search("the model document suggests")
    assert REPO_PATH.search("see docs/convsram-model.md") and not REPO_PATH.search("see doc strings")
    assert not resolves("func", "paper_operating_point") and resolves("func", "knob_fields")
    assert resolves("class", "core.noise.KeyedNoise") and not resolves("class", "core.noise.ChipConfig")
    assert resolves("mod", "convsram.core.analysis") and not resolves("mod", "core.nowhere")
