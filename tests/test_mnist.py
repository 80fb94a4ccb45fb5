import gzip
import shutil

import numpy as np
import pytest

from convsram.core import mnist
from convsram.core.paths import MNIST_DIR


def test_bundled_test_set_reads_completely():
    s = mnist.load("test")
    assert s.images.shape == (10_000, 28, 28) and s.images.dtype == np.uint8
    assert np.bincount(s.labels, minlength=10).sum() == 10_000


def test_bundled_train_labels_match_published_counts():
    labels = mnist.read_idx(MNIST_DIR / "train-labels-idx1-ubyte.gz", mnist.LABEL_MAGIC)
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def _copy_test_split(tmp_path):
    for stem in mnist.FILES["test"]:
        shutil.copy(MNIST_DIR / f"{stem}.gz", tmp_path / f"{stem}.gz")
    return tmp_path


def test_truncated_file_is_named(tmp_path):
    d = _copy_test_split(tmp_path)
    raw = gzip.decompress((d / "t10k-images-idx3-ubyte.gz").read_bytes())
    (d / "t10k-images-idx3-ubyte.gz").unlink()
    (d / "t10k-images-idx3-ubyte").write_bytes(raw[:-100])
    with pytest.raises(mnist.DataError, match="t10k-images-idx3-ubyte.*truncated"):
        mnist.load("test", d)


def test_truncated_gzip_is_named(tmp_path):
    d = _copy_test_split(tmp_path)
    p = d / "t10k-labels-idx1-ubyte.gz"
    p.write_bytes(p.read_bytes()[:1000])
    with pytest.raises(mnist.DataError, match="t10k-labels-idx1-ubyte.gz"):
        mnist.load("test", d)


def test_bad_magic_is_named(tmp_path):
    d = _copy_test_split(tmp_path)
    p = d / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(p.read_bytes()))
    raw[3] = 0x99
    p.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(mnist.DataError, match="magic"):
        mnist.load("test", d)


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(mnist.DataError, match="not found"):
        mnist.load("test", tmp_path / "nope")
    with pytest.raises(mnist.DataError, match="t10k-images"):
        mnist.load("test", tmp_path)
