"""MatMul and Conv: a matrix-vector unit (after a sliding-window generator for a Conv), whose
following float ops up to the next quantizer become its per-channel thresholds."""

from __future__ import annotations

import logging

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.frontend.op_kinds import COMPUTE, RESHAPES
from fpgaflow.layers.mvau import MatrixVectorUnit, accumulator_bounds
from fpgaflow.layers.sliding_window import SlidingWindow
from fpgaflow.layers.vector_unit import VectorUnit
from fpgaflow.lowering.context import Context, QTensor, quantizer_positions
from fpgaflow.lowering.registry import lowers
from fpgaflow.passes.quant_params import constant, node_attr, weight_codes

log = logging.getLogger(__name__)

#: Ops a dense layer's input may pass through after the map it flattens.
_FLATTEN_PATH = RESHAPES + ("Mul", "Transpose")


def check_compute_input(model, node) -> None:
    """Refuse a MatMul/Conv whose activation is not its first input or has the wrong shape."""
    if constant(model, node.input[0]) is not None:
        raise UserError(f"node {node.name} ({node.op_type}): the activation must be its first input")
    shape = model.get_tensor_shape(node.input[0])
    rank = 2 if node.op_type == "MatMul" else 4
    if shape is None or len(shape) != rank or shape[0] != 1:
        what = "(1, features); flatten before it" if rank == 2 else "(1, C, H, W)"
        raise UserError(f"node {node.name} ({node.op_type}): input shape {shape}; fpgaflow needs {what}")


def _scalar_input_scale(node, t: QTensor) -> float:
    x_scale = float(np.asarray(t.scale).ravel()[0]) if np.ndim(t.scale) else t.scale
    if np.ndim(t.scale) and not np.all(np.asarray(t.scale) == x_scale):
        raise UserError(f"node {node.name} ({node.op_type}): its input has per-channel scales")
    return x_scale


@lowers(*COMPUTE)
def compute(ctx: Context, node) -> None:
    """A MatMul or Conv: a matrix-vector unit (or a depthwise vector unit) with its thresholds."""
    t = ctx.input_of(node)
    check_compute_input(ctx.model, node)
    lname = ctx.layer_name(node)
    x_scale = _scalar_input_scale(node, t)
    weights, w_scale, w_spec, vectors, stream = _weights(ctx, node, lname, t)
    value_scale = x_scale * w_scale
    ew = ctx.ew_chain(node.output[0])
    qpos = quantizer_positions(ew)
    table = None
    if qpos:
        acc_lo, acc_hi = accumulator_bounds(weights, t.spec)
        table, negate, quant_out, out_scale = ctx.thresholds(ew[:qpos[-1] + 1], node.output[0], value_scale,
                                                             acc_lo, acc_hi, f"node {node.name}")
        weights = weights * np.where(negate, -1, 1)[None, :]
        log.info("%s: %d thresholds per channel, %d channels negated", lname, table.count, int(negate.sum()))
    if vectors < 0:
        layer = VectorUnit(lname, weights, t.spec, w_spec, -vectors, table)
    else:
        layer = MatrixVectorUnit(lname, weights, t.spec, w_spec, table, vectors=vectors)
    stream = ctx.add(layer, [stream])
    if qpos:
        ctx.tensors[quant_out] = QTensor(stream, out_scale, layer.out_spec, ctx.shape(quant_out))
    elif node.name != ctx.last_compute:
        raise UserError(f"node {node.name} ({node.op_type}): its output is not quantized before the next layer; "
                        "put an activation quantizer (e.g. Brevitas QuantReLU or QuantIdentity) after it")
    else:  # the network's last layer, read by the host
        ctx.tensors[node.output[0]] = QTensor(stream, value_scale, layer.out_spec, ctx.shape(node.output[0]))


def _weights(ctx: Context, node, lname: str, t: QTensor):
    """(weights, weight scale, weight range, vectors per frame, input stream of the unit)."""
    if node.op_type == "MatMul":
        weights, w_scale, w_spec = weight_codes(ctx.model, node, out_axis=1)
        if weights.shape[0] != ctx.shape(node.input[0])[1]:
            raise UserError(f"node {node.name} (MatMul): weight rows {weights.shape[0]} do not match the "
                            "input size")
        perm = flatten_permutation(ctx, node.input[0])
        if perm is not None:
            weights = weights[perm]
        return weights, w_scale, w_spec, 1, t.stream
    weights, w_scale, w_spec, vectors, window_layer = conv_weights(ctx, node, lname, t)
    window = window_layer.window
    stream = t.stream
    if window.kernel != (1, 1) or window.stride != (1, 1) or any(window.pads) or vectors < 0:
        stream = ctx.add(window_layer, [stream])  # a pointwise conv reads the map as it streams
    return weights, w_scale, w_spec, vectors, stream


def conv_weights(ctx: Context, node, lname: str, t: QTensor):
    """Weights (window elements x channels) and the vectors per frame of a Conv (negative: the
    pixels of a depthwise Conv, whose weights are (window positions, channels)), and its
    sliding-window generator."""
    model = ctx.model
    group = int(node_attr(node, "group", 1) or 1)
    cin = model.get_tensor_shape(node.input[0])[1]
    cout = model.get_tensor_shape(node.output[0])[1]
    depthwise = group > 1 and group == cin == cout
    if group != 1 and not depthwise:
        raise UserError(f"node {node.name} (Conv): grouped convolution (group={group}, {cin} -> {cout} "
                        "channels) is not supported; use group=1 or depthwise (group = in = out channels)")
    window = ctx.window(node, "convolution", t)
    if any(window.pads) and (t.spec.bipolar or not t.spec.lo <= 0 <= t.spec.hi):
        raise UserError(f"node {node.name} (Conv): zero padding needs inputs that can be 0, but they are "
                        f"{'bipolar' if t.spec.bipolar else f'in [{t.spec.lo}, {t.spec.hi}]'}")
    if t.pad is not None and t.pad[4] != 0:
        raise UserError(f"node {node.name} (Conv): the Pad before it pads with a non-zero value")
    codes, w_scale, w_spec = weight_codes(model, node, out_axis=0)
    swg = SlidingWindow(f"{lname}_window", t.spec, window, pad_code=0)
    # (Cout, Cin/group, *kernel) -> (window position x input channel, output channel); depthwise
    # (C, 1, *kernel) -> (window position, channel)
    rows = np.moveaxis(codes, (0, 1), (-1, -2)).reshape(-1, codes.shape[0])
    return rows, w_scale, w_spec, -window.pixels if depthwise else window.pixels, swg


def flatten_permutation(ctx: Context, tensor: str) -> np.ndarray | None:
    """Row order for a dense layer whose input is a (1, C, *spatial) map flattened on the
    accelerator (channels last)."""
    t = tensor
    while True:
        prod = ctx.model.find_producer(t)
        if prod is None or prod.op_type not in _FLATTEN_PATH:
            return None
        src = ctx.dynamic_inputs(prod)[0]
        shape = ctx.shape(src)
        if prod.op_type == "Transpose" or getattr(ctx.model.find_producer(src), "op_type", "") == "Transpose":
            return None  # flattened after an NCHW -> NHWC transpose: already in stream order
        if shape is not None and len(shape) > 2 and src in ctx.tensors:
            return np.moveaxis(np.arange(int(np.prod(shape[1:]))).reshape(shape[1:]), 0, -1).ravel()
        t = src
