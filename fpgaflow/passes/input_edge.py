"""The accelerator's input edge: where the host's float pre-processing ends and integer codes begin.

Two kinds of model input are accepted:
- a float input quantized by the model's first activation quantizer (Brevitas' QuantIdentity):
  the host runs the reference's nodes up to that quantizer's output;
- an input annotated with a qonnx integer datatype (BIPOLAR, INTn, UINTn; FINN's UNSW-NB15 MLP),
  possibly followed by element-wise affine ops with scalar constants (``(x + 1) / 2``) before the
  first layer: the host runs those ops, and the values they give for every input code must be
  integer multiples of one scale, which then are the codes streamed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper

from fpgaflow.errors import UserError
from fpgaflow.frontend.float_exec import FloatGraph
from fpgaflow.frontend.op_kinds import AFFINE, RESHAPES
from fpgaflow.ir import IntSpec
from fpgaflow.passes.quant_params import activation_source, constant

#: Largest annotated input datatype whose every code is enumerated.
_ENUMERATE_BITS = 16


@dataclass
class InputEdge:
    """``boundary`` is the first tensor on the accelerator; ``nodes`` (of the streamlined model)
    lead to it from the graph input; ``graph`` runs them with the reference's arithmetic."""

    boundary: str
    scale: float
    spec: IntSpec
    nodes: list
    graph: FloatGraph
    dtype: str | None = None  # the input's datatype annotation, when no quantizer reads it


def static_tensors(model: ModelWrapper) -> set[str]:
    """Tensors that do not depend on the graph input: initializers and constant sub-expressions."""
    known = {i.name for i in model.graph.initializer}
    for node in model.graph.node:
        if all(i in known for i in node.input if i):
            known.update(node.output)
    return known


def annotated_dtype(model: ModelWrapper) -> DataType | None:
    """The graph input's qonnx datatype annotation if it is an integer or bipolar type."""
    dt = model.get_tensor_datatype(model.graph.input[0].name)
    if dt == DataType["BIPOLAR"] or (dt.is_integer() and dt.bitwidth() <= 32):
        return dt
    return None


def _affine_path(model: ModelWrapper, tensor: str) -> list | None:
    """The nodes from the graph input to ``tensor`` if all are affine ops with a scalar constant or
    reshapes; None if a quantizer or another op is on the way."""
    chain, t = [], tensor
    input_name = model.graph.input[0].name
    while t != input_name:
        prod = model.find_producer(t)
        if prod is None:
            return None
        dyn = [i for i in prod.input if i and constant(model, i) is None]
        if len(dyn) != 1:
            return None
        if prod.op_type in AFFINE:
            const = [constant(model, i) for i in prod.input if i and constant(model, i) is not None]
            if len(const) != 1 or np.asarray(const[0]).size != 1:
                return None
            if prod.op_type == "Div" and prod.input[0] != dyn[0]:
                raise UserError(f"node {prod.name} (Div): divides a constant by the annotated input; only "
                                "affine pre-processing (x + a, x - a, x * a, x / a) of an integer input is exact")
        elif prod.op_type not in RESHAPES:
            return None
        chain.append(prod)
        t = dyn[0]
    return chain[::-1]


def _host_chain(model: ModelWrapper, boundary: str) -> list:
    """The float nodes from the graph input to ``boundary`` (the input quantizer's output): a chain."""
    static = static_tensors(model)
    chain, t = [], boundary
    while (prod := model.find_producer(t)) is not None:
        chain.append(prod)
        dyn = [i for i in prod.input if i and i not in static]
        if len(dyn) != 1:
            raise UserError(f"node {prod.name} ({prod.op_type}): joins branches before the first quantizer")
        t = dyn[0]
    chain.reverse()
    for node in chain[:-1]:
        if len(model.find_consumers(node.output[0]) or []) > 1:
            raise UserError(f"node {node.name} ({node.op_type}) feeds several nodes before the first quantizer; "
                            "quantize the input first (e.g. Brevitas QuantIdentity)")
    return chain


def _dtype_codes(dt: DataType) -> np.ndarray:
    if dt == DataType["BIPOLAR"]:
        return np.array([-1.0, 1.0])
    lo, hi = int(dt.min()), int(dt.max())
    if dt.bitwidth() <= _ENUMERATE_BITS:
        return np.arange(lo, hi + 1, dtype=np.float64)
    inner = np.random.default_rng(0).integers(lo, hi, size=4096, endpoint=True)
    return np.unique(np.concatenate([[lo, lo + 1, 0, hi - 1, hi], inner])).astype(np.float64)


def _annotated_edge(model, host_model, dt: DataType, first, chain) -> InputEdge:
    input_name = model.graph.input[0].name
    boundary = first.input[0]
    where = f"input '{input_name}' ({dt.name})"
    host_nodes = _affine_path(host_model, boundary) if boundary != input_name else []
    if host_nodes is None or [n.name for n in host_nodes] != [n.name for n in chain]:
        raise UserError(f"{where}: its pre-processing before {first.name} is not a chain of affine ops")
    graph = FloatGraph.from_model(host_model, host_nodes, input_name, boundary)
    codes = _dtype_codes(dt)
    probe = FloatGraph.from_model(host_model, host_nodes, input_name, boundary)
    probe.shapes = {k: [1, 1] for k in probe.shapes}
    values = np.asarray(probe(codes.astype(np.float32).reshape(-1, 1)), dtype=np.float64).ravel() \
        if host_nodes else codes
    step = 2.0 if dt == DataType["BIPOLAR"] else 1.0
    scale = abs(values[-1] - values[0]) / (codes[-1] - codes[0]) * step
    ints = np.rint(values / scale) if scale > 0 and np.isfinite(scale) else None
    if ints is None or not np.array_equal((ints * scale).astype(np.float32), values.astype(np.float32)):
        raise UserError(f"{where}: the pre-processing {' -> '.join(n.op_type for n in host_nodes) or '(none)'} "
                        f"maps its codes to values that are not integer multiples of one scale, so the first "
                        f"layer's input is not an integer tensor; quantize it with a Quant node instead")
    scale = float(np.float32(scale))
    return InputEdge(boundary, scale, IntSpec(int(ints.min()), int(ints.max())), chain, graph, dt.name)


def input_edge(model: ModelWrapper, first) -> InputEdge:
    """The input edge of the streamlined ``model`` whose first MatMul/Conv is ``first``.

    The host's float graph is taken from ``model.host_model`` (the model before the QCDQ
    conversion and other rewrites), so it replays the reference's own nodes.
    """
    host_model = getattr(model, "host_model", model)
    input_name = model.graph.input[0].name
    dt = annotated_dtype(model)
    chain = _affine_path(model, first.input[0]) if dt is not None else None
    if chain is not None:
        return _annotated_edge(model, host_model, dt, first, chain)
    where = f"{first.name} ({first.op_type})"
    _, _, qnode = activation_source(model, first.input[0], where)
    boundary = qnode.output[0]  # the input quantizer's output: the first tensor on the accelerator
    scale, spec, _ = activation_source(model, boundary, where)
    nodes = _host_chain(model, boundary)
    if host_model is not model:
        host_nodes = _host_chain(host_model, boundary)
    else:
        host_nodes = nodes
    return InputEdge(boundary, scale, spec, nodes, FloatGraph.from_model(host_model, host_nodes, input_name, boundary))
