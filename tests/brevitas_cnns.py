"""Small Brevitas CNNs trained on scikit-learn's digits data set, exported to QONNX.

Test-support module (it contains no tests), the convolutional counterpart of
:mod:`brevitas_mlps` (whose data set, quantizers, training loop and
single-thread context it reuses). It trains tiny quantized CNNs on
``sklearn.datasets.load_digits`` images, shaped ``(N, 1, 8, 8)`` float32 with
pixels in [0, 1], in 4-10 seconds each on one CPU thread, and exports them
with :func:`brevitas.export.export_qonnx` using a ``(1, 1, 8, 8)`` float32
dummy input (about 3-6 s with the dynamo exporter, under 1 s with
``dynamo=False``).

Test accuracy on the 360 test images (seed 0, 10 epochs, power-of-two
scales), for orientation: ``cnv_w2a2`` 0.914, ``cnv_w1a1`` 0.850,
``strided_padded`` 0.922, ``depthwise_separable`` 0.942, ``residual`` 0.950,
``cnv_po2`` 0.936, ``cnv_sparse90`` 0.961.

Every model starts with an 8-bit signed input quantizer (``QuantIdentity``),
has ``QuantConv2d`` layers (``bias=False``) each followed by
``nn.BatchNorm2d`` and an activation quantizer, and ends with
``torch.flatten`` and a ``QuantLinear`` (float bias) producing 10 logits, with
no quantizer after it: the graph output is the float ``Gemm`` result. Every
"BN+act" below is ``BatchNorm2d`` followed by ``QuantReLU`` (or by a bipolar
sign ``QuantIdentity`` for ``"cnv_w1a1"``). Spatial sizes are given as
``HxW`` after each layer.

Kinds (see :data:`KINDS`):

``"cnv_w2a2"``
    FINN CNV-like, no padding anywhere: conv3x3 (16 channels, 6x6) - BN+act -
    conv3x3 (16, 4x4) - BN+act - maxpool 2x2 stride 2 (2x2) - conv **2x2**
    (32, 1x1) - BN+act - flatten (32) - linear (10). The last conv has a 2x2
    kernel because a valid 3x3 conv does not fit the 2x2 map left after the
    pool (as in FINN's CNV, whose last convs shrink the map to 1x1 without
    padding). 2-bit narrow-range weights (codes {-1, 0, 1}) and 2-bit unsigned
    activations; the input quantizer stays 8-bit.
``"cnv_w1a1"``
    FINN CNV_1W1A-like: the ``"cnv_w2a2"`` topology with 16/32/32 channels,
    bipolar weights in every layer (including the output layer, which keeps a
    float bias), ``BatchNorm2d`` before each bipolar (sign) activation. The
    first conv gets the 8-bit input. The max pool acts on bipolar values.
``"strided_padded"``
    conv3x3 stride 2 padding 1 (16 channels, 4x4) - BN+act - conv3x3 stride 1
    padding 1 (32, 4x4) - BN+act - ``nn.AdaptiveAvgPool2d(1)`` (global
    average pool, 1x1, float output: no quantizer after it) - flatten (32) -
    linear. 4-bit weights and activations. Padding is inside the ``Conv``
    node (``pads``). The global pool exports as ``ReduceMean`` (axes
    ``[-1, -2]`` given as a second input, ``keepdims=1``) with the dynamo
    exporter and as ``GlobalAveragePool`` with ``dynamo=False``; with
    power-of-two scales the mean of the 16 values is exact in float.
``"depthwise_separable"``
    conv3x3 (8 channels, 6x6) - BN+act - depthwise conv3x3 (``groups=8``,
    padding 1, 8 channels, 6x6) - BN+act - pointwise conv1x1 (16, 6x6) -
    BN+act - maxpool 2x2 (3x3) - flatten (144, channel-major) - linear.
    4-bit weights and activations.
``"residual"``
    conv3x3 padding 1 (8 channels, 8x8) - BN+act, then
    ``add_quant(x) + add_quant(branch(x))`` with branch = conv3x3 padding 1 -
    BN+act - conv3x3 padding 1 - ``BatchNorm2d`` (8 channels each), then
    ``QuantReLU`` - maxpool 2x2 (4x4) - flatten (128) - linear. ``add_quant``
    is ONE shared 5-bit signed ``QuantIdentity`` instance applied to both
    operands, so both inputs of the exported ``Add`` are ``Quant`` nodes with
    the same scale, zero point and bit width (identity path:
    ``Quant(4-bit unsigned) -> Quant(5-bit signed) -> Add``; branch:
    ``Conv -> BatchNormalization -> Quant(5-bit signed) -> Add``), and the
    ``Add`` is followed by ``Relu -> Quant(4-bit unsigned)``. 4-bit weights
    and activations. With power-of-two scales the identity path's
    re-quantization keeps the scale (lossless); with float scales the two
    scales differ, so it rounds.
``"cnv_po2"``
    The ``"cnv_w2a2"`` topology (2-bit activations) with 4-bit narrow-range
    weights, whose second conv (``convs()[1]``) has signed power-of-two
    weights exactly as ``brevitas_mlps``' kind ``"po2"``: the float weights
    are snapped to ``sign(w) * 2**round(log2|w|)`` (keeping the 3 largest
    exponents, straight-through gradient, parametrization made permanent
    before export) and quantized with a fixed-point quantizer mapping the
    largest power of two onto code 4, so its integer codes lie in
    ``{0, +-1, +-2, +-4}``. The other layers use the ordinary 4-bit weight
    quantizer.
``"concat_avgpool"``
    conv3x3 padding 1 (8 channels, 8x8) - BN+act, then two branches joined by
    ``torch.cat`` on channels: conv1x1 (4) - BN, and an explicit
    ``nn.functional.pad`` by 1 (a ``Pad`` node) - conv3x3 (4) - BN, both
    through ONE shared ``QuantReLU`` (same scale, 8x8x8); then
    ``nn.AvgPool2d(2)`` (4x4, float output, no quantizer) - conv3x3 (16, 2x2)
    - BN+act - ``permute(0, 2, 3, 1)`` (a ``Transpose`` to NHWC) - flatten
    (64) - linear. 4-bit weights and activations.
``"cnv_sparse90"``
    The ``"cnv_w2a2"`` topology (2-bit activations) with 4-bit weights,
    trained for ``epochs``; then 90% of the weights of the second conv
    (``convs()[1]``) with the smallest magnitude are zeroed
    (``torch.nn.utils.prune.l1_unstructured``), the masked network is
    fine-tuned for :data:`brevitas_mlps.FINETUNE_EPOCHS` more epochs and the
    pruning is made permanent (``prune.remove``), so at least 90% of that
    layer's integer weight codes are 0.

:func:`cnv_cifar_random` builds the FINN CNV topology at CIFAR-10 scale
(``(1, 3, 32, 32)`` input; six valid 3x3 convs 64-64-pool-128-128-pool-256-256,
then FC 512-512-10; 2-bit weights and activations) with random weights,
untrained, for speed tests.

``po2_scales=True`` (default) uses brevitas' fixed-point quantizers, so every
scale is a power of two; bipolar layers use constant scale 1.0.
``po2_scales=False`` uses brevitas' default float-scale quantizers (bipolar
weights then keep brevitas' constant scale 0.1). As in :mod:`brevitas_mlps`,
10 epochs (230 steps) are too few for brevitas to turn the activation and
input scales into learned parameters (it collects statistics for 300 training
steps first), so they are running percentile statistics, which the exported
graph holds as constants; ``"cnv_sparse90"`` (345 steps with fine-tuning) and
longer training do learn them from step 301 on.

Exported graphs (after ``qonnx.util.cleanup.cleanup_model``) hold
``Quant``/``BipolarQuant``, ``Conv`` (padding inside the node, never a
separate ``Pad``), ``BatchNormalization``, ``Relu``, ``MaxPool``, ``Add``,
``ReduceMean``/``GlobalAveragePool``, ``Reshape`` to a constant
``[1, C*H*W]`` (dynamo exporter, the default on torch >= 2.9) or
``Flatten(axis=1)`` (``dynamo=False``) right before the final ``Gemm``
(``transB=1``, bias inside), and no ``Transpose``. Around every conv
the order is ``Quant(weights) -> Conv -> BatchNormalization -> Relu -> Quant``
(``BatchNormalization -> BipolarQuant`` for ``"cnv_w1a1"``).

:func:`weight_codes` (from :mod:`brevitas_mlps`) reads the integer weight codes
back; for a ``Conv`` they keep the ONNX weight layout ``[out, in/groups, kh,
kw]``, for the final ``Gemm`` they are ``[in_features, out_features]``.
"""

from __future__ import annotations

import logging
import pathlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear, QuantReLU
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

from brevitas_mlps import (
    INPUT_BIT_WIDTH,
    NUM_CLASSES,
    _BinaryWeightPo2,
    _Po2CodeWeight,
    _single_thread,
    digits_data,
    cached_model_file,
    export_model,
    file_suffix,
    train_recipe,
    weight_codes,
)

logger = logging.getLogger(__name__)

__all__ = [
    "KINDS",
    "QuantCNN",
    "QuantCifarCNV",
    "check_against_brevitas",
    "cnv_cifar_random",
    "cnv_cifar_random_with_model",
    "digit_images",
    "export_cnn",
    "make_cnn",
    "make_cnn_with_model",
    "train_cnn",
    "weight_codes",
]

KINDS = (
    "cnv_w2a2",
    "cnv_w1a1",
    "strided_padded",
    "depthwise_separable",
    "residual",
    "cnv_po2",
    "cnv_sparse90",
    "concat_avgpool",
)
"""The model kinds understood by :func:`make_cnn`."""

INPUT_SHAPE = (1, 8, 8)
"""Shape of one digits image (channels, height, width)."""
DEFAULT_EPOCHS = 10
"""Default training epochs: a few seconds per model on one CPU thread."""
RESIDUAL_ADD_BITS = 5
"""Bit width of the shared signed quantizer on both inputs of the residual ``Add``."""

CIFAR_INPUT_SHAPE = (3, 32, 32)
CIFAR_CONV_CHANNELS = (64, 64, 128, 128, 256, 256)
"""Output channels of the six valid 3x3 convs of :class:`QuantCifarCNV`.

A 2x2 max pool follows the 2nd and the 4th conv."""
CIFAR_FC_FEATURES = (512, 512)
"""Hidden fully connected layers of :class:`QuantCifarCNV` (then 10 outputs)."""


@dataclass(frozen=True)
class _KindSpec:
    """How one kind is built and trained.

    Attributes:
        topology: ``"cnv"``, ``"strided_padded"``, ``"depthwise_separable"`` or ``"residual"``.
        weight_bits: weight bit width (1 = bipolar).
        act_bits: activation bit width (None = bipolar sign activations).
        channels: output channels of the convs, in order.
        po2_layer: index (into :meth:`QuantCNN.convs`) of the conv with power-of-two weights.
        pruned_layer: index of the conv that is magnitude-pruned after training.
        sparsity: fraction of ``pruned_layer``'s weights zeroed.
    """

    topology: str
    weight_bits: int
    act_bits: int | None
    channels: tuple[int, ...]
    po2_layer: int | None = None
    pruned_layer: int | None = None
    sparsity: float = 0.0


_KIND_SPECS = {
    "cnv_w2a2": _KindSpec("cnv", 2, 2, (16, 16, 32)),
    "cnv_w1a1": _KindSpec("cnv", 1, None, (16, 32, 32)),
    "strided_padded": _KindSpec("strided_padded", 4, 4, (16, 32)),
    "depthwise_separable": _KindSpec("depthwise_separable", 4, 4, (8, 8, 16)),
    "residual": _KindSpec("residual", 4, 4, (8, 8, 8)),
    "cnv_po2": _KindSpec("cnv", 4, 2, (16, 16, 32), po2_layer=1),
    "cnv_sparse90": _KindSpec("cnv", 4, 2, (16, 16, 32), pruned_layer=1, sparsity=0.9),
    "concat_avgpool": _KindSpec("concat_avgpool", 4, 4, (8, 4, 16)),
}


def digit_images() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return :func:`brevitas_mlps.digits_data` with the images shaped ``(N, 1, 8, 8)``.

    Returns:
        ``(X_train, y_train, X_test, y_test)``: float32 images in [0, 1] of
        shape ``(N, 1, 8, 8)`` (1437 training, 360 test) and int64 labels.
    """
    x_train, y_train, x_test, y_test = digits_data()
    return (
        x_train.reshape((-1,) + INPUT_SHAPE),
        y_train,
        x_test.reshape((-1,) + INPUT_SHAPE),
        y_test,
    )


def _cnn_quantizers(bipolar: bool, po2_scales: bool) -> dict:
    """Pick the brevitas quantizer classes (as in ``brevitas_mlps``)."""
    if po2_scales:
        quants = {
            "input": Int8ActPerTensorFixedPoint,
            "weight": Int8WeightPerTensorFixedPoint,
            "act": Uint8ActPerTensorFixedPoint,
            "signed_act": Int8ActPerTensorFixedPoint,
        }
    else:
        quants = {
            "input": Int8ActPerTensorFloat,
            "weight": Int8WeightPerTensorFloat,
            "act": Uint8ActPerTensorFloat,
            "signed_act": Int8ActPerTensorFloat,
        }
    if bipolar:
        quants["weight"] = _BinaryWeightPo2 if po2_scales else SignedBinaryWeightPerTensorConst
        quants["act"] = SignedBinaryActPerTensorConst
    return quants


def _weight_kwargs(quant: type, bits: int) -> dict:
    """Weight-quantizer keyword arguments (binary quantizers fix their own bit width)."""
    if bits == 1:
        return {"weight_quant": quant}
    return {"weight_quant": quant, "weight_bit_width": bits}


def _act(quants: dict, bits: int | None) -> nn.Module:
    """``QuantReLU`` with ``bits`` bits, or a bipolar sign ``QuantIdentity`` if ``bits`` is None."""
    if bits is None:
        return QuantIdentity(act_quant=quants["act"])
    return QuantReLU(act_quant=quants["act"], bit_width=bits)


class QuantCNN(nn.Module):
    """A small quantized CNN for ``(N, 1, 8, 8)`` digits; see the module docstring for the kinds."""

    def __init__(self, kind: str, po2_scales: bool = True) -> None:
        super().__init__()
        if kind not in _KIND_SPECS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
        self.kind = kind
        self.po2_scales = po2_scales
        spec = _KIND_SPECS[kind]
        quants = _cnn_quantizers(spec.act_bits is None, po2_scales)
        n_convs = [0]  # convs built so far (numbering as in convs())

        def conv(in_ch: int, out_ch: int, kernel: int, **kwargs) -> QuantConv2d:
            index = n_convs[0]
            n_convs[0] += 1
            if index == spec.po2_layer:
                wq = _weight_kwargs(_Po2CodeWeight, spec.weight_bits)
            else:
                wq = _weight_kwargs(quants["weight"], spec.weight_bits)
            return QuantConv2d(in_ch, out_ch, kernel, bias=False, **wq, **kwargs)

        def conv_bn_act(in_ch: int, out_ch: int, kernel: int, **kwargs) -> list[nn.Module]:
            return [
                conv(in_ch, out_ch, kernel, **kwargs),
                nn.BatchNorm2d(out_ch),
                _act(quants, spec.act_bits),
            ]

        self.input_quant = QuantIdentity(act_quant=quants["input"], bit_width=INPUT_BIT_WIDTH)
        ch = spec.channels
        branch = add_quant = post = None
        self.left = self.right = self.cat_act = None
        if spec.topology == "cnv":
            layers = (
                conv_bn_act(1, ch[0], 3)
                + conv_bn_act(ch[0], ch[1], 3)
                + [nn.MaxPool2d(2)]
                + conv_bn_act(ch[1], ch[2], 2)
            )
            flat = ch[2]  # 1x1
        elif spec.topology == "strided_padded":
            layers = (
                conv_bn_act(1, ch[0], 3, stride=2, padding=1)
                + conv_bn_act(ch[0], ch[1], 3, stride=1, padding=1)
                + [nn.AdaptiveAvgPool2d(1)]
            )
            flat = ch[1]  # 1x1
        elif spec.topology == "depthwise_separable":
            layers = (
                conv_bn_act(1, ch[0], 3)
                + conv_bn_act(ch[0], ch[1], 3, padding=1, groups=ch[0])
                + conv_bn_act(ch[1], ch[2], 1)
                + [nn.MaxPool2d(2)]
            )
            flat = ch[2] * 3 * 3
        elif spec.topology == "residual":
            layers = conv_bn_act(1, ch[0], 3, padding=1)
            branch = nn.Sequential(
                *conv_bn_act(ch[0], ch[1], 3, padding=1),
                conv(ch[1], ch[2], 3, padding=1),
                nn.BatchNorm2d(ch[2]),
            )
            # One instance on both operands: same scale, so the Add is an integer add.
            add_quant = QuantIdentity(act_quant=quants["signed_act"], bit_width=RESIDUAL_ADD_BITS)
            post = nn.Sequential(_act(quants, spec.act_bits), nn.MaxPool2d(2))
            flat = ch[2] * 4 * 4
        elif spec.topology == "concat_avgpool":
            layers = conv_bn_act(1, ch[0], 3, padding=1)
            self.left = nn.Sequential(conv(ch[0], ch[1], 1), nn.BatchNorm2d(ch[1]))
            self.right = nn.Sequential(conv(ch[0], ch[1], 3), nn.BatchNorm2d(ch[1]))
            self.cat_act = _act(quants, spec.act_bits)  # one instance: both halves share the scale
            post = nn.Sequential(nn.AvgPool2d(2), *conv_bn_act(2 * ch[1], ch[2], 3))
            flat = ch[2] * 2 * 2
        else:  # pragma: no cover - guarded by _KIND_SPECS
            raise ValueError(f"unknown topology {spec.topology!r}")
        # registration order = forward order (convs() relies on it)
        self.features = nn.Sequential(*layers)
        self.branch: nn.Sequential | None = branch
        self.add_quant: QuantIdentity | None = add_quant
        self.post: nn.Sequential | None = post
        self.classifier = QuantLinear(
            flat, NUM_CLASSES, bias=True, **_weight_kwargs(quants["weight"], spec.weight_bits)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits for a ``(N, 1, 8, 8)`` float input."""
        x = self.features(self.input_quant(x))
        if self.branch is not None:
            x = self.post(self.add_quant(x) + self.add_quant(self.branch(x)))
        if self.left is not None:
            right = self.cat_act(self.right(nn.functional.pad(x, (1, 1, 1, 1))))
            x = self.post(torch.cat([self.cat_act(self.left(x)), right], dim=1))
            x = x.permute(0, 2, 3, 1)  # NHWC before flattening
        return self.classifier(torch.flatten(x, 1))

    def convs(self) -> list[QuantConv2d]:
        """Return the ``QuantConv2d`` layers in forward order."""
        return [m for m in self.modules() if isinstance(m, QuantConv2d)]


def train_cnn(
    kind: str, seed: int = 0, epochs: int = DEFAULT_EPOCHS, po2_scales: bool = True
) -> QuantCNN:
    """Train a :class:`QuantCNN` of the given kind on the digits training images.

    Same procedure as :func:`brevitas_mlps.train_mlp`: mini-batch (64) Adam
    with a cosine schedule, seeded initialisation and batch order, single
    thread, torch's global RNG state untouched, so the result is deterministic
    for a given seed. ``"cnv_sparse90"`` is pruned after ``epochs`` epochs and
    fine-tuned with the mask for :data:`brevitas_mlps.FINETUNE_EPOCHS` more;
    the pruning mask and the power-of-two snapping of ``"cnv_po2"`` are made
    permanent before returning.

    Args:
        kind: one of :data:`KINDS`.
        seed: seed for the weight initialisation and the batch order.
        epochs: passes over the 1437 training images (before any pruning).
        po2_scales: power-of-two (fixed-point) scales if True, float scales otherwise.

    Returns:
        The trained model in ``eval()`` mode, with ``test_accuracy`` (on the
        360 test images) and ``train_seconds`` attributes.
    """
    if kind not in _KIND_SPECS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    spec = _KIND_SPECS[kind]

    def po2_layers(model):
        return [] if spec.po2_layer is None else [(model.convs()[spec.po2_layer], spec.weight_bits - 1)]

    def prune_layers(model):
        layer = model.convs()[spec.pruned_layer]
        prune.l1_unstructured(layer, "weight", amount=spec.sparsity)
        return [layer]

    return train_recipe(lambda: QuantCNN(kind, po2_scales), digit_images(), seed, epochs, po2_layers,
                        prune_layers if spec.pruned_layer is not None else None,
                        f"{kind} (po2_scales={po2_scales}, seed={seed}, epochs={epochs})")


def export_cnn(
    model: nn.Module, onnx_path: pathlib.Path, dynamo: bool | None = None,
    input_shape: tuple[int, ...] = INPUT_SHAPE,
) -> pathlib.Path:
    """Export a CNN with a ``(1, *input_shape)`` dummy input; see :func:`brevitas_mlps.export_model`."""
    return export_model(model, onnx_path, dynamo, input_shape)


def make_cnn_with_model(
    kind: str,
    out_dir: pathlib.Path,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
    po2_scales: bool = True,
    dynamo: bool | None = None,
) -> tuple[pathlib.Path, QuantCNN]:
    """Train and export a CNN of :data:`KINDS` (input (1, 1, 8, 8)); return the path and the model.

    Same arguments, caching and return value as :func:`brevitas_mlps.make_mlp_with_model`.
    """
    path = pathlib.Path(out_dir) / f"{kind}_{file_suffix(po2_scales, dynamo, seed, epochs)}.onnx"
    return cached_model_file(("digits", kind, seed, epochs, po2_scales),
                             lambda: train_cnn(kind, seed, epochs, po2_scales), path, dynamo, INPUT_SHAPE)


def make_cnn(kind: str, out_dir: pathlib.Path, **kwargs) -> pathlib.Path:
    """Train and export a CNN of the given kind to QONNX; return the ``.onnx`` path.

    See :func:`make_cnn_with_model` for the arguments.
    """
    return make_cnn_with_model(kind, out_dir, **kwargs)[0]


class QuantCifarCNV(nn.Module):
    """FINN's CNV topology at CIFAR-10 scale with 2-bit weights and activations.

    ``(N, 3, 32, 32)`` input - 8-bit signed ``QuantIdentity`` - six valid
    (unpadded) 3x3 ``QuantConv2d`` (:data:`CIFAR_CONV_CHANNELS`; 30, 28, pool
    14, 12, 10, pool 5, 3, 1) each followed by ``BatchNorm2d`` and a 2-bit
    ``QuantReLU``, 2x2 max pools after the 2nd and 4th conv, flatten (256),
    two ``QuantLinear`` (512, no bias) each followed by ``BatchNorm1d`` and a
    2-bit ``QuantReLU``, and a final ``QuantLinear`` (10, float bias) with no
    quantizer after it. Weights are 2-bit narrow range (codes {-1, 0, 1}).
    """

    def __init__(self, po2_scales: bool = True, bits: int = 2) -> None:
        super().__init__()
        quants = _cnn_quantizers(bits == 1, po2_scales)  # bits=1: bipolar weights and activations (CNV-W1A1)
        wq = _weight_kwargs(quants["weight"], bits)
        layers: list[nn.Module] = [
            QuantIdentity(act_quant=quants["input"], bit_width=INPUT_BIT_WIDTH)
        ]
        in_ch = CIFAR_INPUT_SHAPE[0]
        for i, out_ch in enumerate(CIFAR_CONV_CHANNELS):
            layers += [
                QuantConv2d(in_ch, out_ch, 3, bias=False, **wq),
                nn.BatchNorm2d(out_ch),
                _act(quants, None if bits == 1 else bits),
            ]
            if i in (1, 3):
                layers.append(nn.MaxPool2d(2))
            in_ch = out_ch
        layers.append(nn.Flatten())
        for out_f in CIFAR_FC_FEATURES:
            layers += [
                QuantLinear(in_ch, out_f, bias=False, **wq),
                nn.BatchNorm1d(out_f),
                _act(quants, None if bits == 1 else bits),
            ]
            in_ch = out_f
        layers.append(QuantLinear(in_ch, NUM_CLASSES, bias=True, **wq))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits for a ``(N, 3, 32, 32)`` float input."""
        return self.layers(x)


CIFAR_CALIBRATION_BATCHES = 4
"""Training-mode forward passes that calibrate :class:`QuantCifarCNV`'s statistics."""
CIFAR_CALIBRATION_BATCH_SIZE = 32
"""Random images per calibration pass."""


def _random_cifar_cnv(seed: int, po2_scales: bool, bits: int = 2) -> QuantCifarCNV:
    """Build a :class:`QuantCifarCNV` with random weights and non-trivial BatchNorm state.

    Weights keep brevitas' (seeded) default initialisation. The BatchNorm
    affine parameters are drawn at random (``weight`` ~ U(0.5, 1.5), ``bias``
    ~ N(0, 0.3)); the running statistics and the activation quantizers' scale
    statistics are calibrated by :data:`CIFAR_CALIBRATION_BATCHES` training-mode
    forward passes of uniform random [0, 1) images (cumulative averages), then
    each running mean is shifted by N(0, 0.2) running standard deviations and
    each running variance multiplied by exp(U(-0.5, 0.5)).
    """
    with torch.random.fork_rng(devices=[]), _single_thread(), torch.no_grad():
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        model = QuantCifarCNV(po2_scales, bits)
        bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
        for bn in bns:
            bn.weight.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
            bn.bias.copy_(0.3 * torch.randn(bn.num_features, generator=gen))
            bn.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(CIFAR_CALIBRATION_BATCHES):
            model(torch.rand((CIFAR_CALIBRATION_BATCH_SIZE,) + CIFAR_INPUT_SHAPE, generator=gen))
        for bn in bns:
            std = bn.running_var.sqrt()
            bn.running_mean.add_(0.2 * std * torch.randn(bn.num_features, generator=gen))
            bn.running_var.mul_(torch.exp(torch.rand(bn.num_features, generator=gen) - 0.5))
            bn.momentum = 0.1
    return model.eval()


def cnv_cifar_random_with_model(
    out_dir: pathlib.Path, seed: int = 0, po2_scales: bool = True, dynamo: bool | None = None, bits: int = 2
) -> tuple[pathlib.Path, QuantCifarCNV]:
    """Export an untrained CIFAR-10-scale FINN CNV (:class:`QuantCifarCNV`); return path and model.

    The weights are random (see :func:`_random_cifar_cnv`); the export uses a
    ``(1, 3, 32, 32)`` dummy input. Cached per process like
    :func:`make_cnn_with_model`.

    Args:
        out_dir: directory the ``.onnx`` file is written to (created if needed).
        seed: seed for the weights, the BatchNorm state and the calibration images.
        po2_scales: power-of-two scales if True, float scales otherwise.
        dynamo: exporter choice, see :func:`export_cnn`.
        bits: weight and activation bit width; 1 gives FINN's CNV-W1A1 (bipolar, as BNN-PYNQ's cnv-pynq).

    Returns:
        ``(onnx_path, model)``, the model in ``eval()`` mode.
    """
    path = pathlib.Path(out_dir) / f"cnv_cifar_random_w{bits}a{bits}_{file_suffix(po2_scales, dynamo, seed)}.onnx"
    return cached_model_file(("cifar_cnv", seed, po2_scales, bits), lambda: _random_cifar_cnv(seed, po2_scales, bits),
                             path, dynamo, CIFAR_INPUT_SHAPE)


def cnv_cifar_random(out_dir: pathlib.Path, **kwargs) -> pathlib.Path:
    """Export an untrained CIFAR-10-scale FINN CNV to QONNX; return the ``.onnx`` path.

    See :func:`cnv_cifar_random_with_model` for the arguments.
    """
    return cnv_cifar_random_with_model(out_dir, **kwargs)[0]


def check_against_brevitas(
    onnx_path: pathlib.Path, torch_model: nn.Module, x: np.ndarray, atol: float = 1e-4
) -> tuple[np.ndarray, np.ndarray]:
    """Execute the cleaned-up QONNX graph with qonnx and compare with Brevitas.

    Like :func:`brevitas_mlps.check_against_brevitas`, for any input shape:
    ``x`` is reshaped to ``(N, *graph input shape[1:])`` (so digits may be
    passed as ``(N, 64)`` or ``(N, 1, 8, 8)``) and each sample is run
    separately, as a batch of one, through
    ``qonnx.core.onnx_exec.execute_onnx`` after ``cleanup_model``.

    Args:
        onnx_path: exported QONNX file.
        torch_model: the Brevitas model it was exported from.
        x: float32 inputs.
        atol: allowed absolute difference between the logits.

    Returns:
        ``(onnx_logits, torch_logits)``, both of shape ``(N, 10)``.

    Raises:
        AssertionError: if the argmax differs for any sample or the logits
            differ by more than ``atol``.
    """
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(str(onnx_path)))
    in_name = model.graph.input[0].name
    out_name = model.graph.output[0].name
    sample_shape = tuple(model.get_tensor_shape(in_name)[1:])
    x = np.asarray(x, dtype=np.float32).reshape((-1,) + sample_shape)
    onnx_out = np.concatenate(
        [execute_onnx(model, {in_name: sample[None]})[out_name] for sample in x]
    )
    torch_model.eval()
    with torch.no_grad():
        torch_out = torch_model(torch.from_numpy(x)).numpy()
    mismatches = np.flatnonzero(onnx_out.argmax(1) != torch_out.argmax(1))
    assert mismatches.size == 0, f"argmax differs on samples {mismatches.tolist()}"
    max_diff = float(np.abs(onnx_out - torch_out).max())
    assert max_diff <= atol, f"logits differ by up to {max_diff}"
    return onnx_out, torch_out
