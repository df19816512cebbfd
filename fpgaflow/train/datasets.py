"""Data sets for training: scikit-learn's digits, Fashion-MNIST (Debian package), user arrays.

Every loader returns a :class:`Dataset` of float32 images in [0, 1] shaped ``(N, C, H, W)`` and
int64 labels; :meth:`Dataset.flat` gives the ``(N, C*H*W)`` view an MLP takes.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fpgaflow.errors import UserError

log = logging.getLogger(__name__)

#: Where the Debian package ``dataset-fashion-mnist`` puts the four IDX files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz",
}
#: digits: the last 360 of the 1,797 samples are the test set (a fixed split).
DIGITS_TEST = 360
DATASETS = ("digits", "fashion-mnist")


@dataclass
class Dataset:
    """Train and test splits: images ``(N, C, H, W)`` float32 in [0, 1], labels int64."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def image_shape(self) -> tuple[int, ...]:
        """One sample's shape, ``(C, H, W)``."""
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        """Classes, counted as the largest label + 1."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def flat(self) -> "Dataset":
        """The same data with every sample flattened to a vector (for an MLP)."""
        return Dataset(self.name, self.x_train.reshape(len(self.x_train), -1),
                       self.y_train, self.x_test.reshape(len(self.x_test), -1), self.y_test)

    def holdout(self, fraction: float, seed: int = 0) -> tuple["Dataset", "Dataset"]:
        """Split a validation set off the training data (a seeded random ``fraction`` of it).

        Returns ``(fit, validation)``: ``fit`` trains on the rest and keeps the test split;
        ``validation`` has the held-out samples as its test split (for choosing, not reporting).
        """
        order = np.random.default_rng(seed).permutation(len(self.x_train))
        n = max(1, int(round(fraction * len(order))))
        val, fit = np.sort(order[:n]), np.sort(order[n:])
        return (Dataset(self.name, self.x_train[fit], self.y_train[fit], self.x_test, self.y_test),
                Dataset(self.name + "-validation", self.x_train[fit], self.y_train[fit],
                        self.x_train[val], self.y_train[val]))

    def subset(self, train: int | None = None, test: int | None = None) -> "Dataset":
        """The first ``train`` training and ``test`` test samples (all where None)."""
        return Dataset(self.name, self.x_train[:train], self.y_train[:train], self.x_test[:test], self.y_test[:test])


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """A data set by name (``digits``, ``fashion-mnist``) or from a ``.npz`` file of arrays.

    Args:
        name: ``digits``, ``fashion-mnist`` or the path of an ``.npz`` with ``x_train``,
            ``y_train``, ``x_test`` and ``y_test`` (see :func:`from_arrays`).
        data_dir: for ``fashion-mnist``, a folder with the four IDX files
            [default: the Debian package's :data:`FASHION_MNIST_DIR`].
    """
    if name == "digits":
        return digits()
    if name == "fashion-mnist":
        return fashion_mnist(data_dir)
    if name.endswith(".npz"):
        return from_npz(name)
    raise UserError(f"--dataset {name}: unknown data set; use digits, fashion-mnist or a .npz file "
                    "with x_train, y_train, x_test, y_test")


def digits() -> Dataset:
    """scikit-learn's 8x8 digits (1,797 samples): the first 1,437 train, the last 360 test."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = data.target.astype(np.int64)
    return Dataset("digits", x[:-DIGITS_TEST], y[:-DIGITS_TEST], x[-DIGITS_TEST:], y[-DIGITS_TEST:])


def fashion_mnist(data_dir: str | Path | None = None) -> Dataset:
    """Fashion-MNIST (60,000 train, 10,000 test 28x28 images) from its IDX files."""
    folder = Path(data_dir) if data_dir is not None else FASHION_MNIST_DIR
    paths = {k: folder / f for k, f in FASHION_MNIST_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise UserError(f"Fashion-MNIST: missing {', '.join(missing)}; install the Debian package "
                        "dataset-fashion-mnist (bash scripts/install_system_packages.sh) or pass --data-dir "
                        "with the four *-ubyte.gz files")
    arrays = {k: read_idx(p) for k, p in paths.items()}
    to_images = lambda a: (a.astype(np.float32) / 255.0).reshape(len(a), 1, 28, 28)  # noqa: E731
    return Dataset("fashion-mnist", to_images(arrays["x_train"]), arrays["y_train"].astype(np.int64),
                   to_images(arrays["x_test"]), arrays["y_test"].astype(np.int64))


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzipped or not) of unsigned bytes: the MNIST format."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise UserError(f"{path}: not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise UserError(f"{path}: header says {dims} but holds {data.size} bytes")
    return data.reshape(dims)


def from_npz(path: str | Path) -> Dataset:
    """A user data set saved with ``np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--dataset {path}: no such file")
    with np.load(path) as npz:
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in npz]
        if missing:
            raise UserError(f"--dataset {path}: missing arrays {', '.join(missing)} "
                            "(expected x_train, y_train, x_test, y_test)")
        return from_arrays(npz["x_train"], npz["y_train"], npz["x_test"], npz["y_test"], name=path.stem)


def from_arrays(x_train, y_train, x_test, y_test, name: str = "arrays") -> Dataset:
    """A data set from numpy arrays.

    Images may be ``(N, F)`` vectors, ``(N, H, W)`` or ``(N, C, H, W)``; they must already be
    scaled to [0, 1] (the 8-bit input quantizer covers that range). Labels are integer classes.
    """
    xs, ys = [np.asarray(x_train), np.asarray(x_test)], [np.asarray(y_train), np.asarray(y_test)]
    for split, x, y in zip(("train", "test"), xs, ys):
        if x.ndim not in (2, 3, 4) or len(x) != len(y) or len(x) == 0:
            raise UserError(f"data set {name}: x_{split} must be (N, F), (N, H, W) or (N, C, H, W) with one "
                            f"label per sample; got x {x.shape}, y {y.shape}")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise UserError(f"data set {name}: y_{split} must hold class numbers 0, 1, ...")
        if x.min() < 0 or x.max() > 1:
            raise UserError(f"data set {name}: x_{split} must be scaled to [0, 1] "
                            f"(found {x.min():g}..{x.max():g})")
    if xs[0].shape[1:] != xs[1].shape[1:]:
        raise UserError(f"data set {name}: x_train samples {xs[0].shape[1:]} and x_test samples "
                        f"{xs[1].shape[1:]} differ")

    def images(x):
        x = x.astype(np.float32)
        return x[:, None, None, :] if x.ndim == 2 else x[:, None] if x.ndim == 3 else x

    return Dataset(name, images(xs[0]), ys[0].astype(np.int64), images(xs[1]), ys[1].astype(np.int64))
