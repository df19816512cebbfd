"""1-D convolutional networks as H x 1 2-D networks (keyword spotting, time series).

A ``(1, C, L)`` tensor becomes ``(1, C, L, 1)``: a Conv1d with kernel k is a Conv with kernel
(k, 1), a MaxPool1d a (k, 1) MaxPool, and a flatten of ``(C, L, 1)`` gives the same order as one
of ``(C, L)``. The rewrite only changes shapes, never values or tensor names, so every
tensor of the rewritten model equals the reference's tensor of the same name, reshaped. The
host edges keep running the original (3-D) nodes.
"""

from __future__ import annotations

import logging

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes

from fpgaflow.errors import UserError
from fpgaflow.frontend.op_kinds import BROADCASTING, RANK_FREE, WINDOWED

log = logging.getLogger(__name__)


def _shapes(model: ModelWrapper) -> dict[str, list]:
    shapes = {}
    for vi in list(model.graph.input) + list(model.graph.output) + list(model.graph.value_info):
        shapes[vi.name] = model.get_tensor_shape(vi.name)
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def has_1d_layers(model: ModelWrapper) -> bool:
    """Whether a Conv or pooling node reads a 3-D (N, C, L) tensor."""
    return any(n.op_type in WINDOWED and len(model.get_tensor_shape(n.input[0]) or []) == 3
               for n in model.graph.node)


def _set_ints(node, name: str, values: list[int]) -> None:
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, [int(v) for v in values]))


def _ints(node, name: str):
    return next((list(a.ints) for a in node.attribute if a.name == name), None)


class Conv1dAs2d(Transformation):
    """Rewrite every 3-D tensor (N, C, L) as (N, C, L, 1) and the nodes reading them."""

    def apply(self, model: ModelWrapper):
        """Rewrite the model in place (qonnx's Transformation protocol)."""
        shapes = _shapes(model)
        rank3 = {k for k, v in shapes.items() if v is not None and len(v) == 3}
        for node in model.graph.node:
            touched = any(t in rank3 for t in list(node.input) + list(node.output))
            if not touched:
                continue
            op = node.op_type
            if op in WINDOWED:
                self._window(node)
            elif op in BROADCASTING:
                self._constants(model, node, rank3)
            elif op == "Reshape":
                target = model.get_initializer(node.input[1])
                if node.output[0] in rank3 and target is not None:
                    model.set_initializer(node.input[1], np.append(np.asarray(target), 1).astype(np.int64))
            elif op == "Transpose":
                perm = _ints(node, "perm")
                if perm is None or perm[0] != 0 or sorted(perm) != [0, 1, 2]:
                    raise UserError(f"node {node.name} (Transpose): perm {perm} on a 1-D feature map is not supported")
                _set_ints(node, "perm", perm + [3])
            elif op == "Pad":
                self._pad(model, node)
            elif op in ("ReduceMean", "ReduceMax", "ReduceSum"):
                pass  # axes over (N, C, L) keep their meaning; the new trailing axis has size 1
            elif op not in RANK_FREE:
                raise UserError(f"node {node.name} ({op}): not supported on a 1-D (N, C, L) tensor")
        for name in rank3:
            init = model.get_initializer(name)
            if init is not None:
                model.set_initializer(name, np.asarray(init)[..., None])
            else:
                model.set_tensor_shape(name, list(shapes[name]) + [1])
        log.info("1-D layers rewritten as (L x 1) 2-D layers (%d tensors)", len(rank3))
        return model.transform(InferShapes()), False

    @staticmethod
    def _window(node) -> None:
        kernel = _ints(node, "kernel_shape")
        if kernel is not None:
            _set_ints(node, "kernel_shape", kernel + [1])
        for name in ("strides", "dilations"):
            values = _ints(node, name)
            if values is not None:
                _set_ints(node, name, values + [1])
        pads = _ints(node, "pads")
        if pads is not None and len(pads) == 2:
            _set_ints(node, "pads", [pads[0], 0, pads[1], 0])

    @staticmethod
    def _constants(model: ModelWrapper, node, rank3: set[str]) -> None:
        """Constants of rank 1 or 2 broadcast from the right: give them the trailing axis."""
        for name in node.input:
            value = model.get_initializer(name) if name else None
            if value is None or name in rank3 or np.ndim(value) == 0 or np.size(value) == 1:
                continue
            if np.ndim(value) in (1, 2):
                model.set_initializer(name, np.asarray(value)[..., None])

    @staticmethod
    def _pad(model: ModelWrapper, node) -> None:
        pads = _ints(node, "pads")
        if pads is not None and len(pads) == 6:
            _set_ints(node, "pads", pads[:3] + [0] + pads[3:] + [0])
        elif len(node.input) > 1 and model.get_initializer(node.input[1]) is not None:
            p = [int(v) for v in np.asarray(model.get_initializer(node.input[1]))]
            if len(p) == 6:
                model.set_initializer(node.input[1], np.asarray(p[:3] + [0] + p[3:] + [0], dtype=np.int64))
