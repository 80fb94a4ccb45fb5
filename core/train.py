"""Training binary-weight networks (any graph of core.layers) in numpy, quantised exactly as the chip
computes it.

* Weights: latent floats in [-1, 1]; the forward uses sign(w) (sign(0) = +1); the gradient passes
  where |w| <= 1 (hardtanh straight-through estimator, STE).
* Per row tile, the ideal ADC: p = clip(round_half_up(S / s), lo, M) with an STE of slope 1/s inside
  the code range and 0 where it clips; optional Gaussian noise on the pre-ADC S (chip-aware training).
* Digital part exactly as :func:`core.network.forward`: tile sums, requantisation
  clip(floor(alpha P + beta + 0.5), 0, M) (STE: slope 1 inside 0..M), pools, residual adds (STE:
  slope 1 where the sum does not clip), the output layer's scores. Each layer kind owns its training
  forward and backward (:mod:`core.layers`); the trainer runs the graph.
* Per-layer odd ADC steps s come from data: a percentile of |S| over a calibration set divided by M,
  recalibrated before every epoch (alpha is rescaled by s_new / s_old so the function barely moves).
* Adam, minibatches, cosine learning-rate decay, random-shift augmentation; every random draw comes
  from the user's seed.

In eval mode (no noise) :meth:`Trainer.forward` gives the same codes and scores as
:func:`core.network.forward`, bit for bit.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from convsram.core import network
from convsram.core.architectures import ARCHITECTURES
from convsram.core.layers import INPUT, TrainContext
from convsram.core.layers.weighted import binarise
from convsram.core.network import Model

MAX = 2**network.DEFAULT_BITS - 1  # input and ADC codes, 7 b


@dataclass
class TrainSettings:
    """Everything that determines a training run (with the data, it fixes the result)."""

    epochs: int = 15
    batch_size: int = 100
    lr: float = 0.01
    seed: int = 0
    val_size: int = 5000  # held out of the training images, for choosing settings
    percentile: float = 99.9  # of |S| per layer, mapped to the largest ADC code
    noise: float = 0.0  # sigma of Gaussian noise on the pre-ADC S, units of sum(w*x)
    shift: int = 1  # random translation augmentation, pixels (0: off)
    scale_lr: float = 1.0  # learning rate of alpha and beta relative to lr
    leak: float = 0.0  # STE slope where requantisation clips at 0
    calib_images: int = 2000
    conv1: int = 16
    conv2: int = 32
    arch: str = "lenet"  # a name in core.architectures.ARCHITECTURES

    def __post_init__(self) -> None:
        checks = [(self.epochs >= 1, "epochs must be >= 1"),
                  (self.batch_size >= 1, "batch size must be >= 1"),
                  (math.isfinite(self.lr) and self.lr > 0, "lr must be a positive number"),
                  (self.seed >= 0, "seed must be >= 0"), (self.val_size >= 0, "val size must be >= 0"),
                  (0 < self.percentile <= 100, "percentile must be in (0, 100]"),
                  (self.noise >= 0, "noise must be >= 0"), (0 <= self.shift <= 4, "shift must be 0..4"),
                  (self.scale_lr > 0 and 0 <= self.leak <= 1, "scale_lr must be > 0 and leak in 0..1"),
                  (self.calib_images >= 1, "calib images must be >= 1"),
                  (self.arch in ARCHITECTURES, f"arch must be one of {', '.join(ARCHITECTURES)}")]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)


@dataclass
class Adam:
    lr: float
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: dict[str, np.ndarray] = field(default_factory=dict)
    v: dict[str, np.ndarray] = field(default_factory=dict)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float,
             lr_scale: dict[str, float] | None = None) -> None:
        """One update; lr_scale multiplies the learning rate of the named parameters."""
        self.t += 1
        c1, c2 = 1 - self.b1**self.t, 1 - self.b2**self.t
        for k, g in grads.items():
            m = self.m.setdefault(k, np.zeros_like(g))
            v = self.v.setdefault(k, np.zeros_like(g))
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            rate = lr * (lr_scale or {}).get(k, 1.0)
            params[k] -= (rate * (m / c1) / (np.sqrt(v / c2) + self.eps)).astype(params[k].dtype)


class Trainer:
    """Latent parameters of a model and its quantisation-exact forward/backward passes over the graph.

    Parameters are kept normalised so one Adam learning rate suits all: requantising layers store
    alpha and beta / 128; the output layer stores alpha * 128 and beta (powers of two, so conversions
    are exact).
    """

    max_code = MAX

    def __init__(self, layers: network.LayersLike, rng: np.random.Generator) -> None:
        self.graph = network.as_graph(layers)
        self.layers = list(self.graph.layers)
        self.params: dict[str, np.ndarray] = {}
        for i, spec in enumerate(self.layers):
            self.params[f"w{i}"] = rng.uniform(-0.5, 0.5, (spec.rows, spec.out_channels)).astype(np.float32)
            self.params[f"a{i}"] = np.ones(spec.out_channels, np.float32)
            self.params[f"b{i}"] = np.zeros(spec.out_channels, np.float32)
        self.steps = [1] * len(self.layers)
        self.leak = 0.0  # STE slope below the requantisation floor (keeps silent filters trainable)

    @classmethod
    def from_model(cls, model: Model) -> Trainer:
        """A trainer holding `model`'s parameters exactly (latent weights = the +/-1 weights)."""
        t = cls(model.graph, np.random.default_rng(0))
        for i in range(len(model.layers)):
            sa, sb = t.scales(i)
            t.params[f"w{i}"] = model.weights[i].astype(np.float32)
            t.params[f"a{i}"] = (model.alpha[i] / np.float32(sa)).astype(np.float32)
            t.params[f"b{i}"] = (model.beta[i] / np.float32(sb)).astype(np.float32)
        t.steps = list(model.adc_step)
        return t

    # --- parameters <-> model -----------------------------------------------------------------
    def scales(self, i: int) -> tuple[float, float]:
        """alpha = a * scale_a, beta = b * scale_b."""
        return (2.0**-7, 1.0) if self.graph.is_output(i) else (1.0, 2.0**7)

    def alpha_beta(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        sa, sb = self.scales(i)
        return ((self.params[f"a{i}"] * np.float32(sa)).astype(np.float32),
                (self.params[f"b{i}"] * np.float32(sb)).astype(np.float32))

    def to_model(self, training: dict[str, Any] | None = None) -> Model:
        n = len(self.layers)
        ab = [self.alpha_beta(i) for i in range(n)]
        return Model(layers=network.WeightLayers(self.graph),
                     weights=[binarise(self.params[f"w{i}"]).astype(np.int8) for i in range(n)],
                     alpha=[a for a, _ in ab], beta=[b for _, b in ab], adc_step=list(self.steps),
                     training=dict(training or {}))

    # --- forward ------------------------------------------------------------------------------
    def forward(self, codes: np.ndarray, train: bool = False, rng: np.random.Generator | None = None,
                noise: float = 0.0, calibrate: float | None = None, init_scale: bool = False,
                record: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, Caches]:
        """Scores (batch, 10) float64 and the nodes' caches for input codes (batch, 28, 28).

        train=False: no noise; codes equal :func:`core.network.forward`'s exactly. calibrate=q: set
        each layer's ADC step from the q-th percentile of |S| on this batch (sequentially, layer by
        layer), rescaling alpha to keep alpha / s. init_scale: also set each layer's alpha so its
        summed codes fill the next layer's input range (requantising layers) or give unit-spread
        scores (the output layer).
        """
        ctx = TrainContext(self, train=train, rng=rng, noise=noise, calibrate=calibrate,
                           init_scale=init_scale, record=record)
        values: dict[str, np.ndarray] = {INPUT: np.asarray(codes, dtype=np.float32)[..., None]}
        caches: dict[str, Any] = {}
        for node in self.graph.nodes:
            out, caches[node.name] = node.train_forward([values[n] for n in node.inputs], ctx)
            values[node.name] = out
            if record is not None and node.name != self.graph.output:
                record[f"{node.name}.out"] = out.astype(np.uint8)
        return values[self.graph.output], Caches(caches, ctx)

    # --- backward -----------------------------------------------------------------------------
    def backward(self, caches: Caches, dz: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of all parameters given dLoss/dscores (batch, 10); needs forward(train=True)."""
        ctx = caches.ctx
        ctx.grads = {}
        grad: dict[str, np.ndarray] = {self.graph.output: dz.astype(np.float32)}
        for node in reversed(self.graph.nodes):
            g = grad.pop(node.name, None)
            if g is None:
                continue
            for name, gi in zip(node.inputs, node.train_backward(g, caches.by_node[node.name], ctx),
                                strict=True):
                if gi is None or name == INPUT:
                    continue
                grad[name] = grad[name] + gi if name in grad else gi
        return ctx.grads


@dataclass
class Caches:
    """What a training forward keeps for the backward: each node's cache and the run's context."""

    by_node: dict[str, Any]
    ctx: TrainContext


def cross_entropy(scores: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy and its gradient w.r.t. the scores."""
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    prob = e / e.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = float(-np.log(prob[np.arange(n), labels] + 1e-12).mean())
    prob[np.arange(n), labels] -= 1
    return loss, prob / n


def shift_images(codes: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Translate each image by a random (dy, dx) in -max_shift..max_shift, filling with 0."""
    if max_shift == 0:
        return codes
    n = len(codes)
    pad = np.pad(codes, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    oy, ox = rng.integers(0, 2 * max_shift + 1, (2, n))
    r = np.arange(28)
    return pad[np.arange(n)[:, None, None], (oy[:, None] + r)[:, :, None], (ox[:, None] + r)[:, None, :]]


def evaluate(trainer: Trainer, codes: np.ndarray, labels: np.ndarray, batch: int = 1000
             ) -> tuple[float, float]:
    """(accuracy, mean loss) in eval mode."""
    correct, loss = 0, 0.0
    for s in range(0, len(codes), batch):
        z, _ = trainer.forward(codes[s:s + batch])
        correct += int((z.argmax(1) == labels[s:s + batch]).sum())
        loss += cross_entropy(z, labels[s:s + batch])[0] * len(z)
    return correct / max(len(codes), 1), loss / max(len(codes), 1)


def split_train_val(n: int, val_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation parts (seeded; val is at most a fifth of n)."""
    order = np.random.default_rng([seed, 1]).permutation(n)
    v = min(val_size, n // 5)
    return np.sort(order[v:]), np.sort(order[:v])


def train(images: np.ndarray, labels: np.ndarray, settings: TrainSettings, progress: bool = True,
          init: Model | None = None) -> tuple[Model, dict[str, Any]]:
    """Train on uint8 images (n, 28, 28) and labels; returns the model and a history dict.

    init: warm start from this model's parameters (its +/-1 weights become the latent weights, its
    alpha, beta and ADC steps are kept); its graph must be the one `settings` ask for. The run then
    continues it with a fresh Adam and a fresh cosine schedule from `settings.lr`.
    """
    t0 = time.perf_counter()
    if len(images) < 10:
        raise ValueError(f"need at least 10 training images, got {len(images)}")
    if init is not None and not same_graph(init, architecture(settings)):
        raise ValueError(f"the initial model's network is not the {settings.arch} network with widths "
                         f"{settings.conv1}, {settings.conv2}; pass the --arch it was trained with")
    codes_all = network.input_codes(images).astype(np.uint8)
    labels = np.asarray(labels, dtype=np.int64)
    tr, va = split_train_val(len(codes_all), settings.val_size, settings.seed)
    codes, y = codes_all[tr], labels[tr]
    vcodes, vy = codes_all[va], labels[va]
    rng = np.random.default_rng([settings.seed, 0])
    trainer = Trainer(architecture(settings), rng) if init is None else Trainer.from_model(init)
    layers = trainer.layers
    calib = codes[: settings.calib_images]
    steps_per_epoch = -(-len(codes) // settings.batch_size)
    total = settings.epochs * steps_per_epoch
    opt = Adam(settings.lr)
    trainer.leak = settings.leak
    lr_scale = {f"{k}{i}": settings.scale_lr for i in range(len(layers)) for k in "ab"}
    history: dict[str, Any] = {"epochs": [], "adc_steps": []}
    trainer.forward(calib, calibrate=settings.percentile, init_scale=init is None)
    monitor = (vcodes, vy) if len(vcodes) else (codes[:1000], y[:1000])
    history["initial_val_accuracy"], history["initial_loss"] = evaluate(trainer, *monitor)
    bar = _progress(total, progress)
    step = 0
    for epoch in range(settings.epochs):
        if epoch:
            trainer.forward(calib, calibrate=settings.percentile)
        history["adc_steps"].append(list(trainer.steps))
        order = rng.permutation(len(codes))
        losses = []
        for s in range(0, len(codes), settings.batch_size):
            idx = order[s:s + settings.batch_size]
            xb = shift_images(codes[idx], settings.shift, rng)
            z, caches = trainer.forward(xb, train=True, rng=rng, noise=settings.noise)
            loss, dz = cross_entropy(z, y[idx])
            grads = trainer.backward(caches, dz)
            lr = settings.lr * 0.5 * (1 + math.cos(math.pi * step / total))
            opt.step(trainer.params, grads, lr, lr_scale)
            for i in range(len(layers)):
                np.clip(trainer.params[f"w{i}"], -1, 1, out=trainer.params[f"w{i}"])
            losses.append(loss)
            step += 1
            if bar is not None:
                bar.update(1)
                if step % 20 == 0:
                    bar.set_postfix(epoch=epoch + 1, loss=f"{np.mean(losses[-50:]):.3f}")
        val_acc, val_loss = evaluate(trainer, *monitor)
        history["epochs"].append({"epoch": epoch + 1, "train_loss": float(np.mean(losses)),
                                  "val_accuracy": val_acc if len(vcodes) else None, "val_loss": val_loss,
                                  "seconds": time.perf_counter() - t0})
        if bar is not None:
            what = "validation" if len(vcodes) else "accuracy on 1000 training images"
            bar.write(f"epoch {epoch + 1}: train loss {np.mean(losses):.4f}, {what} {val_acc:.4f}, "
                      f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if bar is not None:
        bar.close()
    history["final_loss"] = history["epochs"][-1]["val_loss"]  # of the training subset if val_size is 0
    history["val_accuracy"] = history["epochs"][-1]["val_accuracy"]
    history["val_images"] = int(len(vcodes))
    history["train_images"] = int(len(codes))
    history["wall_seconds"] = time.perf_counter() - t0
    meta = {"settings": asdict(settings), "wall_seconds": round(history["wall_seconds"], 1),
            "val_accuracy": history["val_accuracy"], "val_images": history["val_images"],
            "train_images": history["train_images"], "numpy": np.__version__}
    return trainer.to_model(meta), history


def architecture(settings: TrainSettings) -> list[Any]:
    """The graph nodes `settings` ask for (its arch and widths)."""
    return ARCHITECTURES[settings.arch](settings.conv1, settings.conv2)


def same_graph(model: Model, nodes: list[Any]) -> bool:
    """Whether `model` has exactly these graph nodes (kinds, names, inputs, shapes)."""
    return list(model.graph.nodes) == list(network.as_graph(nodes).nodes)


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="batch", dynamic_ncols=True, desc="train")
