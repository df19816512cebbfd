"""Float ops and a quantizer reading a quantized tensor: a standalone thresholding layer (or
nothing, when the re-quantization keeps every code)."""

from __future__ import annotations

import logging

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.frontend.op_kinds import ELEMENTWISE, QUANTIZERS
from fpgaflow.layers.thresholding import Thresholding
from fpgaflow.lowering.context import Context, QTensor, quantizer_positions
from fpgaflow.lowering.registry import lowers

log = logging.getLogger(__name__)


@lowers(*ELEMENTWISE, *QUANTIZERS, fallback=True)
def requantize(ctx: Context, node) -> None:
    """Float ops and a quantizer on a quantized tensor: a standalone thresholding layer."""
    t = ctx.input_of(node)
    src = ctx.dynamic_inputs(node)[0]
    ew = [node] + ctx.ew_chain(node.output[0])
    qpos = quantizer_positions(ew)
    if not qpos:
        raise UserError(f"node {node.name} ({node.op_type}): float ops between layers need an activation "
                        "quantizer after them (e.g. Brevitas QuantIdentity or QuantReLU)")
    if t.spec.bipolar:
        raise UserError(f"node {node.name} ({node.op_type}): re-quantizing bipolar values is not supported")
    channels = t.channels
    lo, hi = np.full(channels, t.spec.lo), np.full(channels, t.spec.hi)
    table, negate, quant_out, out_scale = ctx.thresholds(ew[:qpos[-1] + 1], src, np.full(channels, t.scale),
                                                         lo, hi, f"node {node.name}")
    shape = ctx.shape(quant_out)
    codes = np.repeat(np.arange(t.spec.lo, t.spec.hi + 1)[:, None], channels, axis=1)
    mapped = table.apply(codes * np.where(negate, -1, 1)[None, :])
    if not negate.any() and np.array_equal(mapped, codes):
        log.info("%s: re-quantization keeps every code; no layer needed", node.name)
        ctx.tensors[quant_out] = QTensor(t.stream, out_scale, t.spec, shape)
        return
    if negate.any():
        raise UserError(f"node {node.name} ({node.op_type}): a decreasing activation between layers is "
                        "not supported")
    layer = Thresholding(ctx.layer_name(node), t.spec, table, pixels=t.pixels)
    ctx.tensors[quant_out] = QTensor(ctx.add(layer, [t.stream]), out_scale, layer.out_spec, shape)
