"""Small Brevitas MLPs trained on scikit-learn's digits data set, exported to QONNX.

Test-support module (it contains no tests). It trains tiny quantized MLPs
(64 -> 64 -> 32 -> 10) on ``sklearn.datasets.load_digits`` (8x8 images,
10 classes, pixels scaled to [0, 1]) in 2-3 seconds each on one CPU thread,
and exports them with :func:`brevitas.export.export_qonnx` using a
``(1, 64)`` float32 dummy input.

Kinds (see :data:`KINDS`):

``"w4a4_bias"``
    8-bit signed input quantizer (``QuantIdentity``), hidden ``QuantLinear``
    layers with 4-bit weights and a float (unquantized) bias, 4-bit
    ``QuantReLU`` after each hidden layer, final ``QuantLinear`` (4-bit
    weights, float bias) producing the logits. There is no quantizer after
    the last layer: the graph output is the float Gemm result.
``"w4a4_bn"``
    As ``"w4a4_bias"`` but the hidden linear layers have ``bias=False`` and are
    followed by ``nn.BatchNorm1d`` before the 4-bit ``QuantReLU``.
``"w2a2"``
    As ``"w4a4_bn"`` with 2-bit weights (narrow range, i.e. the integers
    {-1, 0, 1} times the scale) and 2-bit unsigned activations. The input
    quantizer stays 8-bit.
``"binary"``
    FINN TFC_1W1A-style: bipolar (1-bit) weights in every layer (including
    the final one, which keeps a float bias), ``BatchNorm1d`` before each
    hidden activation, bipolar (sign) activations between layers. The input
    quantizer stays 8-bit (not bipolar), which keeps the grey levels of the
    tiny 8x8 images.

``po2_scales=True`` (default) uses brevitas' fixed-point quantizers
(``Int8ActPerTensorFixedPoint``, ``Int8WeightPerTensorFixedPoint``,
``Uint8ActPerTensorFixedPoint`` with bit-width overrides), so every scale is a
power of two; binary layers use constant scale 1.0.
``po2_scales=False`` uses brevitas' default float-scale quantizers
(``Int8ActPerTensorFloat``, ``Int8WeightPerTensorFloat``,
``Uint8ActPerTensorFloat``); binary layers keep brevitas' default constant
weight scale 0.1 and activation scale 1.0. Note that the float input scale
comes out as exactly 1/128 anyway, because the largest pixel value is 1.0.

Exported graphs (after ``qonnx.util.cleanup.cleanup_model``) contain only
``Quant``/``BipolarQuant``, ``Gemm`` or ``MatMul`` (bias inside the last
``Gemm``), ``BatchNormalization`` and ``Relu``; with the dynamo exporter
(brevitas' default on torch >= 2.9) every linear layer is a ``Gemm`` with
``transB=1``, with ``dynamo=False`` the bias-free ones are ``MatMul``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import pathlib
import time
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from brevitas.export import export_qonnx
from brevitas.nn import QuantIdentity, QuantLinear, QuantReLU
from brevitas.quant import (
    Int8ActPerTensorFixedPoint,
    Int8ActPerTensorFloat,
    Int8WeightPerTensorFixedPoint,
    Int8WeightPerTensorFloat,
    SignedBinaryActPerTensorConst,
    SignedBinaryWeightPerTensorConst,
    Uint8ActPerTensorFixedPoint,
    Uint8ActPerTensorFloat,
)

logger = logging.getLogger(__name__)

KINDS = ("w4a4_bias", "w4a4_bn", "w2a2", "binary")
"""The model kinds understood by :func:`make_mlp`."""

IN_FEATURES = 64
HIDDEN = (64, 32)
NUM_CLASSES = 10
INPUT_BIT_WIDTH = 8
NUM_TEST = 360

# Per kind: weight bit width, activation bit width (None = bipolar), BatchNorm?
_KIND_SPECS = {
    "w4a4_bias": (4, 4, False),
    "w4a4_bn": (4, 4, True),
    "w2a2": (2, 2, True),
    "binary": (1, None, True),
}

DEFAULT_EPOCHS = 10
"""Default training epochs: about 2-3 s per model on one CPU thread."""
BATCH_SIZE = 64
LEARNING_RATE = 0.02


class _BinaryWeightPo2(SignedBinaryWeightPerTensorConst):
    """Bipolar weights {-1, +1} with constant scale 1.0 (FINN style)."""

    scaling_const = 1.0


def digits_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the scikit-learn digits data set with a fixed train/test split.

    Pixels (0..16) are scaled to [0, 1]. The last 360 samples form the test
    set, the first 1437 the training set.

    Returns:
        ``(X_train, y_train, X_test, y_test)``: float32 arrays of shape
        ``(N, 64)`` and int64 label arrays of shape ``(N,)``.
    """
    x, y = _load_digits_cached()
    return (
        x[:-NUM_TEST].copy(),
        y[:-NUM_TEST].copy(),
        x[-NUM_TEST:].copy(),
        y[-NUM_TEST:].copy(),
    )


@lru_cache(maxsize=1)
def _load_digits_cached() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    return x, y


def _quantizers(kind: str, po2_scales: bool) -> dict:
    """Pick the brevitas quantizer classes for one kind."""
    if po2_scales:
        quants = {
            "input": Int8ActPerTensorFixedPoint,
            "weight": Int8WeightPerTensorFixedPoint,
            "act": Uint8ActPerTensorFixedPoint,
        }
    else:
        quants = {
            "input": Int8ActPerTensorFloat,
            "weight": Int8WeightPerTensorFloat,
            "act": Uint8ActPerTensorFloat,
        }
    if kind == "binary":
        quants["weight"] = _BinaryWeightPo2 if po2_scales else SignedBinaryWeightPerTensorConst
        quants["act"] = SignedBinaryActPerTensorConst
    return quants


class QuantMLP(nn.Module):
    """A 64 -> 64 -> 32 -> 10 quantized MLP; see the module docstring for the kinds."""

    def __init__(self, kind: str, po2_scales: bool = True) -> None:
        super().__init__()
        if kind not in _KIND_SPECS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
        self.kind = kind
        self.po2_scales = po2_scales
        w_bits, a_bits, batchnorm = _KIND_SPECS[kind]
        quants = _quantizers(kind, po2_scales)

        layers: list[nn.Module] = [
            QuantIdentity(act_quant=quants["input"], bit_width=INPUT_BIT_WIDTH)
        ]
        in_features = IN_FEATURES
        for out_features in HIDDEN:
            layers.append(_linear(in_features, out_features, not batchnorm, quants, w_bits))
            if batchnorm:
                layers.append(nn.BatchNorm1d(out_features))
            if a_bits is None:
                layers.append(QuantIdentity(act_quant=quants["act"]))
            else:
                layers.append(QuantReLU(act_quant=quants["act"], bit_width=a_bits))
            in_features = out_features
        layers.append(_linear(in_features, NUM_CLASSES, True, quants, w_bits))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits for a ``(N, 64)`` float input."""
        return self.layers(x)


def _linear(in_f: int, out_f: int, bias: bool, quants: dict, w_bits: int) -> QuantLinear:
    if w_bits == 1:
        # Binary quantizers fix their bit width themselves.
        return QuantLinear(in_f, out_f, bias=bias, weight_quant=quants["weight"])
    return QuantLinear(
        in_f, out_f, bias=bias, weight_quant=quants["weight"], weight_bit_width=w_bits
    )


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    """Run torch on one thread, restoring the previous setting afterwards.

    The layers are tiny, so one thread is faster than several (and much
    faster than oversubscribed cores), and it makes the floating-point
    reduction order, hence the trained weights, independent of the machine's
    thread count.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_mlp(
    kind: str, seed: int = 0, epochs: int = DEFAULT_EPOCHS, po2_scales: bool = True
) -> QuantMLP:
    """Train a :class:`QuantMLP` of the given kind on the digits training set.

    Mini-batch (64) Adam with a cosine learning-rate schedule; the weight
    initialisation and batch order are seeded, training runs single-threaded,
    and torch's global RNG state is left untouched, so the result is
    deterministic for a given seed.

    Args:
        kind: one of :data:`KINDS`.
        seed: seed for the weight initialisation and the batch order.
        epochs: passes over the 1437 training samples.
        po2_scales: power-of-two (fixed-point) scales if True, float scales otherwise.

    Returns:
        The trained model in ``eval()`` mode, with ``test_accuracy`` (on the
        360 test samples) and ``train_seconds`` attributes.
    """
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in digits_data())
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]), _single_thread():
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        model = QuantMLP(kind, po2_scales)
        opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
        loss_fn = nn.CrossEntropyLoss()
        model.train()  # BatchNorm running stats and activation-scale stats update
        for _ in range(epochs):
            perm = torch.randperm(len(x_train), generator=gen)
            for idx in perm.split(BATCH_SIZE):
                opt.zero_grad()
                loss_fn(model(x_train[idx]), y_train[idx]).backward()
                opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    model.train_seconds = time.perf_counter() - start
    model.test_accuracy = acc
    logger.info(
        "trained %s (po2_scales=%s, seed=%d, epochs=%d) in %.2fs: test accuracy %.3f",
        kind, po2_scales, seed, epochs, model.train_seconds, acc,
    )
    return model


def export_mlp(
    model: nn.Module, onnx_path: pathlib.Path, dynamo: bool | None = None
) -> pathlib.Path:
    """Export a model to QONNX at ``onnx_path`` with a ``(1, 64)`` float32 dummy input.

    Args:
        model: a Brevitas model taking ``(N, 64)`` inputs; it is put in ``eval()``.
        onnx_path: file to write (parent directories are created).
        dynamo: passed to ``export_qonnx``; None keeps brevitas' default, which
            is the dynamo exporter on torch >= 2.9 (about 2.5 s per export;
            ``False``, the TorchScript exporter, takes about 0.2 s).

    Returns:
        ``onnx_path``.
    """
    onnx_path = pathlib.Path(onnx_path)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    dummy = torch.randn(1, IN_FEATURES, generator=torch.Generator().manual_seed(0))
    kwargs = {"verbose": False}
    if dynamo is not None:
        kwargs["dynamo"] = dynamo
    export_qonnx(model, dummy, export_path=str(onnx_path), **kwargs)
    return onnx_path


# Per-process caches so that several tests asking for the same configuration
# train and export it only once.
_MODEL_CACHE: dict[tuple, QuantMLP] = {}
_ONNX_CACHE: dict[tuple, bytes] = {}


def make_mlp_with_model(
    kind: str,
    out_dir: pathlib.Path,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
    po2_scales: bool = True,
    dynamo: bool | None = None,
) -> tuple[pathlib.Path, QuantMLP]:
    """Train and export an MLP of the given kind; return the path and the model.

    Training and export are cached per process and configuration; every call
    writes the file into ``out_dir`` and returns a private copy of the model.

    Args:
        kind: one of :data:`KINDS`.
        out_dir: directory the ``.onnx`` file is written to (created if needed).
        seed: training seed.
        epochs: training epochs.
        po2_scales: power-of-two scales (brevitas' fixed-point quantizers) if
            True, brevitas' default float-scale quantizers otherwise.
        dynamo: exporter choice, see :func:`export_mlp`.

    Returns:
        ``(onnx_path, model)``; the model is in ``eval()`` mode and carries
        ``test_accuracy`` and ``train_seconds`` attributes.
    """
    key = (kind, seed, epochs, po2_scales)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = train_mlp(kind, seed, epochs, po2_scales)
    model = copy.deepcopy(_MODEL_CACHE[key]).eval()

    scales = "po2" if po2_scales else "float"
    exporter = {None: "", True: "_dynamo", False: "_torchscript"}[dynamo]
    path = pathlib.Path(out_dir) / f"{kind}_{scales}_seed{seed}_ep{epochs}{exporter}.onnx"
    export_key = key + (dynamo,)
    if export_key in _ONNX_CACHE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_ONNX_CACHE[export_key])
    else:
        export_mlp(model, path, dynamo)
        _ONNX_CACHE[export_key] = path.read_bytes()
    return path, model


def make_mlp(kind: str, out_dir: pathlib.Path, **kwargs) -> pathlib.Path:
    """Train and export an MLP of the given kind to QONNX; return the ``.onnx`` path.

    See :func:`make_mlp_with_model` for the arguments.
    """
    return make_mlp_with_model(kind, out_dir, **kwargs)[0]

def check_against_brevitas(
    onnx_path: pathlib.Path, torch_model: nn.Module, x: np.ndarray, atol: float = 1e-4
) -> tuple[np.ndarray, np.ndarray]:
    """Execute the cleaned-up QONNX graph with qonnx and compare with Brevitas.

    Each row of ``x`` is run separately as a ``(1, 64)`` input through
    ``qonnx.core.onnx_exec.execute_onnx`` after ``cleanup_model``.

    Args:
        onnx_path: exported QONNX file.
        torch_model: the Brevitas model it was exported from.
        x: float32 inputs of shape ``(N, 64)``.
        atol: allowed absolute difference between the logits.

    Returns:
        ``(onnx_logits, torch_logits)``, both of shape ``(N, 10)``.

    Raises:
        AssertionError: if the argmax differs for any row or the logits differ
            by more than ``atol``.
    """
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(str(onnx_path)))
    in_name = model.graph.input[0].name
    out_name = model.graph.output[0].name
    x = np.asarray(x, dtype=np.float32).reshape(-1, IN_FEATURES)
    onnx_out = np.concatenate(
        [execute_onnx(model, {in_name: row[None, :]})[out_name] for row in x]
    )
    torch_model.eval()
    with torch.no_grad():
        torch_out = torch_model(torch.from_numpy(x)).numpy()
    mismatches = np.flatnonzero(onnx_out.argmax(1) != torch_out.argmax(1))
    assert mismatches.size == 0, f"argmax differs on rows {mismatches.tolist()}"
    max_diff = float(np.abs(onnx_out - torch_out).max())
    assert max_diff <= atol, f"logits differ by up to {max_diff}"
    return onnx_out, torch_out
