"""The small `convsram sweep` the sweep tests run (2 settings x 3 chips x 2 shards of 20 images: 12
small tasks) and the one-line-error check they share."""

from __future__ import annotations

from pathlib import Path

import pytest

from convsram.cli import main

ARGS = ["--knob", "cap_mismatch_sigma=0,0.05", "--chips", "3", "--images", "40", "--shard-images", "20",
        "--quiet"]


def sweep(out: Path, *extra: str) -> int:
    return main(["sweep", *ARGS, "--out", str(out), *extra])


def one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "error" in err[0], err
    return err[0]
