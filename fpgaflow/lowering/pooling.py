"""Pooling: max pooling on the codes; average pooling sums the codes and keeps the division in the
scale (exact for power-of-two window sizes and scales)."""

from __future__ import annotations

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.frontend.op_kinds import AVERAGE_POOLS
from fpgaflow.layers.pool import Pool
from fpgaflow.layers.sliding_window import SlidingWindow
from fpgaflow.lowering.context import Context, QTensor, check_exact, is_pow2, scalar_scale
from fpgaflow.lowering.registry import lowers
from fpgaflow.passes.quant_params import constant, int_list, node_attr


@lowers("MaxPool")
def max_pool(ctx: Context, node) -> None:
    """A sliding-window generator and a max pool; the padding is a code that never wins."""
    t = ctx.input_of(node)
    window = ctx.window(node, "pooling", t)
    lname = ctx.layer_name(node)
    own = int_list(node, "pads", [0, 0, 0, 0])
    pad = 0 if t.spec.bipolar else t.spec.lo  # the smallest code never wins a maximum
    if t.pad is not None:
        if any(own) and t.pad[4] != pad:
            raise UserError(f"node {node.name} (MaxPool): its own pads and the Pad before it pad differently")
        pad = t.pad[4]
    stream = ctx.add(SlidingWindow(f"{lname}_window", t.spec, window, pad_code=pad), [t.stream])
    stream = ctx.add(Pool(lname, t.spec, window.channels, window.kernel[0] * window.kernel[1], window.pixels),
                     [stream])
    ctx.tensors[node.output[0]] = QTensor(stream, t.scale, t.spec, ctx.shape(node.output[0]))


@lowers(*AVERAGE_POOLS)
def average_pool(ctx: Context, node) -> None:
    """Sum pooling on the codes; the mean is the sum at scale/size, exact for power-of-two sizes."""
    t = ctx.input_of(node)
    if len(t.shape) < 3:
        raise UserError(f"node {node.name} ({node.op_type}): needs an NCHW input")
    lname = ctx.layer_name(node)
    if node.op_type == "AveragePool":
        size, stream, pool = _window_sum(ctx, node, lname, t)
    else:
        _check_global_axes(ctx, node, len(t.shape))
        size, stream = t.pixels, t.stream
        pool = Pool(lname, t.spec, t.channels, size, 1, mode="sum")
    scale = scalar_scale(t)
    if scale is None or not is_pow2(scale) or not is_pow2(size) or t.spec.bipolar:
        raise UserError(f"node {node.name} ({node.op_type}): an average over {size} values of scale {t.scale} is "
                        "not exact in integers; it needs a power-of-two window size and a power-of-two input "
                        "scale (e.g. Brevitas' Uint8ActPerTensorFixedPoint quantizer before it)")
    check_exact(node, pool, "the window sum")
    stream = ctx.add(pool, [stream])
    ctx.tensors[node.output[0]] = QTensor(stream, scale / size, pool.out_spec, ctx.shape(node.output[0]))


def _window_sum(ctx: Context, node, lname: str, t: QTensor):
    """An AveragePool's window size, its sliding-window generator's stream and its sum pool."""
    window = ctx.window(node, "pooling", t)
    if any(window.pads) and not node_attr(node, "count_include_pad", 0) and t.pad is None:
        raise UserError(f"node {node.name} (AveragePool): padding with count_include_pad=0 divides border "
                        "windows differently; use count_include_pad=1 or no padding")
    if t.pad is not None and t.pad[4] != 0:
        raise UserError(f"node {node.name} (AveragePool): the Pad before it pads with a non-zero value")
    size = int(np.prod(window.kernel))
    stream = ctx.add(SlidingWindow(f"{lname}_window", t.spec, window, pad_code=0), [t.stream])
    return size, stream, Pool(lname, t.spec, t.channels, size, window.pixels, mode="sum")


def _check_global_axes(ctx: Context, node, rank: int) -> None:
    """A ReduceMean must average over every spatial axis."""
    if node.op_type != "ReduceMean":
        return
    axes = node_attr(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = constant(ctx.model, node.input[1])
    if axes is None or sorted(int(a) % rank for a in np.asarray(axes).ravel()) != list(range(2, rank)):
        raise UserError(f"node {node.name} (ReduceMean): only the mean over H and W (axes [2, 3]) is "
                        "supported")
