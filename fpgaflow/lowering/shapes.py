"""Ops that keep the codes on their stream: reshapes, an NCHW -> NHWC transpose before a flatten,
a Pad (merged into the next window) and a multiplication by a positive scalar (kept in the scale)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.frontend.op_kinds import RESHAPES
from fpgaflow.lowering.context import Context
from fpgaflow.lowering.registry import lowers
from fpgaflow.passes.quant_params import constant, int_list, node_attr


def _keep_codes(ctx: Context, node, t, **changes) -> None:
    """The node's output is ``t``'s stream under the output's shape (and ``changes``)."""
    ctx.tensors[node.output[0]] = replace(t, shape=ctx.shape(node.output[0]), **changes)


@lowers(*RESHAPES)
def reshape(ctx: Context, node) -> None:
    """A reshape: the same stream under a new shape."""
    _keep_codes(ctx, node, ctx.input_of(node))


@lowers("Transpose")
def transpose(ctx: Context, node) -> None:
    """Channels to last before a flatten: the stream is already in that order."""
    t = ctx.input_of(node)
    perm = int_list(node, "perm", [])
    rank = len(t.shape)
    if rank < 3 or perm != [0] + list(range(2, rank)) + [1]:
        raise UserError(f"node {node.name} (Transpose): only NCHW -> NHWC (perm [0, 2, 3, 1]) before a "
                        f"flatten is supported on the accelerator, not perm {perm}")
    readers = ctx.consumers(node.output[0])
    if not all(r.op_type in ("Reshape", "Flatten") for r in readers):
        raise UserError(f"node {node.name} (Transpose): must be followed by Reshape/Flatten to a vector")
    _keep_codes(ctx, node, t)


def _pads(ctx: Context, node, t) -> list[int]:
    """A Pad's pads, of an (N, C, H, W) map on H and W only."""
    mode = node_attr(node, "mode", "constant") or "constant"
    pads = node_attr(node, "pads") or (constant(ctx.model, node.input[1]) if len(node.input) > 1 else None)
    if mode != "constant" or pads is None or len(t.spatial) != 2:
        raise UserError(f"node {node.name} (Pad): only constant padding of an NCHW map with constant pads "
                        "is supported")
    pads = [int(p) for p in np.asarray(pads).ravel()]
    if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)) or min(pads) < 0:
        raise UserError(f"node {node.name} (Pad): pads {pads}: only non-negative padding of H and W is supported")
    return pads


@lowers("Pad")
def pad(ctx: Context, node) -> None:
    """A constant Pad by a code of its input: pending, merged into the next window's padding."""
    t = ctx.input_of(node)
    pads = _pads(ctx, node, t)
    value_in = node.input[2] if len(node.input) > 2 and node.input[2] else None
    value = float(np.asarray(constant(ctx.model, value_in)).ravel()[0]) if value_in else 0.0
    code = value / t.scale
    if code != int(code) or not t.spec.lo <= code <= t.spec.hi or t.spec.bipolar:
        raise UserError(f"node {node.name} (Pad): pad value {value} is not a code of its input quantizer")
    if t.pad is not None:
        raise UserError(f"node {node.name} (Pad): two Pad nodes in a row are not supported")
    ctx.tensors[node.output[0]] = replace(t, pad=(pads[2], pads[3], pads[6], pads[7], int(code)))


def _by_positive_scalar(ctx: Context, node) -> bool:
    return ctx.positive_scalar(node) is not None


@lowers("Mul", when=_by_positive_scalar)
def scale_by_positive_scalar(ctx: Context, node) -> None:
    """A multiplication by a positive scalar: the same codes at a larger scale."""
    t = ctx.input_of(node)
    ctx.tensors[node.output[0]] = replace(t, scale=t.scale * ctx.positive_scalar(node))
