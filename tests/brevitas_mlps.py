"""Small Brevitas MLPs trained on scikit-learn's digits data set, exported to QONNX.

Test-support module (it contains no tests). It trains tiny quantized MLPs
(64 -> 64 -> 32 -> 10) on ``sklearn.datasets.load_digits`` (8x8 images,
10 classes, pixels scaled to [0, 1]) in 2-3 seconds each (about 4 s for the
pruned kinds, which fine-tune after pruning) on one CPU thread,
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
``"po2"``
    As ``"w4a4_bn"`` (8-bit input, 4-bit ``QuantReLU``, ``BatchNorm1d``) but
    every weight is a signed power of two: the float weights are snapped to
    ``sign(w) * 2**round(log2|w|)`` in the forward pass (straight-through
    gradient, a ``torch.nn.utils.parametrize`` parametrization that is made
    permanent before export), keeping only the ``weight_bits - 1`` = 3 largest
    exponents of the layer (smaller weights become 0). The 4-bit weight
    quantizer is a fixed-point one whose scale maps the largest power of two
    onto the code ``2**(bits-2)`` = 4 (brevitas' own fixed-point quantizer
    maps it onto 8, which the narrow 4-bit range clips to 7), so the integer
    weight codes of every layer lie in ``{0, +-1, +-2, +-4}``. The weight
    scales are powers of two even with ``po2_scales=False`` (which then only
    affects the input and activation quantizers): a max-based float scale
    would map the largest power of two onto 7.
``"ternary"``
    As ``"w4a4_bn"`` with 2-bit narrow-range weights (codes ``{-1, 0, 1}``,
    like ``"w2a2"``) in every layer, but 4-bit activations. With
    ``po2_scales=True`` the weight scale is ``2**ceil(log2(max|w| / 2))``, so
    weights below a quarter to a half of the layer's largest magnitude become
    0; with float scales (``max|w|``) those below half of it.
``"pruned50"``, ``"pruned90"``
    ``"w4a4_bn"`` trained for ``epochs``, then 50% / 90% of the weights of
    every ``QuantLinear`` (both hidden layers and the output layer) with the
    smallest magnitude are zeroed per layer
    (``torch.nn.utils.prune.l1_unstructured``), the masked network is
    fine-tuned for :data:`FINETUNE_EPOCHS` more epochs and the pruning is made
    permanent (``prune.remove``). Quantization can only add zeros, so at least
    50% / 90% of every layer's integer weight codes are 0. At 90% some whole
    input rows of the codes are zero by chance (hidden neurons that the next
    layer ignores), but no output neuron loses all its weights.
``"neuron_pruned"``
    ``"w4a4_bn"`` trained for ``epochs``, then whole neurons are zeroed,
    keeping the layer shapes (see :data:`NEURON_PRUNING`): the 16 (of 64)
    output rows of the first hidden layer with the smallest L1 norm, then in
    the second hidden layer the 8 (of 64) input columns with the smallest L1
    norm and the 8 (of 32) output rows with the smallest L1 norm of the
    remaining weights (``torch.nn.utils.prune.ln_structured``), followed by
    :data:`FINETUNE_EPOCHS` epochs of masked fine-tuning and ``prune.remove``.
    The zeroed columns are chosen independently of the zeroed first-layer
    rows. Note that a zeroed row does not silence its neuron: the
    ``BatchNorm1d`` after it maps the constant 0 onto a constant (about its
    bias ``beta``, as the running mean and variance of the neuron decay to 0
    during fine-tuning), so the neuron's quantized ReLU output is a constant,
    which may be non-zero.

Pixels 0, 32 and 39 are 0 in every training image, so the first-layer
weights from them never receive a gradient and keep their small initial
values; magnitude pruning and coarse (ternary) quantization zero them, which
leaves three all-zero input rows in the first layer's codes.

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

:func:`weight_codes` reads the integer weight codes of an exported graph back,
e.g. to check the power-of-two, ternary and sparsity properties above.
"""

from __future__ import annotations

import copy
from typing import Callable
import logging
import pathlib
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize, prune

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

from fpgaflow.train.quantizers import BinaryWeight as _BinaryWeightPo2
from fpgaflow.train.quantizers import Po2Snap as _Po2Snap
from fpgaflow.train.quantizers import Po2Weight as _Po2CodeWeight
from fpgaflow.train.trainer import torch_threads

logger = logging.getLogger(__name__)

KINDS = (
    "w4a4_bias",
    "w4a4_bn",
    "w2a2",
    "binary",
    "po2",
    "ternary",
    "pruned50",
    "pruned90",
    "neuron_pruned",
)
"""The model kinds understood by :func:`make_mlp`."""

IN_FEATURES = 64
HIDDEN = (64, 32)
NUM_CLASSES = 10
INPUT_BIT_WIDTH = 8
NUM_TEST = 360



@dataclass(frozen=True)
class _KindSpec:
    """How one kind is built and trained.

    Attributes:
        weight_bits: weight bit width (1 = bipolar).
        act_bits: hidden activation bit width (None = bipolar).
        batchnorm: ``BatchNorm1d`` (and no bias) in the hidden layers.
        po2_weights: snap the weights to signed powers of two (kind ``"po2"``).
        pruning: None, ``"unstructured"`` (magnitude, per layer) or ``"neurons"``
            (see :data:`NEURON_PRUNING`); followed by masked fine-tuning.
        sparsity: fraction of weights zeroed per layer for ``"unstructured"``.
    """

    weight_bits: int
    act_bits: int | None
    batchnorm: bool
    po2_weights: bool = False
    pruning: str | None = None
    sparsity: float = 0.0


_KIND_SPECS = {
    "w4a4_bias": _KindSpec(4, 4, False),
    "w4a4_bn": _KindSpec(4, 4, True),
    "w2a2": _KindSpec(2, 2, True),
    "binary": _KindSpec(1, None, True),
    "po2": _KindSpec(4, 4, True, po2_weights=True),
    "ternary": _KindSpec(2, 4, True),
    "pruned50": _KindSpec(4, 4, True, pruning="unstructured", sparsity=0.5),
    "pruned90": _KindSpec(4, 4, True, pruning="unstructured", sparsity=0.9),
    "neuron_pruned": _KindSpec(4, 4, True, pruning="neurons"),
}

DEFAULT_EPOCHS = 10
"""Default training epochs: about 2-3 s per model on one CPU thread."""
BATCH_SIZE = 64
LEARNING_RATE = 0.02
FINETUNE_EPOCHS = 5
"""Masked fine-tuning epochs after pruning (the pruned kinds train ``epochs`` + this)."""
FINETUNE_LEARNING_RATE = LEARNING_RATE

NEURON_PRUNING = {"hidden1_rows": 16, "hidden2_cols": 8, "hidden2_rows": 8}
"""Kind ``"neuron_pruned"``: how many output rows of the first hidden layer
(of 64), input columns of the second hidden layer (of 64) and output rows of
the second hidden layer (of 32) are zeroed."""


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
    if _KIND_SPECS[kind].po2_weights:
        quants["weight"] = _Po2CodeWeight
    return quants


class QuantMLP(nn.Module):
    """A 64 -> 64 -> 32 -> 10 quantized MLP; see the module docstring for the kinds."""

    def __init__(self, kind: str, po2_scales: bool = True) -> None:
        super().__init__()
        if kind not in _KIND_SPECS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
        self.kind = kind
        self.po2_scales = po2_scales
        spec = _KIND_SPECS[kind]
        w_bits, a_bits, batchnorm = spec.weight_bits, spec.act_bits, spec.batchnorm
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

    def linears(self) -> list[QuantLinear]:
        """Return the ``QuantLinear`` layers in order (two hidden, then the output layer)."""
        return [m for m in self.layers if isinstance(m, QuantLinear)]


def _linear(in_f: int, out_f: int, bias: bool, quants: dict, w_bits: int) -> QuantLinear:
    if w_bits == 1:
        # Binary quantizers fix their bit width themselves.
        return QuantLinear(in_f, out_f, bias=bias, weight_quant=quants["weight"])
    return QuantLinear(
        in_f, out_f, bias=bias, weight_quant=quants["weight"], weight_bit_width=w_bits
    )


def _single_thread():
    """Run torch on one thread (fpgaflow.train's setting): tiny layers train fastest that way, and the
    reduction order, hence the trained weights, does not depend on the machine's thread count."""
    return torch_threads(1)


def train_mlp(
    kind: str, seed: int = 0, epochs: int = DEFAULT_EPOCHS, po2_scales: bool = True
) -> QuantMLP:
    """Train a :class:`QuantMLP` of the given kind on the digits training set.

    Mini-batch (64) Adam with a cosine learning-rate schedule; the weight
    initialisation and batch order are seeded, training runs single-threaded,
    and torch's global RNG state is left untouched, so the result is
    deterministic for a given seed. The pruned kinds are pruned after
    ``epochs`` epochs and fine-tuned with the pruning masks for
    :data:`FINETUNE_EPOCHS` more (Adam restarted at
    :data:`FINETUNE_LEARNING_RATE`); pruning masks and the power-of-two
    weight snapping are made permanent before returning, so the model holds
    plain ``QuantLinear`` layers whose ``weight`` is what gets exported.

    Args:
        kind: one of :data:`KINDS`.
        seed: seed for the weight initialisation and the batch order.
        epochs: passes over the 1437 training samples (before any pruning).
        po2_scales: power-of-two (fixed-point) scales if True, float scales otherwise.

    Returns:
        The trained model in ``eval()`` mode, with ``test_accuracy`` (on the
        360 test samples) and ``train_seconds`` attributes.
    """
    if kind not in _KIND_SPECS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    spec = _KIND_SPECS[kind]

    def po2_layers(model):
        return [(layer, spec.weight_bits - 1) for layer in model.linears()] if spec.po2_weights else []

    def prune_layers(model):
        _prune(model, spec)
        return [layer for layer in model.linears() if prune.is_pruned(layer)]

    return train_recipe(lambda: QuantMLP(kind, po2_scales), digits_data(), seed, epochs, po2_layers,
                        prune_layers if spec.pruning is not None else None,
                        f"{kind} (po2_scales={po2_scales}, seed={seed}, epochs={epochs})")


def train_recipe(
    build: Callable[[], nn.Module],
    data: tuple,
    seed: int,
    epochs: int,
    po2_layers: Callable[[nn.Module], list],
    prune_layers: Callable[[nn.Module], list] | None,
    label: str,
) -> nn.Module:
    """Seeded single-thread training shared by the MLP and CNN recipes.

    ``po2_layers(model)`` names (layer, levels) pairs whose weights are snapped to powers of two
    during training; ``prune_layers(model)``, if given, applies pruning masks after ``epochs``
    and returns the pruned layers, which are fine-tuned for :data:`FINETUNE_EPOCHS`. Snapping
    and masks are made permanent; the model returns in ``eval()`` with ``test_accuracy`` and
    ``train_seconds``. torch's global RNG state is left untouched.
    """
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]), _single_thread():
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        model = build()
        snapped = po2_layers(model)
        for layer, levels in snapped:
            parametrize.register_parametrization(layer, "weight", _Po2Snap(levels=levels))
        _fit(model, x_train, y_train, gen, epochs, LEARNING_RATE)
        if prune_layers is not None:
            pruned = prune_layers(model)
            _fit(model, x_train, y_train, gen, FINETUNE_EPOCHS, FINETUNE_LEARNING_RATE)
            for layer in pruned:
                prune.remove(layer, "weight")
        for layer, _ in snapped:
            parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)
        model.eval()
        with torch.no_grad():
            acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    model.train_seconds = time.perf_counter() - start
    model.test_accuracy = acc
    logger.info("trained %s in %.2fs: test accuracy %.3f", label, model.train_seconds, acc)
    return model


def _fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    gen: torch.Generator,
    epochs: int,
    lr: float,
) -> None:
    """Train ``model`` in place: mini-batch Adam, cosine schedule, batch order from ``gen``."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    loss_fn = nn.CrossEntropyLoss()
    model.train()  # BatchNorm running stats and activation-scale stats update
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for idx in perm.split(BATCH_SIZE):
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        sched.step()


def _prune(model: QuantMLP, spec: _KindSpec) -> None:
    """Attach ``torch.nn.utils.prune`` masks to the ``weight`` of the model's ``QuantLinear``s.

    ``"unstructured"``: per-layer L1 (magnitude) pruning of ``spec.sparsity``
    of every layer's weights. ``"neurons"``: L1-norm structured pruning as
    described by :data:`NEURON_PRUNING` (``QuantLinear.weight`` is
    ``[out, in]``, so rows are output neurons, ``dim=0``, and columns inputs,
    ``dim=1``).
    """
    hidden1, hidden2, output = model.linears()
    if spec.pruning == "unstructured":
        for layer in (hidden1, hidden2, output):
            prune.l1_unstructured(layer, "weight", amount=spec.sparsity)
    elif spec.pruning == "neurons":
        prune.ln_structured(hidden1, "weight", NEURON_PRUNING["hidden1_rows"], n=1, dim=0)
        prune.ln_structured(hidden2, "weight", NEURON_PRUNING["hidden2_cols"], n=1, dim=1)
        # rank the rows by the L1 norm of what is left after removing the columns
        prune.ln_structured(
            hidden2, "weight", NEURON_PRUNING["hidden2_rows"], n=1, dim=0,
            importance_scores=hidden2.weight.detach(),
        )
    else:
        raise ValueError(f"unknown pruning {spec.pruning!r}")


def export_model(
    model: nn.Module, onnx_path: pathlib.Path, dynamo: bool | None = None,
    input_shape: tuple[int, ...] = (IN_FEATURES,),
) -> pathlib.Path:
    """Export a model to QONNX at ``onnx_path`` with a ``(1, *input_shape)`` float32 dummy input.

    Args:
        model: a Brevitas model; it is put in ``eval()``.
        onnx_path: file to write (parent directories are created).
        dynamo: passed to ``export_qonnx``; None keeps brevitas' default, which
            is the dynamo exporter on torch >= 2.9 (a few seconds per export;
            ``False``, the TorchScript exporter, well under a second).
        input_shape: one sample's shape, without the batch dimension.

    Returns:
        ``onnx_path``.
    """
    onnx_path = pathlib.Path(onnx_path)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    dummy = torch.randn((1,) + tuple(input_shape), generator=torch.Generator().manual_seed(0))
    kwargs = {"verbose": False}
    if dynamo is not None:
        kwargs["dynamo"] = dynamo
    export_qonnx(model, dummy, export_path=str(onnx_path), **kwargs)
    return onnx_path


def export_mlp(model: nn.Module, onnx_path: pathlib.Path, dynamo: bool | None = None) -> pathlib.Path:
    """Export an MLP taking ``(N, 64)`` inputs; see :func:`export_model`."""
    return export_model(model, onnx_path, dynamo)


# Per-process caches so that several tests asking for the same configuration
# train and export it only once.
_MODEL_CACHE: dict[tuple, nn.Module] = {}
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
    path = pathlib.Path(out_dir) / f"{kind}_{file_suffix(po2_scales, dynamo, seed, epochs)}.onnx"
    return cached_model_file((kind, seed, epochs, po2_scales), lambda: train_mlp(kind, seed, epochs, po2_scales),
                             path, dynamo)


def file_suffix(po2_scales: bool, dynamo: bool | None, seed: int, epochs: int | None = None) -> str:
    """The part of a model file name that says how it was made."""
    scales = "po2" if po2_scales else "float"
    exporter = {None: "", True: "_dynamo", False: "_torchscript"}[dynamo]
    return f"{scales}_seed{seed}" + (f"_ep{epochs}" if epochs is not None else "") + exporter


def cached_model_file(
    key: tuple, build: Callable[[], nn.Module], path: pathlib.Path, dynamo: bool | None,
    input_shape: tuple[int, ...] = (IN_FEATURES,),
) -> tuple[pathlib.Path, nn.Module]:
    """Build (train) once per key and export once per key and exporter, per process.

    Every call writes the file at ``path`` and returns a private ``eval()`` copy of the model.
    """
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = build()
    model = copy.deepcopy(_MODEL_CACHE[key]).eval()
    export_key = key + (dynamo,)
    if export_key in _ONNX_CACHE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_ONNX_CACHE[export_key])
    else:
        export_model(model, path, dynamo, input_shape)
        _ONNX_CACHE[export_key] = path.read_bytes()
    return path, model


def make_mlp(kind: str, out_dir: pathlib.Path, **kwargs) -> pathlib.Path:
    """Train and export an MLP of the given kind to QONNX; return the ``.onnx`` path.

    See :func:`make_mlp_with_model` for the arguments.
    """
    return make_mlp_with_model(kind, out_dir, **kwargs)[0]


def weight_codes(onnx_path: pathlib.Path) -> list[np.ndarray]:
    """Return the integer weight codes of every weight quantizer of an exported MLP.

    The graph is loaded and cleaned up (``qonnx.util.cleanup.cleanup_model``,
    as :func:`check_against_brevitas` does); every ``Quant`` or
    ``BipolarQuant`` node whose input is an initializer is a weight
    quantizer. For ``Quant`` the code is
    ``clip(round(w / scale + zero_point), min, max) - zero_point`` (the node's
    rounding mode, signedness, narrow range and bit width), so that the
    dequantized weight is ``code * scale``; for ``BipolarQuant`` it is
    ``+1`` where ``w >= 0`` and ``-1`` elsewhere.

    Args:
        onnx_path: exported QONNX file.

    Returns:
        One int64 array per weight quantizer, in graph (= layer) order, each
        oriented ``[in_features, out_features]`` (``y = x @ codes * scale``)
        whether the consumer is a ``MatMul`` or a ``Gemm`` with ``transB=1``.
    """
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.general.quant import max_int, min_int, resolve_rounding_mode
    from qonnx.util.basic import get_by_name
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(str(onnx_path)))
    result = []
    for node in model.graph.node:
        if node.op_type not in ("Quant", "BipolarQuant"):
            continue
        w = model.get_initializer(node.input[0])
        if w is None:
            continue  # an activation quantizer
        w = np.asarray(w, dtype=np.float64)
        if node.op_type == "BipolarQuant":
            codes = np.where(w >= 0, 1, -1).astype(np.int64)
        else:
            scale, zero_point, bit_width = (
                np.asarray(model.get_initializer(name), dtype=np.float64)
                for name in node.input[1:4]
            )
            attrs = {a.name: a for a in node.attribute}
            signed = bool(attrs["signed"].i) if "signed" in attrs else True
            narrow = bool(attrs["narrow"].i) if "narrow" in attrs else False
            mode = attrs["rounding_mode"].s.decode() if "rounding_mode" in attrs else "ROUND"
            bits = int(bit_width)
            q = resolve_rounding_mode(mode)(w / scale + zero_point)
            q = np.clip(q, min_int(signed, narrow, bits), max_int(signed, narrow, bits))
            codes = np.rint(q - zero_point).astype(np.int64)
        consumer = model.find_consumer(node.output[0])
        if consumer is not None and consumer.op_type == "Gemm":
            trans_b = get_by_name(consumer.attribute, "transB")
            if trans_b is not None and trans_b.i:
                codes = codes.T
        result.append(np.ascontiguousarray(codes))
    return result


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
