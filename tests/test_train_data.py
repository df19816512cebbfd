"""fpgaflow.train.datasets: IDX files, Fashion-MNIST, digits and user arrays."""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest

from fpgaflow.errors import UserError
from fpgaflow.train import datasets
from fpgaflow.train.datasets import digits, fashion_mnist, from_arrays, from_npz, load_dataset, read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX (MNIST) encoding of a uint8 array, written by hand from the format's description."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx(path, array: np.ndarray) -> None:
    data = idx_bytes(array)
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_roundtrip(tmp_path, name):
    rng = np.random.default_rng(3)
    array = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    write_idx(tmp_path / name, array)
    got = read_idx(tmp_path / name)
    assert got.shape == (4, 5, 3)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, array)


def test_read_idx_labels_1d(tmp_path):
    labels = np.array([9, 0, 3, 255, 7], dtype=np.uint8)
    write_idx(tmp_path / "labels-idx1-ubyte.gz", labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels-idx1-ubyte.gz"), labels)


@pytest.mark.parametrize("raw", [
    b"\x00\x00\x0d\x01\x00\x00\x00\x02ab",  # float data type (0x0D), not unsigned bytes
    b"\x12\x34\x08\x01\x00\x00\x00\x02ab",  # garbage in the first bytes
    b"PK\x03",                               # too short to hold a magic number
], ids=["float-type", "garbage", "short"])
def test_read_idx_bad_magic(tmp_path, raw):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(raw)
    with pytest.raises(UserError, match="not an IDX file"):
        read_idx(path)


def test_read_idx_truncated(tmp_path):
    data = idx_bytes(np.zeros((3, 4), dtype=np.uint8))[:-2]
    path = tmp_path / "cut-idx2-ubyte"
    path.write_bytes(data)
    with pytest.raises(UserError, match=r"\(3, 4\)"):
        read_idx(path)


def _fake_fashion(folder, n_train=5, n_test=3):
    rng = np.random.default_rng(0)
    raw = {
        "x_train": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    raw["x_train"][0, 0, 0], raw["x_train"][0, 0, 1] = 0, 255
    raw["y_train"][0] = 9
    for key, name in (("x_train", "train-images-idx3-ubyte.gz"), ("y_train", "train-labels-idx1-ubyte.gz"),
                      ("x_test", "t10k-images-idx3-ubyte.gz"), ("y_test", "t10k-labels-idx1-ubyte.gz")):
        write_idx(folder / name, raw[key])
    return raw


def test_fashion_mnist_from_folder(tmp_path):
    raw = _fake_fashion(tmp_path)
    data = fashion_mnist(data_dir=tmp_path)
    assert data.x_train.shape == (5, 1, 28, 28)
    assert data.x_test.shape == (3, 1, 28, 28)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_train[:, 0], raw["x_train"].astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(data.x_test[:, 0], raw["x_test"].astype(np.float32) / np.float32(255))
    assert data.x_train[0, 0, 0, 0] == 0.0 and data.x_train[0, 0, 0, 1] == 1.0
    np.testing.assert_array_equal(data.y_train, raw["y_train"])
    np.testing.assert_array_equal(data.y_test, raw["y_test"])
    assert data.image_shape == (1, 28, 28)
    assert data.flat().x_train.shape == (5, 784)


def test_fashion_mnist_missing_file(tmp_path):
    _fake_fashion(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(UserError, match="t10k-labels-idx1-ubyte.gz"):
        fashion_mnist(data_dir=tmp_path)
    with pytest.raises(UserError, match="t10k-labels-idx1-ubyte.gz"):
        load_dataset("fashion-mnist", tmp_path)


def test_fashion_mnist_package():
    if not datasets.FASHION_MNIST_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{datasets.FASHION_MNIST_DIR} is missing under CI: "
                        "scripts/install_system_packages.sh should install dataset-fashion-mnist")
        pytest.skip(f"{datasets.FASHION_MNIST_DIR} not installed (Debian package dataset-fashion-mnist)")
    data = load_dataset("fashion-mnist")
    assert data.x_train.shape == (60000, 1, 28, 28)
    assert data.x_test.shape == (10000, 1, 28, 28)
    assert len(data.y_train) == 60000 and len(data.y_test) == 10000
    assert data.num_classes == 10
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class
    np.testing.assert_array_equal(np.bincount(data.y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(data.y_test), [1000] * 10)
    for x in (data.x_train, data.x_test):
        assert x.dtype == np.float32
        assert x.min() == 0.0 and x.max() == 1.0


def test_digits_split():
    from sklearn.datasets import load_digits

    data = digits()
    ref = load_digits()
    assert len(data.x_train) == len(data.y_train) == 1437
    assert len(data.x_test) == len(data.y_test) == 360
    assert data.image_shape == (1, 8, 8)
    assert data.num_classes == 10
    assert data.x_train.min() >= 0 and data.x_train.max() <= 1
    np.testing.assert_allclose(data.x_train.reshape(1437, 64), ref.data[:1437] / 16, rtol=0, atol=1e-7)
    np.testing.assert_allclose(data.x_test.reshape(360, 64), ref.data[1437:] / 16, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(data.y_test, ref.target[1437:])
    assert load_dataset("digits").x_test.shape == (360, 1, 8, 8)


def test_unknown_dataset():
    with pytest.raises(UserError, match="--dataset nope"):
        load_dataset("nope")


@pytest.mark.parametrize("shape, expected", [
    ((6, 12), (1, 1, 12)),
    ((6, 4, 5), (1, 4, 5)),
    ((6, 3, 4, 5), (3, 4, 5)),
])
def test_from_arrays_shapes(shape, expected):
    rng = np.random.default_rng(1)
    x_train = rng.random(shape)
    x_test = rng.random((2,) + shape[1:])
    y_train, y_test = np.arange(6) % 3, np.array([2, 0])
    data = from_arrays(x_train, y_train, x_test, y_test)
    assert data.image_shape == expected
    assert data.x_train.shape == (6,) + expected and data.x_test.shape == (2,) + expected
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_train.reshape(shape), x_train.astype(np.float32))
    np.testing.assert_array_equal(data.y_test, y_test)
    assert data.num_classes == 3
    assert data.flat().x_test.shape == (2, int(np.prod(expected)))


def _good():
    rng = np.random.default_rng(2)
    return {"x_train": rng.random((6, 4, 4)), "y_train": np.arange(6) % 2,
            "x_test": rng.random((3, 4, 4)), "y_test": np.array([0, 1, 1])}


@pytest.mark.parametrize("change, needle", [
    (lambda a: a.update(x_train=a["x_train"] * 255), "x_train"),
    (lambda a: a.update(x_test=a["x_test"] - 0.5), "x_test"),
    (lambda a: a.update(y_train=a["y_train"][:5]), "x_train"),
    (lambda a: a.update(y_test=np.array([0, 1])), "x_test"),
    (lambda a: a.update(y_train=a["y_train"] - 1), "y_train"),
    (lambda a: a.update(y_test=np.array([0.0, 1.0, 1.0])), "y_test"),
    (lambda a: a.update(x_test=np.random.default_rng(0).random((3, 5, 4))), "x_test"),
], ids=["train-range", "test-negative", "train-labels", "test-labels", "negative-label", "float-labels",
        "sample-shape"])
def test_from_arrays_errors(change, needle):
    arrays = _good()
    change(arrays)
    with pytest.raises(UserError, match=needle):
        from_arrays(**arrays)


def test_from_npz(tmp_path):
    arrays = _good()
    path = tmp_path / "mine.npz"
    np.savez(path, **arrays)
    data = load_dataset(str(path))
    assert data.name == "mine"
    assert data.x_train.shape == (6, 1, 4, 4)
    np.testing.assert_array_equal(data.x_test[:, 0], arrays["x_test"].astype(np.float32))
    np.testing.assert_array_equal(from_npz(path).y_train, arrays["y_train"])


def test_from_npz_errors(tmp_path):
    arrays = _good()
    del arrays["y_test"]
    path = tmp_path / "partial.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserError, match="missing arrays y_test"):
        from_npz(path)
    with pytest.raises(UserError, match="no such file"):
        load_dataset(str(tmp_path / "absent.npz"))
    np.savez(tmp_path / "bad.npz", **_good() | {"x_train": np.full((6, 4, 4), 2.0)})
    with pytest.raises(UserError, match="x_train must be scaled"):
        from_npz(tmp_path / "bad.npz")
