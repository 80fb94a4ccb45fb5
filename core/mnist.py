"""Reading MNIST IDX files (gzipped or raw), validating header, counts and length."""

from __future__ import annotations

import gzip
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convsram.core.paths import MNIST_DIR

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049


class DataError(ValueError):
    """A data or model file is missing, truncated or malformed (message says which and how to fix)."""


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (n, 28, 28) uint8
    labels: np.ndarray  # (n,) uint8

    def __len__(self) -> int:
        return len(self.labels)


def _find(directory: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    raise DataError(f"MNIST file {directory / (stem + '.gz')} not found; pass --mnist DIR with the four "
                    f"MNIST files (gzipped or raw)")


MAX_ITEMS = 1_000_000  # images (or labels) a header may promise; MNIST has 70,000
CHUNK = 1 << 20


def _unreadable(path: Path, exc: BaseException) -> DataError:
    return DataError(f"{path}: cannot read ({type(exc).__name__}: {str(exc)[:120]}); the file is corrupt, "
                     f"truncated or not gzip, replace it with the original MNIST file")


def read_idx(path: Path, magic: int) -> np.ndarray:
    """One IDX file as uint8, its header checked against `magic` and its length against the header.

    Decompresses (gzip) in bounded chunks: never more than the header promises plus one chunk, so a
    gzip bomb or a lying header costs no more memory than a real file."""
    dims = 3 if magic == IMAGE_MAGIC else 1
    header = 4 * (1 + dims)
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            head = f.read(header)
            if len(head) < header:
                raise DataError(f"{path}: {len(head)} bytes is shorter than the IDX header; "
                                "file is truncated")
            found, *shape = struct.unpack(f">{1 + dims}i", head)
            if found != magic:
                kind = "image" if magic == IMAGE_MAGIC else "label"
                raise DataError(f"{path}: bad magic number {found}, expected {magic} for an IDX {kind} file")
            if any(s <= 0 for s in shape) or (dims == 3 and shape[1:] != [28, 28]):
                raise DataError(f"{path}: header says shape {shape}; expected (n, 28, 28) MNIST images")
            if shape[0] > MAX_ITEMS:
                raise DataError(f"{path}: header promises {shape[0]} items, more than the {MAX_ITEMS} "
                                f"this reader accepts (MNIST has 70,000)")
            expected = int(np.prod(shape))
            data = bytearray()
            while len(data) < expected:
                chunk = f.read(min(CHUNK, expected - len(data)))
                if not chunk:
                    break
                data += chunk
            extra = f.read(1)
    except DataError:
        raise
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise _unreadable(path, exc) from None
    if len(data) != expected or extra:
        got = f"{len(data)}" if not extra else f"more than {expected}"
        raise DataError(f"{path}: {got} data bytes but the header promises {expected}; "
                        f"the file is truncated or padded")
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def load(split: str = "test", directory: Path | str | None = None, limit: int | None = None) -> Split:
    """Load the 'train' or 'test' split from `directory` (default: the bundled assets/mnist)."""
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    d = Path(directory) if directory is not None else MNIST_DIR
    if not d.is_dir():
        raise DataError(f"MNIST directory {d} not found; pass --mnist DIR with the four MNIST files")
    img_stem, lab_stem = FILES[split]
    images = read_idx(_find(d, img_stem), IMAGE_MAGIC)
    labels = read_idx(_find(d, lab_stem), LABEL_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"{d}: {len(images)} {split} images but {len(labels)} labels")
    if labels.max() > 9:
        raise DataError(f"{d}: {lab_stem} holds label {labels.max()}; MNIST labels are 0..9")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return Split(images=images, labels=labels)
