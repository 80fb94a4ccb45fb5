"""Build the ONNX test fixtures: a small binary-weight CNN trained in PyTorch (outside this project)
and exported in each weight form `convsram import` accepts.

Run in a throwaway venv with torch and onnx (never a dependency of convsram or its tests):

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch onnx onnxscript numpy
    OMP_NUM_THREADS=1 /tmp/torchvenv/bin/python tools/make_onnx_fixtures.py [--epochs 2] [--seed 0]

Writes tests/data/onnx/bnn-{pm_alpha,sign,bipolar,float}.onnx and bnn.json (the network's own float
accuracy on the 10,000 MNIST test images, binarized weights, normalised inputs). The network takes
(x - 0.1307) / 0.3081 of pixels scaled to 0..1 (import with --normalize 0.1307,0.3081)."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "onnx"
MEAN, STD = 0.1307, 0.3081


def mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    d = ROOT / "assets" / "mnist"
    with gzip.open(d / f"{split}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(d / f"{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels.astype(np.int64)


class BinaryWeight(torch.autograd.Function):
    """sign(w) * mean|w| per output channel, straight-through gradient."""

    @staticmethod
    def forward(ctx, w):  # type: ignore[override]
        alpha = w.abs().mean(dim=tuple(range(1, w.dim())), keepdim=True)
        return torch.where(w >= 0, 1.0, -1.0) * alpha

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        return g


class Net(nn.Module):
    def __init__(self, form: str = "train") -> None:
        super().__init__()
        self.form = form
        self.c1 = nn.Conv2d(1, 8, 5, bias=False)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3, bias=False)
        self.b2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(400, 10)

    def weight(self, w: torch.Tensor) -> torch.Tensor:
        if self.form == "sign":  # a Sign node on the weight initializer, times alpha (a constant)
            alpha = torch.tensor(w.detach().abs().mean(dim=tuple(range(1, w.dim())), keepdim=True).numpy())
            return torch.sign(w) * alpha
        if self.form == "float":
            return w
        return BinaryWeight.apply(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.b1(F.conv2d(x, self.weight(self.c1.weight)))), 2)
        x = F.max_pool2d(F.relu(self.b2(F.conv2d(x, self.weight(self.c2.weight)))), 2)
        x = torch.flatten(x, 1)
        return F.linear(x, self.weight(self.fc.weight), self.fc.bias)


def prepare(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(((images.astype(np.float32) / 255.0 - MEAN) / STD)[:, None])


def export(net: Net, form: str, path: Path) -> None:
    net.form = form
    dummy = prepare(np.zeros((1, 28, 28), np.uint8))
    torch.onnx.export(net, (dummy,), str(path), input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}}, opset_version=17, dynamo=False)


def to_bipolar(src: Path, dst: Path) -> None:
    """Sign(W) * alpha -> QONNX BipolarQuant(W, alpha) (domain qonnx.custom_op.general)."""
    m = onnx.load(str(src))
    nodes = list(m.graph.node)
    signs = {n.output[0]: n for n in nodes if n.op_type == "Sign"}
    out = []
    for n in nodes:  # the Mul of a Sign's output becomes the BipolarQuant, in the Mul's place
        if n.op_type == "Sign":
            continue
        sign = next((signs[i] for i in n.input if i in signs), None) if n.op_type == "Mul" else None
        if sign is not None:
            other = [x for x in n.input if x != sign.output[0]][0]
            out.append(helper.make_node("BipolarQuant", [sign.input[0], other], [n.output[0]],
                                        name=sign.name + "_bipolar", domain="qonnx.custom_op.general"))
        else:
            out.append(n)
    del m.graph.node[:]
    m.graph.node.extend(out)
    m.opset_import.append(helper.make_opsetid("qonnx.custom_op.general", 1))
    onnx.save(m, str(dst))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    images, labels = mnist("train")
    test_images, test_labels = mnist("t10k")
    x, y = prepare(images), torch.from_numpy(labels)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(x), generator=gen)
        for s in range(0, len(x), 128):
            idx = order[s:s + 128]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}")
    net.eval()
    with torch.no_grad():
        acc = float((net(prepare(test_images)).argmax(1).numpy() == test_labels).mean())
    print(f"float accuracy with binarized weights: {acc:.4f}")
    OUT.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        latent = {k: v.clone() for k, v in net.state_dict().items()}
        export(net, "sign", OUT / "bnn-sign.onnx")
        to_bipolar(OUT / "bnn-sign.onnx", OUT / "bnn-bipolar.onnx")
        export(net, "float", OUT / "bnn-float.onnx")  # latent float weights: needs --binarize
        for name in ("c1", "c2", "fc"):  # the binarized weights themselves: +/-alpha per channel
            w = getattr(net, name).weight
            w.copy_(BinaryWeight.apply(w))
        export(net, "float", OUT / "bnn-pm_alpha.onnx")
        net.load_state_dict(latent)
    (OUT / "bnn.json").write_text(json.dumps({
        "float_accuracy": acc, "test_images": len(test_labels), "epochs": args.epochs, "seed": args.seed,
        "normalize": [MEAN, STD], "input_range": [0, 1], "torch": torch.__version__,
        "command": f"python tools/make_onnx_fixtures.py --epochs {args.epochs} --seed {args.seed}"},
        indent=1))
    print("wrote", *sorted(p.name for p in OUT.glob("bnn*")))


if __name__ == "__main__":
    main()
