"""Subcommands of `convsram`; each registers itself with :func:`convsram.cli.command`."""

from __future__ import annotations

import argparse
from pathlib import Path

from convsram.cli import command


# --- train ------------------------------------------------------------------------------------
def _train_arguments(p: argparse.ArgumentParser) -> None:
    from convsram.core.paths import DEFAULT_MODEL

    p.add_argument("--epochs", type=int, default=15, help="passes over the training images (default 15)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL,
                   help=f"model file to write (default {DEFAULT_MODEL})")
    p.add_argument("--mnist", type=Path, default=None,
                   help="directory with the MNIST files (default: bundled)")
    p.add_argument("--batch-size", type=int, default=100, help="images per minibatch (default 100)")
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate, cosine-decayed (default 0.01)")
    p.add_argument("--limit", type=int, default=None, help="train on the first N training images only")
    p.add_argument("--noise", type=float, default=0.0,
                   help="chip-aware training: Gaussian noise on the pre-ADC sums, in units of sum(w*x) "
                        "(default 0)")
    p.add_argument("--percentile", type=float, default=99.9,
                   help="percentile of |S| that maps to the largest ADC code (default 99.9)")
    p.add_argument("--arch", choices=("lenet", "resnet"), default="lenet",
                   help="network to train: lenet (3 weight layers, the shipped model) or resnet (9 weight "
                        "layers, 3 residual adds; core/architectures.py) (default lenet)")
    p.add_argument("--val-size", type=int, default=5000,
                   help="training images held out for validation, at most a fifth of them; 0 trains on all "
                        "(the validation accuracy is then n/a) (default 5000)")
    p.add_argument("--shift", type=int, default=1,
                   help="random-shift augmentation: each image moved by up to this many pixels, 0..4 "
                        "(default 1)")
    p.add_argument("--init", type=Path, default=None, metavar="MODEL",
                   help="warm start: continue from this model file (same --arch) with a fresh Adam and a "
                        "fresh cosine schedule from --lr; its training command is recorded with the new one")
    p.add_argument("--no-test", action="store_true", help="skip measuring the test accuracy at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


@command("train", "Train a binary-weight network (--arch lenet or resnet; numpy, quantisation-exact) and "
                  "write a model file.",
         _train_arguments)
def run_train(args: argparse.Namespace) -> int:
    import numpy as np

    from convsram.core import mnist, network, train
    from convsram.core.files import check_output

    check_output(args.out, ("npz",), "--out")  # before the training, not after it
    if args.limit is not None and args.limit < 10:
        raise ValueError(f"--limit must be at least 10 images, got {args.limit}")
    settings = train.TrainSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                   noise=args.noise, percentile=args.percentile, arch=args.arch,
                                   val_size=args.val_size, shift=args.shift)
    init = None if args.init is None else network.load_model(args.init)
    init_sha256 = None if args.init is None else _sha256(args.init)
    data = mnist.load("train", args.mnist, limit=args.limit)
    model, history = train.train(data.images, data.labels, settings, progress=not args.quiet, init=init)
    model.training["command"] = "convsram train " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in (("epochs", args.epochs), ("seed", args.seed),
                                                     ("batch_size", args.batch_size), ("lr", args.lr),
                                                     ("noise", args.noise), ("percentile", args.percentile),
                                                     ("limit", args.limit)) if v is not None) \
        + ("" if args.arch == "lenet" else f" --arch {args.arch}") \
        + "".join(f" --{k} {v}" for k, v, default in (("val-size", args.val_size, 5000),
                                                      ("shift", args.shift, 1), ("init", args.init, None))
                  if v != default)
    if init is not None:  # the chain that reproduces this model: the initial model's own record
        model.training["init"] = {"file": str(args.init), "sha256": init_sha256,
                                  "training": init.training}
    if not args.no_test:
        test = mnist.load("test", args.mnist)
        pred = network.predict(model, test.images)
        model.training["test_accuracy_integer_path"] = float(np.mean(pred == test.labels))
        model.training["test_images"] = int(len(test))
    network.save_model(model, args.out)
    line = (f"wrote {args.out}: trained on {history['train_images']} images "
            f"({history['val_images']} held out for validation), {settings.epochs} epochs, "
            f"{history['wall_seconds']:.0f} s, validation accuracy "
            + ("n/a" if history["val_accuracy"] is None else f"{history['val_accuracy']:.4f}"))
    if "test_accuracy_integer_path" in model.training:
        line += f", test accuracy (integer path) {model.training['test_accuracy_integer_path']:.4f}"
    print(line)
    return 0


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


import convsram.cmd_classify  # noqa: E402,F401  (registers classify)
import convsram.cmd_compile  # noqa: E402,F401  (registers compile)
import convsram.cmd_depth  # noqa: E402,F401  (registers depth)
import convsram.cmd_gui  # noqa: E402,F401  (registers app, snapshot)
import convsram.cmd_onnx  # noqa: E402,F401  (registers import, export)
import convsram.cmd_sweep  # noqa: E402,F401  (registers sweep)
from convsram import cmd_eval  # noqa: E402,F401  (registers eval, config)
