"""Training: the eval-mode training forward is the network's forward; runs are seeded; the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convsram.cli import main
from convsram.core import mnist, network, train
from convsram.core.paths import DEFAULT_MODEL


@pytest.fixture(scope="module")
def small_train() -> mnist.Split:
    return mnist.load("train", limit=400)


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="shipped model not present")
def test_eval_forward_equals_network_forward_bit_for_bit() -> None:
    model = network.load_model(DEFAULT_MODEL)
    test = mnist.load("test", limit=300)
    codes = network.input_codes(test.images)
    rec_net: dict[str, np.ndarray] = {}
    rec_train: dict[str, np.ndarray] = {}
    z_net = network.forward(model, codes, record=rec_net)
    z_train, _ = train.Trainer.from_model(model).forward(codes, record=rec_train)
    assert np.array_equal(z_net, z_train)
    assert np.array_equal(z_net.argmax(1), z_train.argmax(1))
    for key, value in rec_train.items():
        assert np.array_equal(rec_net[key], value), key
    assert (z_net.argmax(1) == test.labels).mean() > 0.95


def test_trainer_round_trips_a_model_exactly() -> None:
    layers = network.lenet_bw()
    rng = np.random.default_rng(0)
    model = network.Model(layers, [rng.choice([-1, 1], (s.rows, s.out_channels)) for s in layers],
                          [rng.uniform(0, 0.1, s.out_channels) for s in layers],
                          [rng.uniform(-30, 30, s.out_channels) for s in layers], [3, 5, 7])
    back = train.Trainer.from_model(model).to_model()
    for name in ("weights", "alpha", "beta"):
        for x, y in zip(getattr(model, name), getattr(back, name), strict=True):
            assert np.array_equal(x, y)
    assert back.adc_step == model.adc_step


def test_backward_matches_finite_differences_of_alpha_beta() -> None:
    """alpha and beta enter linearly after the last ADC, so the fc layer's gradients are exact."""
    rng = np.random.default_rng(0)
    t = train.Trainer(network.lenet_bw(4, 6), rng)
    t.steps = [5, 7, 9]
    t.params["a2"][:] = 0.05
    codes = rng.integers(0, 128, (4, 28, 28))
    y = np.array([0, 1, 2, 3])
    z, caches = t.forward(codes, train=True)
    grads = t.backward(caches, train.cross_entropy(z, y)[1])
    for key in ("a2", "b2"):
        for j in (0, 3):
            old = t.params[key][j]
            eps = 1e-2
            t.params[key][j] = old + eps
            lp = train.cross_entropy(t.forward(codes)[0], y)[0]
            t.params[key][j] = old - eps
            lm = train.cross_entropy(t.forward(codes)[0], y)[0]
            t.params[key][j] = old
            assert (lp - lm) / (2 * eps) == pytest.approx(float(grads[key][j]), rel=1e-2, abs=1e-5)


def _quick(images: np.ndarray, labels: np.ndarray, seed: int) -> tuple[network.Model, dict]:
    settings = train.TrainSettings(epochs=1, batch_size=20, lr=0.01, seed=seed, val_size=50, calib_images=200)
    return train.train(images, labels, settings, progress=False)


def test_training_is_deterministic_and_lowers_the_loss(small_train: mnist.Split) -> None:
    m1, h1 = _quick(small_train.images[:250], small_train.labels[:250], seed=5)
    m2, h2 = _quick(small_train.images[:250], small_train.labels[:250], seed=5)
    for a, b in zip(m1.weights + m1.alpha + m1.beta, m2.weights + m2.alpha + m2.beta, strict=True):
        assert np.array_equal(a, b)
    assert m1.adc_step == m2.adc_step
    assert h1["final_loss"] == h2["final_loss"]
    assert h1["final_loss"] < h1["initial_loss"]
    m3, _ = _quick(small_train.images[:250], small_train.labels[:250], seed=6)
    assert not all(np.array_equal(a, b) for a, b in zip(m1.weights, m3.weights, strict=True))
    m1.validate()
    assert all(s % 2 == 1 for s in m1.adc_step)


def test_noise_injection_is_seeded(small_train: mnist.Split) -> None:
    settings = train.TrainSettings(epochs=1, batch_size=50, seed=1, val_size=80, calib_images=100, noise=4.0)
    a, _ = train.train(small_train.images[:200], small_train.labels[:200], settings, progress=False)
    b, _ = train.train(small_train.images[:200], small_train.labels[:200], settings, progress=False)
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights, strict=True))


def test_shift_images_keeps_shape_and_zero_fill() -> None:
    codes = np.zeros((5, 28, 28), np.uint8)
    codes[:, 10:18, 10:18] = 100
    out = train.shift_images(codes, 2, np.random.default_rng(0))
    assert out.shape == codes.shape and (out.sum(axis=(1, 2)) == codes.sum(axis=(1, 2))).all()
    assert train.shift_images(codes, 0, np.random.default_rng(0)) is codes


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="epochs"):
        train.TrainSettings(epochs=0)
    with pytest.raises(ValueError, match="lr"):
        train.TrainSettings(lr=-1)


# --- the command -------------------------------------------------------------------------------
def test_cli_train_missing_mnist_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["train", "--mnist", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.npz"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "nowhere" in err
    assert not (tmp_path / "m.npz").exists()


def test_cli_train_bad_settings_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--epochs", "0", "--out", str(tmp_path / "m.npz"), "--quiet"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_cli_train_limit_writes_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.npz"
    rc = main(["train", "--limit", "200", "--epochs", "1", "--batch-size", "50", "--out", str(out),
               "--no-test", "--quiet", "--seed", "2"])
    assert rc == 0 and "wrote" in capsys.readouterr().out
    model = network.load_model(out)
    assert model.training["settings"]["seed"] == 2 and model.training["train_images"] == 160


# --- warm start, validation size, shifts ---------------------------------------------------------
@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="shipped model not present")
def test_warm_start_continues_the_model(small_train: mnist.Split) -> None:
    """A warm start keeps the initial model's weights (a tiny learning rate flips none) and its
    accuracy; a fresh start from the same seed does not."""
    init = network.load_model(DEFAULT_MODEL)
    settings = train.TrainSettings(epochs=1, batch_size=50, lr=1e-6, seed=0, val_size=50, calib_images=200)
    warm, hist = train.train(small_train.images[:250], small_train.labels[:250], settings, progress=False,
                             init=init)
    assert all(np.array_equal(a, b) for a, b in zip(warm.weights, init.weights, strict=True))
    assert hist["initial_val_accuracy"] > 0.9 and hist["val_accuracy"] > 0.9
    cold, _ = train.train(small_train.images[:250], small_train.labels[:250], settings, progress=False)
    assert not all(np.array_equal(a, b) for a, b in zip(cold.weights, init.weights, strict=True))


def test_warm_start_needs_the_same_network(small_train: mnist.Split) -> None:
    init = network.load_model(DEFAULT_MODEL) if DEFAULT_MODEL.is_file() else None
    if init is None:
        pytest.skip("shipped model not present")
    settings = train.TrainSettings(epochs=1, arch="resnet", val_size=50, calib_images=100)
    with pytest.raises(ValueError, match="--arch"):
        train.train(small_train.images[:200], small_train.labels[:200], settings, progress=False, init=init)


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="shipped model not present")
def test_cli_train_init_records_the_chain_and_is_deterministic(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    outs = [tmp_path / "a.npz", tmp_path / "b.npz"]
    for out in outs:
        assert main(["train", "--init", str(DEFAULT_MODEL), "--limit", "150", "--epochs", "1",
                     "--lr", "0.002", "--batch-size", "50", "--val-size", "0", "--shift", "2",
                     "--out", str(out), "--no-test", "--quiet"]) == 0
    line = capsys.readouterr().out
    assert "validation accuracy n/a" in line and "trained on 150 images (0 held out" in line
    a, b = (network.load_model(p) for p in outs)
    assert all(np.array_equal(x, y) for x, y in zip(a.weights + a.alpha, b.weights + b.alpha, strict=True))
    cmd = a.training["command"]
    assert "--val-size 0" in cmd and "--shift 2" in cmd and f"--init {DEFAULT_MODEL}" in cmd
    shipped = network.load_model(DEFAULT_MODEL).training
    assert a.training["init"]["training"]["command"] == shipped["command"]
    assert len(a.training["init"]["sha256"]) == 64
    assert a.training["val_accuracy"] is None and a.training["settings"]["shift"] == 2


def test_cli_train_default_command_is_unchanged(tmp_path: Path) -> None:
    """Options left at their defaults stay out of the recorded command (the shipped LeNet's command
    still reproduces it)."""
    out = tmp_path / "m.npz"
    assert main(["train", "--limit", "100", "--epochs", "1", "--batch-size", "50", "--out", str(out),
                 "--no-test", "--quiet"]) == 0
    expected = "convsram train --epochs 1 --seed 0 --batch-size 50 --lr 0.01 --noise 0.0 --percentile 99.9"
    assert network.load_model(out).training["command"] == expected + " --limit 100"


@pytest.mark.parametrize("args, what", [(["--val-size", "-1"], "val size"), (["--shift", "5"], "shift"),
                                         (["--init", "nowhere.npz"], "nowhere"),
                                         (["--init", str(DEFAULT_MODEL), "--arch", "resnet"], "--arch")])
def test_cli_train_bad_new_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                          what: str) -> None:
    if "--arch" in args and not DEFAULT_MODEL.is_file():
        pytest.skip("shipped model not present")
    out = tmp_path / "m.npz"
    rc = main(["train", "--limit", "100", "--epochs", "1", "--out", str(out), "--quiet", "--no-test", *args])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and what in err
    assert not out.exists()
