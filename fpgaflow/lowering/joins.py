"""Joins of two branches: a residual Add (or an element-wise Max) aligns the two scales by a shift
and adds (or takes the larger); Concat joins channels."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.layers.add import AddStreams
from fpgaflow.layers.concat import ConcatStreams
from fpgaflow.layers.max_streams import MaxStreams
from fpgaflow.lowering.context import Context, QTensor, check_exact, is_pow2, scalar_scale
from fpgaflow.lowering.registry import lowers
from fpgaflow.passes.quant_params import node_attr


def _two_dynamic_inputs(ctx: Context, node) -> bool:
    return len(ctx.dynamic_inputs(node)) == 2


def _aligned_join(ctx: Context, node, kit: type, verb: str, result: str) -> None:
    """Two quantized branches with power-of-two scales: both shifted to the finer scale, then ``kit``."""
    a_name, b_name = ctx.dynamic_inputs(node)
    a, b = ctx.input_of(node, a_name), ctx.input_of(node, b_name)
    op = node.op_type
    if list(a.shape) != list(b.shape):
        raise UserError(f"node {node.name} ({op}): inputs of shapes {a.shape} and {b.shape}; broadcasting "
                        "is not supported")
    scales = [scalar_scale(a), scalar_scale(b)]
    if None in scales or not all(is_pow2(s) for s in scales) or a.spec.bipolar or b.spec.bipolar:
        raise UserError(f"node {node.name} ({op}): {verb} inputs of scales {a.scale} and {b.scale} is exact in "
                        "integers only for power-of-two scales; quantize both inputs with power-of-two scales "
                        "(e.g. one shared Brevitas QuantIdentity with Int8ActPerTensorFixedPoint)")
    fine = min(scales)
    shift_a, shift_b = (int(round(math.log2(s / fine))) for s in scales)
    layer = kit(ctx.layer_name(node), a.spec, b.spec, shift_a, shift_b, int(np.prod(a.shape[1:])))
    check_exact(node, layer, result)
    stream = ctx.add(layer, [a.stream, b.stream])
    ctx.tensors[node.output[0]] = QTensor(stream, fine, layer.out_spec, ctx.shape(node.output[0]))


@lowers("Add", when=_two_dynamic_inputs)
def residual_add(ctx: Context, node) -> None:
    """An Add of two quantized branches with power-of-two scales: shift to the finer one and add."""
    _aligned_join(ctx, node, AddStreams, "adding", "the sum")


@lowers("Max", when=_two_dynamic_inputs)
def elementwise_max(ctx: Context, node) -> None:
    """A Max of two quantized branches with power-of-two scales: shift to the finer one, take the larger."""
    _aligned_join(ctx, node, MaxStreams, "the maximum of", "the maximum")


@lowers("Concat")
def concat(ctx: Context, node) -> None:
    """Concatenation along channels of inputs with one scale: a chain of two-input joins."""
    names = [i for i in node.input if i]
    if len(ctx.dynamic_inputs(node)) != len(names):
        raise UserError(f"node {node.name} (Concat): concatenating constants is not supported")
    parts = [ctx.input_of(node, n) for n in names]
    if int(node_attr(node, "axis", 1)) % len(parts[0].shape) != 1:
        raise UserError(f"node {node.name} (Concat): only concatenation along channels (axis 1) is supported")
    if any(p.scale != parts[0].scale for p in parts):
        raise UserError(f"node {node.name} (Concat): inputs have different scales "
                        f"({', '.join(str(p.scale) for p in parts)}); quantize them with one shared quantizer")
    acc = parts[0]
    for k, part in enumerate(parts[1:]):
        layer = ConcatStreams(ctx.layer_name(node, f"_{k}" if len(parts) > 2 else ""), acc.spec, part.spec,
                              acc.channels, part.channels, acc.pixels)
        stream = ctx.add(layer, [acc.stream, part.stream])
        acc = QTensor(stream, acc.scale, layer.out_spec, [1, acc.channels + part.channels] + list(acc.shape[2:]))
    ctx.tensors[node.output[0]] = replace(acc, shape=ctx.shape(node.output[0]))
