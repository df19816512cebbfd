"""The lowering's state: the quantized tensors on the accelerator and the layers emitted so far."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from fpgaflow.errors import UserError
from fpgaflow.frontend.float_exec import FloatGraph
from fpgaflow.frontend.op_kinds import ELEMENTWISE, QUANTIZERS, WINDOWED
from fpgaflow.ir import IntSpec
from fpgaflow.passes.quant_params import activation_source, c_identifier, constant, node_window
from fpgaflow.passes.thresholds import ActivationChain, derive_thresholds

#: Ops folded into a float chain that ends in a quantizer.
FLOAT_CHAIN = frozenset(ELEMENTWISE) | frozenset(QUANTIZERS)
EXACT_FLOAT_BITS = 24  # integers up to 2**24 times a power of two are exact in float32


@dataclass
class QTensor:
    """A quantized tensor on the accelerator: the stream carrying its codes, scale and range.

    ``scale`` is a float (per tensor) or an array (per channel, only for the last layer's
    un-quantized output). ``pad`` is a pending Pad node, merged into the next window:
    (top, left, bottom, right, code).
    """

    stream: str
    scale: float | np.ndarray
    spec: IntSpec
    shape: list
    pad: tuple | None = None

    @property
    def channels(self) -> int:
        """The channel count (dimension 1)."""
        return int(self.shape[1])

    @property
    def spatial(self) -> tuple:
        """The spatial dimensions after the channels: () for a vector, (L,) or (H, W) for a map."""
        return tuple(int(d) for d in self.shape[2:])

    @property
    def pixels(self) -> int:
        """The spatial positions per frame (1 for a vector)."""
        return int(np.prod(self.spatial))


def is_pow2(x: float) -> bool:
    """Whether ``x`` is a positive power of two."""
    return x > 0 and math.frexp(x)[0] == 0.5


def scalar_scale(t: QTensor) -> float | None:
    """The tensor's scale as a float, or None when it is per channel."""
    return float(t.scale) if not np.ndim(t.scale) else None


def check_exact(node, layer, what: str) -> None:
    """Refuse a layer whose integer outputs leave float32's exact integers."""
    if max(abs(layer.out_spec.lo), abs(layer.out_spec.hi)) >= 1 << EXACT_FLOAT_BITS:
        raise UserError(f"node {node.name} ({node.op_type}): {what} exceeds float32's exact integers")


def map_graph(model, nodes, src, dst) -> FloatGraph:
    """A float chain over (1, C, *spatial) maps, evaluated per channel on (K, C, 1, ...) inputs."""
    graph = FloatGraph.from_model(model, nodes, src, dst)
    for name, shape in graph.shapes.items():
        if len(shape) > 2:
            graph.shapes[name] = [1, shape[1]] + [1] * (len(shape) - 2)
    return graph


class Context:
    """Walks the dynamic nodes in topological order and collects layer kits with their streams."""

    def __init__(self, model: ModelWrapper, static: set[str], stop: set[str]):
        self.model = model
        self.static = static
        self.stop = stop  # names of nodes that belong to the host output edge
        self.layers: list = []
        self.tensors: dict[str, QTensor] = {}
        self.done: set[str] = set()
        self.last_compute = ""

    def dynamic_inputs(self, node) -> list[str]:
        """The node's inputs that depend on the graph input."""
        return [i for i in node.input if i and i not in self.static]

    def consumers(self, tensor: str) -> list:
        """The nodes reading ``tensor``."""
        return self.model.find_consumers(tensor) or []

    def shape(self, tensor: str) -> list:
        """The tensor's shape in the model."""
        return self.model.get_tensor_shape(tensor)

    def layer_name(self, node, suffix: str = "") -> str:
        """A unique C identifier for a layer lowered from ``node``."""
        base = c_identifier(node.name) + suffix
        names = {layer.name for layer in self.layers}
        name, k = base, 1
        while name in names:
            name, k = f"{base}_{k}", k + 1
        return name

    def add(self, layer, inputs: list[str]) -> str:
        """Append ``layer`` reading ``inputs``; returns its output stream."""
        layer.inputs = tuple(inputs)
        layer.outputs = (f"{layer.name}_out",)
        self.layers.append(layer)
        return layer.outputs[0]

    def input_of(self, node, tensor: str | None = None) -> QTensor:
        """The quantized tensor ``node`` reads (its first dynamic input unless ``tensor``)."""
        tensor = tensor or self.dynamic_inputs(node)[0]
        t = self.tensors.get(tensor)
        if t is None:  # not produced on the accelerator: explain through the quantizer walk
            activation_source(self.model, tensor, f"{node.name} ({node.op_type})")
            raise UserError(f"node {node.name} ({node.op_type}): its input '{tensor}' is not on the accelerator")
        if t.pad is not None and node.op_type not in WINDOWED:
            raise UserError(f"node {node.name} ({node.op_type}): a Pad must be followed by Conv, MaxPool or "
                            "AveragePool")
        return t

    def ew_chain(self, tensor: str) -> list:
        """The element-wise float ops after ``tensor``, each the only reader of the previous."""
        chain, t = [], tensor
        while True:
            readers = self.consumers(t)
            if len(readers) != 1:
                return chain
            node = readers[0]
            if node.name in self.stop or node.op_type not in FLOAT_CHAIN or len(self.dynamic_inputs(node)) != 1:
                return chain
            chain.append(node)
            t = node.output[0]

    def thresholds(self, ew, src: str, value_scale, acc_lo, acc_hi, where: str):
        """Thresholds for the float chain ``ew`` (ending in a quantizer) read from ``src``."""
        quant_out = ew[-1].output[0]
        out_scale, out_spec, qnode = activation_source(self.model, quant_out, where)
        act = ActivationChain(map_graph(self.model, ew, src, quant_out), value_scale, out_scale, out_spec,
                              where=f"{where} -> {qnode.name}")
        table, negate = derive_thresholds(act, acc_lo, acc_hi)
        for n in ew:
            self.done.add(n.name)
        return table, negate, quant_out, out_scale

    def window(self, node, kind: str, t: QTensor):
        """The node's window over ``t``, with a pending Pad merged into its padding."""
        if t.pad is None:
            return node_window(self.model, node, kind)
        return node_window(self.model, node, kind, in_shape=t.shape, extra_pads=t.pad[:4])

    def positive_scalar(self, node) -> float | None:
        """The node's one constant input if it is a positive scalar, else None."""
        const = [np.asarray(constant(self.model, i)) for i in node.input if constant(self.model, i) is not None]
        if len(const) == 1 and const[0].size == 1 and float(const[0].ravel()[0]) > 0:
            return float(const[0].ravel()[0])
        return None


def quantizer_positions(ew: list) -> list[int]:
    """Positions of the quantizers in a float chain."""
    return [i for i, n in enumerate(ew) if n.op_type in QUANTIZERS]
