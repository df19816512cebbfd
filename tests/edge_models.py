"""Small untrained Brevitas models covering patterns of real-world QONNX exports.

Test-support module (it contains no tests). Each builder makes one small
quantized network with seeded random weights (no training), gives every
``BatchNorm`` (and FINN's ``TensorNorm``) random affine parameters and
calibrated running statistics, and exports it with the TorchScript exporter
(``dynamo=False``) and a fixed ``(1, *input shape)`` dummy input, in well
under a second each once brevitas is imported (``cnv_1w1a``: about 1.3 s, 0.4 s
of it the export). Every builder
takes ``out_dir`` (created if needed) and ``seed`` and returns the path of the
written ``<name>_s<seed>.onnx``; :func:`build_with_model` also returns the
torch model (in ``eval()``), e.g. to compare it with the graph.

Calibration (:func:`_calibrate`): ``weight`` ~ U(0.5, 1.5), ``bias`` ~
N(0, 0.3), then :data:`CALIBRATION_BATCHES` training-mode forward passes of
random inputs in the model's input range (cumulative averages), then
``eval()``. The same passes set brevitas' statistics-based activation scales.

Quantizers: brevitas' fixed-point ones (``Int8ActPerTensorFixedPoint``,
``Int8WeightPerTensorFixedPoint``, ``Uint8ActPerTensorFixedPoint`` with
bit-width overrides), so every scale is a power of two; integer weights are
narrow range (``b``-bit codes in ``[-(2**(b-1) - 1), 2**(b-1) - 1]``). Bipolar
layers use constant scale 1.0.

Op types below are those of the graph after ``qonnx.util.cleanup.cleanup_model``
(which also moves every weight ``Quant`` to the front of the node list and drops
the initializers that the TorchScript exporter lists as extra graph inputs;
the raw files have the same ops). Every linear layer with a bias is a ``Gemm``
(``transB=1``, float bias as third input unless stated), every bias-free one a
``MatMul`` whose weight ``Quant`` output is already ``[in, out]``.

:func:`mlp_softmax`
    ``(1, 64)`` - 8-bit signed ``QuantIdentity`` - linear 32 (4-bit weights,
    no bias) - ``BatchNorm1d`` - 4-bit ``QuantReLU`` - linear 32 - BN - ReLU -
    linear 10 (4-bit weights, float bias) - ``torch.softmax(dim=-1)``.
    Ops: ``Quant``, ``MatMul``, ``BatchNormalization``, ``Relu``, ``Gemm``,
    ``Softmax`` (``axis=-1``, the last node, float input: no quantizer
    between the logits and the softmax).
:func:`qkeras_style_softmax`
    hls4ml's QKeras jet tagger shape: ``(1, 16)`` - 8-bit input - linear 64
    (6-bit weights, 6-bit bias) - 8-bit ReLU - linear 32 (4-bit weights and
    bias) - 4-bit ReLU - linear 32 (3-bit weights and bias) - 3-bit ReLU -
    linear 5 (4-bit weights and bias) - softmax; no BatchNorm. The biases are
    quantized with ``Int8BiasPerTensorFixedPointInternalScaling`` (with
    bit-width overrides): a power-of-two scale of their own, from the bias'
    max, like QKeras' ``quantized_bits`` bias (brevitas' ``Int16Bias`` family
    would instead take the accumulator scale, input scale times weight scale).
    Ops: ``Quant``, ``Gemm``, ``Relu``, ``Softmax``; every ``Gemm`` has a
    ``Quant`` (``signed=1``, ``narrow=0``, the layer's bit width) on its bias
    input as well as on its weights, and the bias scale differs from the
    accumulator scale.
:func:`annotated_bipolar_input_mlp`
    FINN's UNSW-NB15 (cybersecurity) MLP: ``(1, 600)`` graph input annotated
    with qonnx ``DataType["BIPOLAR"]`` (``quantization_annotation`` on the
    input tensor) and NO ``Quant`` node on it: the graph starts with
    ``Add(+1.0)`` and ``Div(2.0)`` (``(x + 1) / 2``, mapping {-1, +1} onto
    {0, 1}), whose float output feeds the first ``Gemm`` directly. Then linear
    64 (2-bit weights, float bias) - BN - 2-bit ReLU - linear 64 - BN - 2-bit
    ReLU - linear 1 (2-bit weights, float bias), float output. Ops: ``Add``,
    ``Div``, ``Quant`` (weights and activations only), ``Gemm``,
    ``BatchNormalization``, ``Relu``. ``execute_onnx`` checks that inputs are
    in {-1, +1} (it raises for other values).
:func:`qcdq_mlp`
    ``(1, 64)`` - 8-bit input - linear 32 (4-bit weights, no bias) - BN -
    4-bit ReLU - linear 10 (4-bit weights, float bias), exported with
    :func:`brevitas.export.export_onnx_qcdq` (opset 13, standard ONNX ops
    only, no qonnx domain). Raw graph: input ``QuantizeLinear`` (int8, scale
    1/128) - ``DequantizeLinear`` (no ``Clip``: full int8 range); weights are
    int8 code initializers - ``Clip(-7, 7)`` - ``DequantizeLinear`` (the first
    then ``Transpose(perm=[1, 0])`` before its ``MatMul``); the 4-bit ReLU
    output is ``QuantizeLinear`` (uint8) - ``Clip(0, 15)`` -
    ``DequantizeLinear``. After cleanup the constant weight ``Clip`` is folded
    (``DequantizeLinear`` of an int8 initializer remains). Ops:
    ``QuantizeLinear``, ``DequantizeLinear``, ``Clip``, ``Transpose``,
    ``MatMul``, ``BatchNormalization``, ``Relu``, ``Gemm``.
:func:`conv1d_net`
    Keyword-spotting style: ``(1, 8, 64)`` - 8-bit input - ``QuantConv1d``
    8->16 k3 padding 1 (64) - BN - 4-bit ReLU - ``MaxPool1d(2)`` (32) -
    ``QuantConv1d`` 16->16 k3 (30) - BN - ReLU - ``MaxPool1d(2)`` (15) -
    ``nn.Flatten`` (240) - linear 12 (float bias). 4-bit weights. Ops:
    ``Quant``, ``Conv`` (1-D: ``kernel_shape=[3]``, ``pads=[1, 1]`` / ``[0,
    0]``), ``BatchNormalization``, ``Relu``, ``MaxPool`` (``kernel_shape=[2]``),
    ``Flatten`` (``axis=1``), ``Gemm``.
:func:`trunc_avgpool_net`
    ``(1, 3, 16, 16)`` - 8-bit input - conv3x3 3->8 padding 1 - BN - 4-bit
    ReLU (scale 0.5) - ``TruncAvgPool2d(2)`` (8x8) - conv3x3 8->16 padding 1 -
    BN - 4-bit ReLU - ``TruncAvgPool2d(8)`` (global, 1x1) - flatten (16) -
    linear 10 (float bias). Both pools use ``TruncTo8bit`` with ``bit_width=4``
    (floor; the ReLUs return quant tensors, as ``TruncAvgPool2d`` needs).
    Ops: ``Quant``, ``Conv``, ``BatchNormalization``, ``Relu``,
    ``AveragePool``, ``Trunc`` (qonnx), ``Flatten``, ``Gemm``. Each pool is
    ``Relu -> Quant(4-bit unsigned, scale 0.5) -> AveragePool -> Trunc``, the
    ``Trunc`` feeding the next ``Conv`` / the ``Flatten``. ``Trunc`` inputs
    ``(x, scale, zeropt, in_bitwidth, out_scale, out_bitwidth)``: 2x2 pool
    ``(avg, 0.125, 0, 6, 0.5, 4)``, 8x8 pool ``(avg, 0.5/64, 0, 10, 0.5,
    4)``; attributes ``rounding_mode="floor"``, ``signed=0``, ``narrow=0``.
    So ``Trunc`` takes the average as a ``in_bitwidth``-bit integer at
    ``scale`` (i.e. the window sum) and floors it to 4 bits at ``out_scale``:
    the exact floor of the average of the 4-bit codes.
:func:`binarized_tied_logits_mlp`
    BNN-PYNQ ``FC``-like: ``(1, 64)`` - ``x - 0.5`` - bipolar
    ``QuantIdentity`` (sign) - linear 16 (bipolar weights, no bias) - BN -
    sign - linear 16 - BN - sign - linear 10 (bipolar weights) -
    ``TensorNorm`` (``brevitas_examples.bnn_pynq``: one scalar affine
    normalisation, ``weight`` 0.75, ``bias`` 0.25, calibrated running stats).
    Bipolar weights use ``SignedBinaryWeightPerTensorConst`` with scale 1
    (``fpgaflow.train.quantizers.BinaryWeight``). The last layer's outputs
    are sums of 16 products of +-1 (even integers in [-16, 16]), so the
    largest logit is often tied: on uniform [0, 1) inputs in 15 of 50 samples
    for seed 0 (inputs from ``torch.Generator().manual_seed(123)``), in 21-39%
    of 1000 samples for seeds 0-4. Ops: ``Sub`` (input), ``BipolarQuant``, ``MatMul``,
    ``BatchNormalization``, then ``Sub``, ``Div``, ``Mul``, ``Add`` with
    scalar constants (``TensorNorm``) ending the graph.
:func:`cnv_1w1a`
    FINN's CNV-W1A1 from ``brevitas_examples.bnn_pynq.models.model_with_cfg
    ("cnv_1w1a", pretrained=False)`` (weights U(-1, 1), BN ``eps=1e-4``),
    ``(1, 3, 32, 32)`` input in [0, 1]. Ops: ``Mul(2)``, ``Sub(1)`` on the
    input, ``Quant`` (8-bit, scale 1/128), six ``Conv`` (valid 3x3) each
    followed by ``BatchNormalization -> BipolarQuant``, two ``MaxPool``,
    ``Reshape`` to ``[1, -1]``, three ``MatMul`` (512, 512, 10; the first two
    followed by ``BatchNormalization -> BipolarQuant``), then ``TensorNorm``'s
    ``Sub``, ``Div``, ``Mul``, ``Add``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import pathlib
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import nn

from brevitas.export import export_onnx_qcdq, export_qonnx
from brevitas.nn import QuantConv1d, QuantConv2d, QuantIdentity, QuantLinear, QuantReLU, TruncAvgPool2d
from brevitas.quant import (
    Int8ActPerTensorFixedPoint,
    Int8BiasPerTensorFixedPointInternalScaling,
    Int8WeightPerTensorFixedPoint,
    SignedBinaryActPerTensorConst,
    TruncTo8bit,
    Uint8ActPerTensorFixedPoint,
)

from fpgaflow.train.quantizers import BinaryWeight
from fpgaflow.train.trainer import torch_threads

logger = logging.getLogger(__name__)

__all__ = [
    "BUILDERS",
    "CALIBRATION_BATCHES",
    "CALIBRATION_BATCH_SIZE",
    "annotated_bipolar_input_mlp",
    "binarized_tied_logits_mlp",
    "build_with_model",
    "cnv_1w1a",
    "cnv_2w2a",
    "conv1d_net",
    "max_branches_net",
    "mlp_softmax",
    "qcdq_mlp",
    "qkeras_style_softmax",
    "trunc_avgpool_net",
]

CALIBRATION_BATCHES = 4
"""Training-mode forward passes that set the BatchNorm running statistics."""
CALIBRATION_BATCH_SIZE = 32
"""Random samples per calibration pass."""


# --- building blocks ------------------------------------------------------------------------------

def _input_quant(bits: int = 8) -> QuantIdentity:
    """Signed fixed-point input quantizer."""
    return QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, bit_width=bits)


def _relu(bits: int, **kwargs) -> QuantReLU:
    """Unsigned fixed-point ``QuantReLU``."""
    return QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=bits, **kwargs)


def _sign() -> QuantIdentity:
    """Bipolar (sign) activation, scale 1."""
    return QuantIdentity(act_quant=SignedBinaryActPerTensorConst)


def _linear(in_f: int, out_f: int, bits: int, bias: bool = False, **kwargs) -> QuantLinear:
    """``QuantLinear`` with ``bits``-bit fixed-point weights (1: bipolar, scale 1)."""
    if bits == 1:
        return QuantLinear(in_f, out_f, bias=bias, weight_quant=BinaryWeight, **kwargs)
    return QuantLinear(in_f, out_f, bias=bias, weight_quant=Int8WeightPerTensorFixedPoint,
                       weight_bit_width=bits, **kwargs)


def _conv(cls: type, in_ch: int, out_ch: int, bits: int, **kwargs) -> nn.Module:
    """Bias-free 3-tap / 3x3 ``QuantConv1d`` / ``QuantConv2d`` with ``bits``-bit fixed-point weights."""
    return cls(in_ch, out_ch, 3, bias=False, weight_quant=Int8WeightPerTensorFixedPoint,
               weight_bit_width=bits, **kwargs)


class _Softmaxed(nn.Module):
    """``torch.softmax(body(x), dim=-1)``."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.body(x), dim=-1)


class _BipolarToBinary(nn.Module):
    """``body((x + 1) / 2)``: {-1, +1} inputs mapped onto {0, 1} (FINN's ``CybSecMLPForExport``)."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body((x + 1.0) / 2.0)


class _Centered(nn.Module):
    """``body(x - 0.5)``."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x - 0.5)


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[torch.Generator]:
    """One torch thread, torch's global RNG seeded inside and restored after, no autograd."""
    with torch.random.fork_rng(devices=[]), torch_threads(1), torch.no_grad():
        torch.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)


def _is_norm(module: nn.Module) -> bool:
    """BatchNorm or BNN-PYNQ's ``TensorNorm`` (scalar affine, running mean and variance)."""
    return isinstance(module, nn.modules.batchnorm._BatchNorm) or type(module).__name__ == "TensorNorm"


def _calibrate(model: nn.Module, sample: Callable[[int], torch.Tensor], gen: torch.Generator) -> nn.Module:
    """Random affine parameters and calibrated running statistics for every norm; return ``model.eval()``.

    ``weight`` ~ U(0.5, 1.5), ``bias`` ~ N(0, 0.3); the BatchNorm running
    statistics (cumulative averages, ``momentum=None``) and brevitas'
    activation scale statistics come from :data:`CALIBRATION_BATCHES`
    training-mode forward passes of ``sample(CALIBRATION_BATCH_SIZE)``.
    ``TensorNorm`` keeps its own exponential average (momentum 0.1).
    """
    norms = [m for m in model.modules() if _is_norm(m)]
    for norm in norms:
        norm.weight.copy_(torch.rand(norm.weight.shape, generator=gen) + 0.5)
        norm.bias.copy_(0.3 * torch.randn(norm.bias.shape, generator=gen))
        if isinstance(norm, nn.modules.batchnorm._BatchNorm):
            norm.momentum = None
    model.train()
    for _ in range(CALIBRATION_BATCHES):
        model(sample(CALIBRATION_BATCH_SIZE))
    for norm in norms:
        norm.momentum = 0.1
    return model.eval()


# --- the models ----------------------------------------------------------------------------------

def _mlp_softmax() -> nn.Module:
    return _Softmaxed(nn.Sequential(
        _input_quant(8),
        _linear(64, 32, 4), nn.BatchNorm1d(32), _relu(4),
        _linear(32, 32, 4), nn.BatchNorm1d(32), _relu(4),
        _linear(32, 10, 4, bias=True),
    ))


def _qkeras_style_softmax() -> nn.Module:
    def layer(in_f: int, out_f: int, bits: int) -> QuantLinear:
        return _linear(in_f, out_f, bits, bias=True, bias_quant=Int8BiasPerTensorFixedPointInternalScaling,
                       bias_bit_width=bits)

    return _Softmaxed(nn.Sequential(
        _input_quant(8),
        layer(16, 64, 6), _relu(8),
        layer(64, 32, 4), _relu(4),
        layer(32, 32, 3), _relu(3),
        layer(32, 5, 4),
    ))


def _annotated_bipolar_input_mlp() -> nn.Module:
    return _BipolarToBinary(nn.Sequential(
        _linear(600, 64, 2, bias=True), nn.BatchNorm1d(64), _relu(2),
        _linear(64, 64, 2, bias=True), nn.BatchNorm1d(64), _relu(2),
        _linear(64, 1, 2, bias=True),
    ))


def _qcdq_mlp() -> nn.Module:
    return nn.Sequential(
        _input_quant(8),
        _linear(64, 32, 4), nn.BatchNorm1d(32), _relu(4),
        _linear(32, 10, 4, bias=True),
    )


def _conv1d_net() -> nn.Module:
    return nn.Sequential(
        _input_quant(8),
        _conv(QuantConv1d, 8, 16, 4, padding=1), nn.BatchNorm1d(16), _relu(4), nn.MaxPool1d(2),
        _conv(QuantConv1d, 16, 16, 4), nn.BatchNorm1d(16), _relu(4), nn.MaxPool1d(2),
        nn.Flatten(),
        _linear(16 * 15, 12, 4, bias=True),
    )


def _trunc_avgpool_net() -> nn.Module:
    return nn.Sequential(
        _input_quant(8),
        _conv(QuantConv2d, 3, 8, 4, padding=1), nn.BatchNorm2d(8), _relu(4, return_quant_tensor=True),
        TruncAvgPool2d(2, trunc_quant=TruncTo8bit, bit_width=4),
        _conv(QuantConv2d, 8, 16, 4, padding=1), nn.BatchNorm2d(16), _relu(4, return_quant_tensor=True),
        TruncAvgPool2d(8, trunc_quant=TruncTo8bit, bit_width=4),
        nn.Flatten(),
        _linear(16, 10, 4, bias=True),
    )


def _binarized_tied_logits_mlp() -> nn.Module:
    from brevitas_examples.bnn_pynq.models.tensor_norm import TensorNorm

    return _Centered(nn.Sequential(
        _sign(),
        _linear(64, 16, 1), nn.BatchNorm1d(16), _sign(),
        _linear(16, 16, 1), nn.BatchNorm1d(16), _sign(),
        _linear(16, 10, 1), TensorNorm(),
    ))


class _MaxOfBranches(nn.Module):
    """Two conv branches with 4- and 3-bit ``QuantReLU`` (power-of-two scales) joined by
    ``torch.maximum`` (an ONNX ``Max`` of two quantized tensors), then a 2x2 max pool and a dense head."""

    def __init__(self) -> None:
        super().__init__()
        self.inp = _input_quant()
        self.a = nn.Sequential(_conv(QuantConv2d, 3, 8, 4, padding=1), nn.BatchNorm2d(8), _relu(4))
        self.b = nn.Sequential(_conv(QuantConv2d, 3, 8, 4, padding=1), nn.BatchNorm2d(8), _relu(3))
        self.head = nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), _linear(8 * 4 * 4, 10, 4, bias=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inp(x)
        return self.head(torch.maximum(self.a(x), self.b(x)))


def _bnn_pynq(name: str) -> nn.Module:
    """A ``brevitas_examples.bnn_pynq`` topology (``cnv_1w1a``, ``cnv_2w2a``, ...) with random weights."""
    from brevitas_examples.bnn_pynq.models import model_with_cfg

    return model_with_cfg(name, pretrained=False)[0]


def _random_biases(model: nn.Module, gen: torch.Generator) -> None:
    """N(0, 0.2) biases for every ``QuantLinear`` that has one."""
    for m in model.modules():
        if isinstance(m, QuantLinear) and m.bias is not None:
            m.bias.copy_(0.2 * torch.randn(m.out_features, generator=gen))


def _fixed_norms(model: nn.Module) -> None:
    """``TensorNorm`` weight 0.75, bias 0.25 (positive scale: ties among the logits stay ties)."""
    for m in model.modules():
        if type(m).__name__ == "TensorNorm":
            m.weight.fill_(0.75)
            m.bias.fill_(0.25)


def _uniform(shape: tuple[int, ...]) -> Callable[[int, torch.Generator], torch.Tensor]:
    return lambda n, gen: torch.rand((n,) + shape, generator=gen)


def _normal(shape: tuple[int, ...]) -> Callable[[int, torch.Generator], torch.Tensor]:
    return lambda n, gen: torch.randn((n,) + shape, generator=gen)


def _bipolar(shape: tuple[int, ...]) -> Callable[[int, torch.Generator], torch.Tensor]:
    return lambda n, gen: 2.0 * torch.randint(0, 2, (n,) + shape, generator=gen).float() - 1.0


@dataclass(frozen=True)
class _Spec:
    """How one model is built, calibrated and exported."""

    make: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    sample: Callable[[int, torch.Generator], torch.Tensor]
    """Calibration inputs (also the range the model is meant for)."""
    qcdq: bool = False
    before_calibration: Callable[[nn.Module, torch.Generator], None] | None = None
    after_calibration: Callable[[nn.Module], None] | None = None
    after_export: Callable[[pathlib.Path], None] | None = None


def _annotate_bipolar_input(path: pathlib.Path) -> None:
    """Annotate the graph input as BIPOLAR and check that ``Add`` and ``Div``, not a ``Quant``, consume it."""
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper

    wrapper = ModelWrapper(str(path))
    in_name = wrapper.graph.input[0].name
    consumers = wrapper.find_consumers(in_name)
    if [n.op_type for n in consumers] != ["Add"]:
        raise RuntimeError(f"expected one Add after the graph input, got {[n.op_type for n in consumers]}")
    after_add = wrapper.find_consumers(consumers[0].output[0])
    if [n.op_type for n in after_add] != ["Div"]:
        raise RuntimeError(f"expected a Div after the input Add, got {[n.op_type for n in after_add]}")
    if any(n.op_type in ("Quant", "BipolarQuant") and n.input[0] == in_name for n in wrapper.graph.node):
        raise RuntimeError("the graph input has a Quant node")
    wrapper.set_tensor_datatype(in_name, DataType["BIPOLAR"])
    wrapper.save(str(path))


_SPECS: dict[str, _Spec] = {
    "mlp_softmax": _Spec(_mlp_softmax, (64,), _uniform((64,))),
    "qkeras_style_softmax": _Spec(_qkeras_style_softmax, (16,), _normal((16,)),
                                  before_calibration=_random_biases),
    "annotated_bipolar_input_mlp": _Spec(_annotated_bipolar_input_mlp, (600,), _bipolar((600,)),
                                         after_export=_annotate_bipolar_input),
    "qcdq_mlp": _Spec(_qcdq_mlp, (64,), _uniform((64,)), qcdq=True),
    "conv1d_net": _Spec(_conv1d_net, (8, 64), _normal((8, 64))),
    "trunc_avgpool_net": _Spec(_trunc_avgpool_net, (3, 16, 16), _uniform((3, 16, 16))),
    "binarized_tied_logits_mlp": _Spec(_binarized_tied_logits_mlp, (64,), _uniform((64,)),
                                       after_calibration=_fixed_norms),
    "cnv_1w1a": _Spec(functools.partial(_bnn_pynq, "cnv_1w1a"), (3, 32, 32), _uniform((3, 32, 32))),
    "cnv_2w2a": _Spec(functools.partial(_bnn_pynq, "cnv_2w2a"), (3, 32, 32), _uniform((3, 32, 32))),
    "max_branches_net": _Spec(_MaxOfBranches, (3, 8, 8), _uniform((3, 8, 8))),
}


def _export(model: nn.Module, path: pathlib.Path, spec: _Spec) -> pathlib.Path:
    """Export with the TorchScript exporter (``dynamo=False``) and a fixed ``(1, *input_shape)`` dummy input."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = spec.sample(1, torch.Generator().manual_seed(0))
    export = export_onnx_qcdq if spec.qcdq else export_qonnx
    with torch_threads(1):
        export(model, dummy, export_path=str(path), dynamo=False)
    return path


def build_with_model(name: str, out_dir: pathlib.Path, seed: int = 0) -> tuple[pathlib.Path, nn.Module]:
    """Build, calibrate and export model ``name`` (a key of :data:`BUILDERS`); return ``(path, model)``.

    Args:
        name: one of the builder names, e.g. ``"mlp_softmax"``.
        out_dir: directory the ``<name>_s<seed>.onnx`` file is written to (created if needed).
        seed: seed for the weights, the norm parameters and the calibration inputs; torch's
            global RNG state is left untouched.

    Returns:
        The written path and the torch model in ``eval()`` mode.
    """
    if name not in _SPECS:
        raise ValueError(f"unknown model {name!r}; expected one of {tuple(_SPECS)}")
    spec = _SPECS[name]
    path = pathlib.Path(out_dir) / f"{name}_s{seed}.onnx"
    start = time.perf_counter()
    with _seeded(seed) as gen:
        model = spec.make()
        if spec.before_calibration is not None:
            spec.before_calibration(model, gen)
        _calibrate(model, lambda n: spec.sample(n, gen), gen)
        if spec.after_calibration is not None:
            spec.after_calibration(model)
    built = time.perf_counter()
    _export(model, path, spec)
    if spec.after_export is not None:
        spec.after_export(path)
    logger.info("%s: built in %.2f s, exported in %.2f s", name, built - start, time.perf_counter() - built)
    return path, model


def max_branches_net(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """Export :class:`_MaxOfBranches` (input (1, 3, 8, 8)); return the path."""
    return build_with_model("max_branches_net", out_dir, seed)[0]


def mlp_softmax(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """MLP ending in a ``Softmax`` node, input ``(1, 64)``; see the module docstring."""
    return build_with_model("mlp_softmax", out_dir, seed)[0]


def qkeras_style_softmax(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """QKeras-jet-tagger-like MLP (per-layer bit widths, quantized biases, softmax), input ``(1, 16)``."""
    return build_with_model("qkeras_style_softmax", out_dir, seed)[0]


def annotated_bipolar_input_mlp(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """FINN UNSW-NB15-like MLP: BIPOLAR-annotated ``(1, 600)`` input, no input ``Quant``, ``Add`` then ``Div``."""
    return build_with_model("annotated_bipolar_input_mlp", out_dir, seed)[0]


def qcdq_mlp(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """MLP exported as QuantizeLinear/Clip/DequantizeLinear (``export_onnx_qcdq``), input ``(1, 64)``."""
    return build_with_model("qcdq_mlp", out_dir, seed)[0]


def conv1d_net(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """Keyword-spotting-style 1-D CNN, input ``(1, 8, 64)``; see the module docstring."""
    return build_with_model("conv1d_net", out_dir, seed)[0]


def trunc_avgpool_net(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """2-D CNN with ``TruncAvgPool2d`` (``AveragePool -> Trunc``), input ``(1, 3, 16, 16)``."""
    return build_with_model("trunc_avgpool_net", out_dir, seed)[0]


def binarized_tied_logits_mlp(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """Binarized MLP (BNN-PYNQ ``FC``-like, ``TensorNorm`` output) with often-tied logits, input ``(1, 64)``."""
    return build_with_model("binarized_tied_logits_mlp", out_dir, seed)[0]


def cnv_1w1a(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """FINN's CNV-W1A1 (``brevitas_examples.bnn_pynq``), random weights, input ``(1, 3, 32, 32)``."""
    return build_with_model("cnv_1w1a", out_dir, seed)[0]


def cnv_2w2a(out_dir: pathlib.Path, seed: int = 0) -> pathlib.Path:
    """FINN's CNV-W2A2 (``brevitas_examples.bnn_pynq``), random weights, input ``(1, 3, 32, 32)``."""
    return build_with_model("cnv_2w2a", out_dir, seed)[0]


BUILDERS: dict[str, Callable[..., pathlib.Path]] = {
    "mlp_softmax": mlp_softmax,
    "qkeras_style_softmax": qkeras_style_softmax,
    "annotated_bipolar_input_mlp": annotated_bipolar_input_mlp,
    "qcdq_mlp": qcdq_mlp,
    "conv1d_net": conv1d_net,
    "trunc_avgpool_net": trunc_avgpool_net,
    "binarized_tied_logits_mlp": binarized_tied_logits_mlp,
    "cnv_1w1a": cnv_1w1a,
    "cnv_2w2a": cnv_2w2a,
}
"""Every builder by name: ``BUILDERS[name](out_dir, seed=0)`` returns the ``.onnx`` path."""
