"""Streamline a cleaned QONNX MLP into integer layers between two host-side float edges.

The dynamic part of the graph must be a chain: host float ops up to the first activation
quantizer, then per MatMul an integer matrix-vector unit whose following float ops (bias,
BatchNorm, scaling, ReLU, the next quantizer) become exact per-channel thresholds, and after the
last MatMul the remaining float ops, run on the host. Weight quantizers are evaluated at
compile time into integer codes and per-output-channel scales.
"""

from __future__ import annotations

import logging
import re

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.general.intquant import int_quant, max_int, min_int

from fpgaflow.errors import UserError
from fpgaflow.frontend.float_exec import FloatGraph
from fpgaflow.frontend.load import ELEMENTWISE, QUANTIZERS
from fpgaflow.ir import HardwareGraph, HostInput, HostOutput, IntSpec
from fpgaflow.layers.mvau import MatrixVectorUnit, accumulator_bounds
from fpgaflow.layers.pool import MaxPool
from fpgaflow.layers.sliding_window import SlidingWindow, Window
from fpgaflow.layers.vector_unit import VectorUnit
from fpgaflow.passes.thresholds import ActivationChain, derive_thresholds

log = logging.getLogger(__name__)

_TRANSPARENT = ("Reshape", "Flatten", "Identity", "MaxPool")  # keep codes and scale


def c_identifier(name: str) -> str:
    """A C++-safe identifier from an ONNX node name."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ident if re.match(r"[A-Za-z_]", ident) else f"n_{ident}"


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            value = a.i if a.type == a.INT else a.f if a.type == a.FLOAT else a.s if a.type == a.STRING else None
            if a.type == a.INTS:
                value = list(a.ints)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _const(model: ModelWrapper, name: str):
    return None if not name else model.get_initializer(name)


def _scalar(model, node, index: int, what: str) -> float:
    value = _const(model, node.input[index])
    if value is None:
        raise UserError(f"node {node.name} ({node.op_type}): its {what} must be a constant")
    flat = np.asarray(value, dtype=np.float64).ravel()
    if flat.size == 0 or not np.all(flat == flat[0]):
        raise UserError(f"node {node.name} ({node.op_type}): per-channel {what} is not supported for "
                        "activations; use a per-tensor activation quantizer")
    return float(flat[0])


def dynamic_chain(model: ModelWrapper) -> list:
    """The nodes that depend on the graph input, in order; they must form a single chain."""
    known = {i.name for i in model.graph.initializer}
    chain = []
    for node in model.graph.node:
        inputs = [i for i in node.input if i]
        if all(i in known for i in inputs):
            known.update(node.output)  # a constant sub-expression (e.g. a weight quantizer)
            continue
        chain.append(node)
    for node in chain:
        dynamic_inputs = [i for i in node.input if i and i not in known]
        if len(dynamic_inputs) > 1:
            raise UserError(f"node {node.name} ({node.op_type}) joins two branches; branching graphs "
                            "(residual connections) are not supported yet")
        consumers = model.find_consumers(node.output[0]) or []
        if len(consumers) > 1:
            raise UserError(f"node {node.name} ({node.op_type}) feeds {len(consumers)} nodes; branching "
                            "graphs are not supported yet")
    return chain


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
        if op in _TRANSPARENT:
            t = prod.input[0]
            continue
        if op == "Mul":
            dyn = [i for i in prod.input if _const(model, i) is None]
            const = [np.asarray(_const(model, i)) for i in prod.input if _const(model, i) is not None]
            if len(dyn) == 1 and const and const[0].size == 1 and float(const[0].ravel()[0]) > 0:
                mult *= float(const[0].ravel()[0])
                t = dyn[0]
                continue
        if op in ("Quant", "IntQuant"):
            scale = _scalar(model, prod, 1, "scale")
            zp = _scalar(model, prod, 2, "zero point")
            bits = int(_scalar(model, prod, 3, "bit width"))
            signed, narrow = bool(_attr(prod, "signed", 1)), bool(_attr(prod, "narrow", 0))
            if zp != int(zp):
                raise UserError(f"node {prod.name} ({op}): non-integer zero point {zp} is not supported")
            if bits == 1 and signed:
                return scale * mult, IntSpec(-1, 1, bipolar=True), prod
            lo = int(min_int(signed, narrow, bits)) - int(zp)
            hi = int(max_int(signed, narrow, bits)) - int(zp)
            return scale * mult, IntSpec(lo, hi), prod
        if op == "BipolarQuant":
            return _scalar(model, prod, 1, "scale") * mult, IntSpec(-1, 1, bipolar=True), prod
        if op == "MultiThreshold":
            thr = _const(model, prod.input[1])
            if thr is None:
                raise UserError(f"node {prod.name} (MultiThreshold): thresholds must be constant")
            out_scale, out_bias = float(_attr(prod, "out_scale", 1.0)), float(_attr(prod, "out_bias", 0.0))
            base = out_bias / out_scale if out_scale else 0.5
            if out_scale <= 0 or base != int(base):
                raise UserError(f"node {prod.name} (MultiThreshold): out_bias/out_scale must be an integer "
                                "and out_scale positive")
            return out_scale * mult, IntSpec(int(base), int(base) + thr.shape[-1]), prod
        raise UserError(f"node {consumer}: its input '{tensor}' comes from {prod.name} ({op}), not from an "
                        "activation quantizer; quantize it (e.g. Brevitas QuantIdentity) first")


def weight_codes(model: ModelWrapper, matmul, out_axis: int = 1) -> tuple[np.ndarray, np.ndarray, IntSpec]:
    """Integer weight codes, per-output-channel scale and range of a MatMul (MW x MH, out_axis 1)
    or a Conv (Cout x Cin x KH x KW, out_axis 0)."""
    t, shape_ops = matmul.input[1], []
    while True:
        prod = model.find_producer(t)
        if prod is None:
            init = _const(model, t)
            dt = model.get_tensor_datatype(t)
            if init is None:
                raise UserError(f"node {matmul.name} (MatMul): its weight '{t}' is not a constant")
            if not dt.is_integer() and dt != DataType["BIPOLAR"]:
                raise UserError(f"node {matmul.name} (MatMul): weight '{t}' is float with no Quant node; "
                                "quantize it (e.g. Brevitas QuantLinear) or annotate an integer datatype")
            codes, scale, bipolar = np.asarray(init), np.ones_like(init, dtype=np.float64), dt == DataType["BIPOLAR"]
            break
        if prod.op_type in ("Transpose", "Reshape", "Identity"):
            shape_ops.append(prod)
            t = prod.input[0]
            continue
        if prod.op_type in ("Quant", "IntQuant", "BipolarQuant"):
            params = [_const(model, i) for i in prod.input]
            if any(p is None for p in params):
                raise UserError(f"node {prod.name} ({prod.op_type}): weight quantizer inputs must be constants")
            w = np.asarray(params[0], dtype=np.float32)
            scale = np.broadcast_to(np.asarray(params[1], dtype=np.float64), w.shape)
            if prod.op_type == "BipolarQuant" or (int(params[3]) == 1 and _attr(prod, "signed", 1)):
                codes, bipolar = np.where(w >= 0, 1, -1), True
            else:
                out = int_quant(w, params[1], params[2], params[3], _attr(prod, "signed", 1),
                                _attr(prod, "narrow", 0), _attr(prod, "rounding_mode", "ROUND"))
                codes, bipolar = np.rint(np.asarray(out, dtype=np.float64) / scale), False
            break
        raise UserError(f"node {matmul.name} (MatMul): its weight comes from {prod.name} ({prod.op_type}); "
                        "expected a Quant/BipolarQuant weight quantizer")
    codes, scale = np.asarray(codes, dtype=np.float64), np.asarray(scale, dtype=np.float64)
    for op in reversed(shape_ops):
        if op.op_type == "Transpose":
            perm = _attr(op, "perm") or list(reversed(range(codes.ndim)))
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


COMPUTE = ("MatMul", "Conv")
_EW = set(ELEMENTWISE) | set(QUANTIZERS)


def _ints(node, name, default):
    value = _attr(node, name, None)
    return list(value) if value is not None else list(default)


def _check_compute_input(model, node):
    if _const(model, node.input[0]) is not None:
        raise UserError(f"node {node.name} ({node.op_type}): the activation must be its first input")
    shape = model.get_tensor_shape(node.input[0])
    rank = 2 if node.op_type == "MatMul" else 4
    if shape is None or len(shape) != rank or shape[0] != 1:
        what = "(1, features); flatten before it" if rank == 2 else "(1, C, H, W)"
        raise UserError(f"node {node.name} ({node.op_type}): input shape {shape}; fpgaflow needs {what}")


def _window(model, node, kind: str) -> Window:
    """Kernel, stride and padding of a Conv/MaxPool node over its (1, C, H, W) input."""
    _, c, h, w = model.get_tensor_shape(node.input[0])
    kernel = _ints(node, "kernel_shape", [])
    if len(kernel) != 2:
        raise UserError(f"node {node.name} ({node.op_type}): only 2-D {kind} is supported")
    if any(d != 1 for d in _ints(node, "dilations", [1, 1])):
        raise UserError(f"node {node.name} ({node.op_type}): dilation {_ints(node, 'dilations', [])} is not "
                        "supported; use dilation 1")
    if (_attr(node, "auto_pad", "NOTSET") or "NOTSET") != "NOTSET":
        raise UserError(f"node {node.name} ({node.op_type}): auto_pad is not supported; export explicit pads")
    pads = _ints(node, "pads", [0, 0, 0, 0])
    window = Window(c, h, w, tuple(kernel), tuple(_ints(node, "strides", [1, 1])), (pads[0], pads[1], pads[2], pads[3]))
    out = model.get_tensor_shape(node.output[0])
    if tuple(out[2:]) != window.out_hw:
        raise UserError(f"node {node.name} ({node.op_type}): output {out[2:]} differs from {list(window.out_hw)} "
                        "(ceil_mode is not supported)")
    return window


def _flatten_permutation(model, tensor: str, hardware_tensors: set) -> np.ndarray | None:
    """Row order for a dense layer whose input is an NCHW map flattened on the accelerator (NHWC)."""
    t = tensor
    while True:
        prod = model.find_producer(t)
        if prod is None or prod.op_type not in ("Reshape", "Flatten", "Identity", "Mul"):
            return None
        src = prod.input[0] if _const(model, prod.input[0]) is None else prod.input[1]
        shape = model.get_tensor_shape(src)
        if shape is not None and len(shape) == 4 and src in hardware_tensors:
            _, c, h, w = shape
            return np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()
        t = src


def _map_graph(model, nodes, src, dst) -> FloatGraph:
    """A float chain over (1, C, H, W) maps, evaluated per channel on (K, C, 1, 1) inputs."""
    graph = FloatGraph.from_model(model, nodes, src, dst)
    for name, shape in graph.shapes.items():
        if len(shape) == 4:
            graph.shapes[name] = [1, shape[1], 1, 1]
    return graph


def streamline(model: ModelWrapper, name: str) -> HardwareGraph:
    """Turn a cleaned-up QONNX MLP or CNN into a :class:`HardwareGraph` of integer layers."""
    chain = dynamic_chain(model)
    computes = [i for i, n in enumerate(chain) if n.op_type in COMPUTE]
    if not computes:
        raise UserError(f"{name}: the model has no MatMul/Gemm/Conv layer; nothing to accelerate")
    input_name, output_name = model.graph.input[0].name, model.graph.output[0].name
    output_shape = model.get_tensor_shape(output_name)
    first = chain[computes[0]]
    _check_compute_input(model, first)
    x_scale, x_spec, _ = activation_source(model, first.input[0], first.name)
    host_in = HostInput(FloatGraph.from_model(model, chain[:computes[0]], input_name, first.input[0]), x_scale, x_spec)
    hardware_tensors = {o for n in chain[computes[0]:] for o in n.output}

    layers, host_out = [], None
    for k, index in enumerate(computes):
        node = chain[index]
        _check_compute_input(model, node)
        lname = c_identifier(node.name)
        if any(layer.name == lname for layer in layers):
            lname = f"{lname}_{k}"
        weights, w_scale, w_spec, vectors = _compute_layers(model, node, lname, x_spec, hardware_tensors, layers)
        value_scale = x_scale * w_scale
        end = computes[k + 1] if k + 1 < len(computes) else len(chain)
        seg = chain[index + 1:end]
        split = next((i for i, n in enumerate(seg) if n.op_type not in _EW), len(seg))
        ew, rest = seg[:split], seg[split:]
        last = k + 1 == len(computes)
        qpos = [i for i, n in enumerate(ew) if n.op_type in QUANTIZERS]
        if not last and not qpos:
            raise UserError(f"node {chain[end].name} ({chain[end].op_type}): its input is not quantized; put an "
                            "activation quantizer (e.g. Brevitas QuantReLU or QuantIdentity) before it")
        table, quant_out = None, None
        if qpos:
            ew_q = ew if not last else ew[:qpos[-1] + 1]
            quant_out = ew_q[-1].output[0]
            out_scale, out_spec, qnode = activation_source(model, quant_out, f"node {node.name}")
            act = ActivationChain(_map_graph(model, ew_q, node.output[0], quant_out), value_scale, out_scale,
                                  out_spec, where=f"node {node.name} -> {qnode.name}")
            acc_lo, acc_hi = accumulator_bounds(weights, x_spec)
            table, negate = derive_thresholds(act, acc_lo, acc_hi)
            weights = weights * np.where(negate, -1, 1)[None, :]
            log.info("%s: %d thresholds per channel, %d channels negated", lname, table.count, int(negate.sum()))
        if vectors < 0:  # depthwise: a vector unit over -vectors output pixels
            layers.append(VectorUnit(lname, weights, x_spec, w_spec, -vectors, table))
        else:
            layers.append(MatrixVectorUnit(lname, weights, x_spec, w_spec, table, vectors=vectors))
        if last:
            tail = (ew[qpos[-1] + 1:] if qpos else ew) + rest
            src = quant_out if quant_out is not None else node.output[0]
            vscale = np.full(weights.shape[1], out_scale) if quant_out is not None else value_scale
            graph = FloatGraph.from_model(model, tail, src, output_name) if tail else None
            src_shape = model.get_tensor_shape(src)
            host_out = HostOutput(vscale, graph, output_shape, chw=tuple(src_shape[1:]) if len(src_shape) == 4 else None)
            host_out.source_tensor = src
        else:
            x_scale, x_spec, _ = activation_source(model, chain[end].input[0], chain[end].name)
            _integer_ops(model, rest, x_spec, layers)
    return HardwareGraph(name=name, input_name=input_name, input_shape=model.get_tensor_shape(input_name),
                         output_name=output_name, host_in=host_in, layers=layers, host_out=host_out)


def _compute_layers(model, node, lname, x_spec, hardware_tensors, layers):
    """Weights (MW x MH) of a MatMul or Conv, and the vectors per frame (negative: pixels of a
    depthwise Conv, whose weights are (window positions, channels)). A Conv also appends its
    sliding-window generator."""
    if node.op_type == "MatMul":
        weights, w_scale, w_spec = weight_codes(model, node, out_axis=1)
        if weights.shape[0] != model.get_tensor_shape(node.input[0])[1]:
            raise UserError(f"node {node.name} (MatMul): weight rows {weights.shape[0]} do not match the input size")
        perm = _flatten_permutation(model, node.input[0], hardware_tensors)
        if perm is not None:
            weights = weights[perm]
        return weights, w_scale, w_spec, 1
    group = int(_attr(node, "group", 1) or 1)
    cin = model.get_tensor_shape(node.input[0])[1]
    cout = model.get_tensor_shape(node.output[0])[1]
    depthwise = group > 1 and group == cin == cout
    if group != 1 and not depthwise:
        raise UserError(f"node {node.name} (Conv): grouped convolution (group={group}, {cin} -> {cout} channels) "
                        "is not supported; use group=1 or depthwise (group = in = out channels)")
    window = _window(model, node, "convolution")
    if any(window.pads) and (x_spec.bipolar or not x_spec.lo <= 0 <= x_spec.hi):
        raise UserError(f"node {node.name} (Conv): zero padding needs inputs that can be 0, but they are "
                        f"{'bipolar' if x_spec.bipolar else f'in [{x_spec.lo}, {x_spec.hi}]'}")
    codes, w_scale, w_spec = weight_codes(model, node, out_axis=0)
    cout, cin_g, kh, kw = codes.shape
    layers.append(SlidingWindow(f"{lname}_window", x_spec, window, pad_code=0))
    if depthwise:  # (C, 1, KH, KW) -> (window position, channel)
        return codes.transpose(2, 3, 1, 0).reshape(kh * kw, cout), w_scale, w_spec, -window.pixels
    return codes.transpose(2, 3, 1, 0).reshape(kh * kw * cin_g, cout), w_scale, w_spec, window.pixels


def _integer_ops(model, nodes, spec: IntSpec, layers) -> None:
    """Layers for the ops between a quantizer and the next layer: pooling, reshapes, scalings."""
    for node in nodes:
        op = node.op_type
        if op in ("Reshape", "Flatten", "Identity"):
            continue
        if op == "Mul":
            const = [np.asarray(_const(model, i)) for i in node.input if _const(model, i) is not None]
            if const and const[0].size == 1 and float(const[0].ravel()[0]) > 0:
                continue
        if op == "MaxPool":
            window = _window(model, node, "pooling")
            lname = c_identifier(node.name)
            pad = 0 if spec.bipolar else spec.lo  # the smallest code never wins a maximum
            layers.append(SlidingWindow(f"{lname}_window", spec, window, pad_code=pad))
            layers.append(MaxPool(lname, spec, window.channels, window.kernel[0] * window.kernel[1], window.pixels))
            continue
        raise UserError(f"node {node.name} ({op}): not supported between a quantizer and the next layer "
                        "(supported: MaxPool, Reshape, Flatten, scaling by a positive constant)")
