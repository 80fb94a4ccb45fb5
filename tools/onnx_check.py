"""The exported exact path in onnxruntime against the ideal chip, on the whole test set (the test runs
2,000 images; this prints the 10,000-image figures). Needs onnx and onnxruntime (the test extra).

    python tools/onnx_check.py [--model PATH] [--images 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from convsram.core import mnist, network
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.onnx_export import export_model
from convsram.core.paths import DEFAULT_MODEL


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--images", type=int, default=10_000)
    args = ap.parse_args()
    model = network.load_model(args.model)
    data = mnist.load("test", limit=args.images)
    with tempfile.TemporaryDirectory() as d:
        path = export_model(model, Path(d) / "m.onnx")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        t0 = time.perf_counter()
        scores = session.run(None, {"pixels": data.images[:, None].astype(np.float32)})[0]
        t_ort = time.perf_counter() - t0
    chip = Chip(ChipConfig.ideal())
    amap, _ = programmed_chip(model, chip)
    ideal = network.forward(model, network.input_codes(data.images), ChipEvaluator(chip, model, amap))
    exact = network.forward(model, network.input_codes(data.images))
    print(f"{args.model.name}, {len(data):,} test images (onnxruntime {t_ort:.1f} s)")
    print(f"  onnxruntime scores equal the exact path's bit for bit: {np.array_equal(scores, exact)}")
    print(f"  predictions equal to the ideal chip's: {int((scores.argmax(1) == ideal.argmax(1)).sum()):,} / "
          f"{len(data):,}")
    print(f"  accuracy {100 * float(np.mean(scores.argmax(1) == data.labels)):.2f} %")


if __name__ == "__main__":
    main()
