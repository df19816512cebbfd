"""Reading QONNX nodes: attributes, quantizer parameters, integer weight codes, windows.

Activation quantizers give a tensor's scale and integer range; weight quantizers are evaluated
at compile time into integer codes with per-output-channel scales.
"""

from __future__ import annotations

import re

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.intquant import int_quant, max_int, min_int

from fpgaflow.errors import UserError
from fpgaflow.frontend.op_kinds import INT_QUANTIZERS, SCALE_QUANTIZERS, TRANSPARENT, WEIGHT_SHAPE_OPS
from fpgaflow.ir import IntSpec
from fpgaflow.layers.sliding_window import Window


def c_identifier(name: str) -> str:
    """A C++-safe identifier from an ONNX node name."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ident if re.match(r"[A-Za-z_]", ident) else f"n_{ident}"


def node_attr(node, name, default=None):
    """An ONNX attribute's value (int, float, string or list of ints), or ``default``."""
    for a in node.attribute:
        if a.name == name:
            value = a.i if a.type == a.INT else a.f if a.type == a.FLOAT else a.s if a.type == a.STRING else None
            if a.type == a.INTS:
                value = list(a.ints)
            return value.decode() if isinstance(value, bytes) else value
    return default


def constant(model: ModelWrapper, name: str):
    """The initializer ``name`` as an array, or None when it is not a constant."""
    return None if not name else model.get_initializer(name)


def scalar_param(model, node, index: int, what: str) -> float:
    """A quantizer's constant parameter at input ``index`` that must be one value per tensor."""
    value = constant(model, node.input[index])
    if value is None:
        raise UserError(f"node {node.name} ({node.op_type}): its {what} must be a constant")
    flat = np.asarray(value, dtype=np.float64).ravel()
    if flat.size == 0 or not np.all(flat == flat[0]):
        raise UserError(f"node {node.name} ({node.op_type}): per-channel {what} is not supported for "
                        "activations; use a per-tensor activation quantizer")
    return float(flat[0])


def activation_source(model: ModelWrapper, tensor: str, consumer: str) -> tuple[float, IntSpec, object]:
    """(scale, integer range, quantizer node) of a quantized activation tensor.

    Walks back through reshapes and positive scalar multiplications to the quantizer.
    """
    t, mult = tensor, 1.0
    while True:
        prod = model.find_producer(t)
        if prod is None:
            raise UserError(f"node {consumer}: its input '{tensor}' is not quantized; put an activation "
                            "quantizer (e.g. Brevitas QuantIdentity or QuantReLU) before it")
        op = prod.op_type
        if op in TRANSPARENT:
            t = prod.input[0]
            continue
        if op == "Mul":
            dyn = [i for i in prod.input if constant(model, i) is None]
            const = [np.asarray(constant(model, i)) for i in prod.input if constant(model, i) is not None]
            if len(dyn) == 1 and const and const[0].size == 1 and float(const[0].ravel()[0]) > 0:
                mult *= float(const[0].ravel()[0])
                t = dyn[0]
                continue
        if op in INT_QUANTIZERS:
            scale = scalar_param(model, prod, 1, "scale")
            zp = scalar_param(model, prod, 2, "zero point")
            bits = int(scalar_param(model, prod, 3, "bit width"))
            signed, narrow = bool(node_attr(prod, "signed", 1)), bool(node_attr(prod, "narrow", 0))
            if zp != int(zp):
                raise UserError(f"node {prod.name} ({op}): non-integer zero point {zp} is not supported")
            if bits == 1 and signed:
                return scale * mult, IntSpec(-1, 1, bipolar=True), prod
            lo = int(min_int(signed, narrow, bits)) - int(zp)
            hi = int(max_int(signed, narrow, bits)) - int(zp)
            return scale * mult, IntSpec(lo, hi), prod
        if op == "Trunc":
            return trunc_source(model, prod, mult, consumer)
        if op == "BipolarQuant":
            return scalar_param(model, prod, 1, "scale") * mult, IntSpec(-1, 1, bipolar=True), prod
        if op == "MultiThreshold":
            thr = constant(model, prod.input[1])
            if thr is None:
                raise UserError(f"node {prod.name} (MultiThreshold): thresholds must be constant")
            out_scale, out_bias = float(node_attr(prod, "out_scale", 1.0)), float(node_attr(prod, "out_bias", 0.0))
            base = out_bias / out_scale if out_scale else 0.5
            if out_scale <= 0 or base != int(base):
                raise UserError(f"node {prod.name} (MultiThreshold): out_bias/out_scale must be an integer "
                                "and out_scale positive")
            return out_scale * mult, IntSpec(int(base), int(base) + thr.shape[-1]), prod
        raise UserError(f"node {consumer}: its input '{tensor}' comes from {prod.name} ({op}), not from an "
                        "activation quantizer; quantize it (e.g. Brevitas QuantIdentity) first")


def trunc_source(model: ModelWrapper, node, mult: float, consumer: str) -> tuple[float, IntSpec, object]:
    """(scale, integer range, node) of a qonnx Trunc's output (Brevitas' TruncAvgPool2d).

    Trunc (v1: x, scale, zero point, input bits, output bits) drops the low ``in - out`` bits of
    ``round(x / scale + zp)`` and rescales by ``scale``; v2 (x, scale, zero point, input bits,
    output scale, output bits) clamps to the output bits and rescales by the output scale. The
    output's signedness is its input's.
    """
    if len(node.input) < 5:
        raise UserError(f"node {node.name} (Trunc): needs 5 inputs (v1) or 6 (v2), has {len(node.input)}")
    zp = scalar_param(model, node, 2, "zero point")
    if zp != 0:
        raise UserError(f"node {node.name} (Trunc): zero point {zp} is not supported; use 0")
    v2 = len(node.input) >= 6
    out_bits = scalar_param(model, node, 5 if v2 else 4, "output bit width")
    if out_bits != int(out_bits) or not 1 <= out_bits <= 32:
        raise UserError(f"node {node.name} (Trunc): output bit width {out_bits} must be an integer in 1..32")
    scale = scalar_param(model, node, 4 if v2 else 1, "output scale" if v2 else "scale")
    if v2:
        signed, narrow = bool(node_attr(node, "signed", 1)), bool(node_attr(node, "narrow", 0))
    else:
        _, in_spec, _ = activation_source(model, node.input[0], consumer)
        signed, narrow = in_spec.lo < 0, False
    bits = int(out_bits)
    return scale * mult, IntSpec(int(min_int(signed, narrow, bits)), int(max_int(signed, narrow, bits))), node


def weight_codes(model: ModelWrapper, matmul, out_axis: int = 1) -> tuple[np.ndarray, np.ndarray, IntSpec]:
    """Integer weight codes, per-output-channel scale and range of a MatMul (MW x MH, out_axis 1)
    or a Conv (Cout x Cin x KH x KW, out_axis 0)."""
    t, shape_ops = matmul.input[1], []
    while True:
        prod = model.find_producer(t)
        if prod is None:
            init = constant(model, t)
            dt = model.get_tensor_datatype(t)
            if init is None:
                raise UserError(f"node {matmul.name} (MatMul): its weight '{t}' is not a constant")
            if not dt.is_integer() and dt != DataType["BIPOLAR"]:
                raise UserError(f"node {matmul.name} (MatMul): weight '{t}' is float with no Quant node; "
                                "quantize it (e.g. Brevitas QuantLinear) or annotate an integer datatype")
            codes, scale, bipolar = np.asarray(init), np.ones_like(init, dtype=np.float64), dt == DataType["BIPOLAR"]
            break
        if prod.op_type in WEIGHT_SHAPE_OPS:
            shape_ops.append(prod)
            t = prod.input[0]
            continue
        if prod.op_type in SCALE_QUANTIZERS:
            params = [constant(model, i) for i in prod.input]
            if any(p is None for p in params):
                raise UserError(f"node {prod.name} ({prod.op_type}): weight quantizer inputs must be constants")
            w = np.asarray(params[0], dtype=np.float32)
            scale = np.broadcast_to(np.asarray(params[1], dtype=np.float64), w.shape)
            if prod.op_type == "BipolarQuant" or (int(params[3]) == 1 and node_attr(prod, "signed", 1)):
                codes, bipolar = np.where(w >= 0, 1, -1), True
            else:
                out = int_quant(w, params[1], params[2], params[3], node_attr(prod, "signed", 1),
                                node_attr(prod, "narrow", 0), node_attr(prod, "rounding_mode", "ROUND"))
                codes, bipolar = np.rint(np.asarray(out, dtype=np.float64) / scale), False
            break
        raise UserError(f"node {matmul.name} (MatMul): its weight comes from {prod.name} ({prod.op_type}); "
                        "expected a Quant/BipolarQuant weight quantizer")
    codes, scale = np.asarray(codes, dtype=np.float64), np.asarray(scale, dtype=np.float64)
    for op in reversed(shape_ops):
        if op.op_type == "Transpose":
            perm = node_attr(op, "perm") or list(reversed(range(codes.ndim)))
            codes, scale = codes.transpose(perm), scale.transpose(perm)
        elif op.op_type == "Reshape":
            target = model.get_tensor_shape(op.output[0])
            codes, scale = codes.reshape(target), scale.reshape(target)
    if codes.ndim != (2 if matmul.op_type == "MatMul" else 4):
        raise UserError(f"node {matmul.name} ({matmul.op_type}): weight of shape {list(codes.shape)} is not supported")
    moved = np.moveaxis(scale, out_axis, 0).reshape(scale.shape[out_axis], -1)
    per_channel = moved[:, 0]
    if not np.all(moved == per_channel[:, None]):
        raise UserError(f"node {matmul.name} ({matmul.op_type}): weight scale varies along the input dimension; "
                        "use per-tensor or per-output-channel weight scales")
    codes = codes.astype(np.int64)
    return codes, per_channel, IntSpec(int(codes.min()), int(codes.max()), bipolar=bipolar)


def int_list(node, name, default):
    """An INTS attribute as a list, or ``default``."""
    value = node_attr(node, name, None)
    return list(value) if value is not None else list(default)


def node_window(model, node, kind: str, in_shape=None, extra_pads=(0, 0, 0, 0)) -> Window:
    """Kernel, stride and padding of a Conv/MaxPool/AveragePool node over its (1, C, H, W) input.

    ``in_shape`` and ``extra_pads`` (top, left, bottom, right) describe a Pad node before it,
    merged into the window's padding.
    """
    shape = in_shape or model.get_tensor_shape(node.input[0])
    channels, spatial = shape[1], tuple(shape[2:])
    kernel = int_list(node, "kernel_shape", [])
    if len(kernel) != 2 or len(spatial) != 2:
        raise UserError(f"node {node.name} ({node.op_type}): only 2-D {kind} is supported")
    if any(d != 1 for d in int_list(node, "dilations", [1, 1])):
        raise UserError(f"node {node.name} ({node.op_type}): dilation {int_list(node, 'dilations', [])} is not "
                        "supported; use dilation 1")
    if (node_attr(node, "auto_pad", "NOTSET") or "NOTSET") != "NOTSET":
        raise UserError(f"node {node.name} ({node.op_type}): auto_pad is not supported; export explicit pads")
    pads = int_list(node, "pads", [0, 0, 0, 0])
    pads = [p + e for p, e in zip(pads, extra_pads)]
    window = Window(channels, *spatial, tuple(kernel), tuple(int_list(node, "strides", [1, 1])), tuple(pads))
    out = model.get_tensor_shape(node.output[0])
    if tuple(out[2:]) != window.out_hw:
        raise UserError(f"node {node.name} ({node.op_type}): output {out[2:]} differs from {list(window.out_hw)} "
                        "(ceil_mode is not supported)")
    return window
