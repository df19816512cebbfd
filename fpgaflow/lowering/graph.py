"""Assemble the hardware graph: the input edge, the lowered layers in topological order, the host
output edge, a duplicator for every stream read twice, and the reference tensor on each stream."""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from fpgaflow.errors import UserError
from fpgaflow.frontend.float_exec import FloatGraph
from fpgaflow.frontend.op_kinds import COMPUTE
from fpgaflow.ir import IN_STREAM, OUT_STREAM, HardwareGraph, HostInput, HostOutput
from fpgaflow.layers.duplicate import Duplicate
from fpgaflow.lowering.compute import check_compute_input
from fpgaflow.lowering.context import Context, QTensor, quantizer_positions
from fpgaflow.lowering.registry import lower
from fpgaflow.passes.input_edge import input_edge, static_tensors
from fpgaflow.passes.quant_params import constant


def streamline(model: ModelWrapper, name: str) -> HardwareGraph:
    """Turn a cleaned-up QONNX network into a :class:`HardwareGraph` of integer layers."""
    static = static_tensors(model)
    dynamic = [n for n in model.graph.node if not all(i in static for i in n.input if i)]
    computes = [n for n in dynamic if n.op_type in COMPUTE]
    if not computes:
        raise UserError(f"{name}: the model has no MatMul/Gemm/Conv layer; nothing to accelerate")
    first = computes[0]
    check_compute_input(model, first)
    edge = input_edge(model, first)
    host_in = HostInput(edge.graph, edge.scale, edge.spec, dtype=edge.dtype)

    ctx = Context(model, static, stop=set())
    src, tail = _host_output_nodes(model, ctx, computes[-1])
    ctx.stop = {n.name for n in tail}
    ctx.last_compute = computes[-1].name
    ctx.tensors[edge.boundary] = QTensor(IN_STREAM, edge.scale, edge.spec, model.get_tensor_shape(edge.boundary))
    ctx.done = {n.name for n in edge.nodes}
    for node in dynamic:
        if node.name in ctx.done or node.name in ctx.stop:
            continue
        lower(ctx, node)
    t = ctx.tensors.get(src)
    if t is None:
        raise UserError(f"{name}: the graph after {computes[-1].name} does not lead to the output as a chain")
    host_out, stream_tensors = _host_output(model, ctx, name, src, tail, t)
    return HardwareGraph(name=name, input_name=model.graph.input[0].name, input_shape=host_model_input_shape(model),
                         output_name=model.graph.output[0].name, host_in=host_in,
                         layers=_insert_duplicates(ctx.layers), host_out=host_out, stream_tensors=stream_tensors)


def _host_output(model, ctx: Context, name: str, src: str, tail: list, t: QTensor):
    """Route the last layer's stream ``t`` (the reference's ``src``) to the output port; the host
    output edge and the reference tensor of each stream."""
    producer = next(layer for layer in ctx.layers if t.stream in layer.outputs)
    others = [layer.name for layer in ctx.layers if t.stream in layer.inputs]
    if others:
        raise UserError(f"{name}: the last layer's output {src} is also read by {', '.join(others)}")
    producer.outputs = tuple(OUT_STREAM if s == t.stream else s for s in producer.outputs)
    stream_tensors = _stream_tensors(ctx, t.stream)
    vscale = np.broadcast_to(np.asarray(t.scale, dtype=np.float64), (producer.out_elems // t.pixels,)).copy()
    output_name = model.graph.output[0].name
    graph = _host_tail_graph(model, src, output_name) if tail else None
    host_out = HostOutput(vscale, graph, model.get_tensor_shape(output_name),
                          chw=tuple(t.shape[1:]) if len(t.spatial) == 2 else None)
    host_out.source_tensor = src
    host_out.source_bias = _leading_bias(model, tail, src)
    return host_out, stream_tensors


def _host_output_nodes(model, ctx: Context, last) -> tuple[str, list]:
    """The tensor the host reads (the last layer's quantizer output, or its raw output) and the
    float nodes from it to the graph output."""
    ew = ctx.ew_chain(last.output[0])
    qpos = quantizer_positions(ew)
    src = ew[qpos[-1]].output[0] if qpos else last.output[0]
    return src, _downstream(model, src)


def _downstream(model, src: str) -> list:
    """Every node that depends on ``src``, in graph order."""
    tail, frontier = [], [src]
    while frontier:
        t = frontier.pop()
        for node in model.find_consumers(t) or []:
            if node not in tail:
                tail.append(node)
                frontier.extend(node.output)
    order = {n.name: i for i, n in enumerate(model.graph.node)}
    return sorted(tail, key=lambda n: order[n.name])


def _leading_bias(model, tail: list, src: str) -> dict | None:
    """A tail that starts by adding a constant bias to ``src`` (a Gemm's bias): its output and bias."""
    first = tail[0] if tail else None
    if first is None or first.op_type != "Add" or src not in first.input:
        return None
    other = [i for i in first.input if i != src]
    bias = constant(model, other[0]) if len(other) == 1 else None
    if bias is None:
        return None
    return {"tensor": first.output[0], "bias": np.asarray(bias, dtype=np.float64).tolist()}


def _host_tail_graph(model, src: str, output_name: str) -> FloatGraph:
    """The float nodes from ``src`` to the graph output, taken from the model before the QCDQ
    conversion and other rewrites (``model.host_model``): the reference's own nodes."""
    host_model = getattr(model, "host_model", model)
    if host_model.get_tensor_shape(src) is None and host_model.find_producer(src) is None:
        host_model = model
    return FloatGraph.from_model(host_model, _downstream(host_model, src), src, output_name)


def _insert_duplicates(layers: list) -> list:
    """Give every stream exactly one reader: a stream read by k layers gets k - 1 duplicators."""
    readers: dict[str, list] = {}
    for layer in layers:
        for port, stream in enumerate(layer.inputs):
            readers.setdefault(stream, []).append((layer, port))
    out = []

    def rewire(layer, port, stream):
        layer.inputs = tuple(stream if k == port else s for k, s in enumerate(layer.inputs))

    def split(stream, producer):
        users = readers.get(stream, [])
        if not users and stream != OUT_STREAM:
            raise UserError(f"layer {producer}: its output is never used")
        if len(users) < 2:
            return
        reader, port = users[0]
        spec, elems = reader.input_specs()[port], reader.input_elems()[port]
        current = stream
        for k, (user, user_port) in enumerate(users[:-1]):
            dup = Duplicate(f"{stream}_dup{k}", spec, elems, 1)
            dup.inputs, dup.outputs = (current,), (f"{dup.name}_a", f"{dup.name}_b")
            out.append(dup)
            rewire(user, user_port, dup.outputs[0])
            current = dup.outputs[1]
        rewire(*users[-1], current)

    split(IN_STREAM, "input")
    for layer in layers:
        out.append(layer)
        for stream in layer.outputs:
            split(stream, layer.name)
    return out


def host_model_input_shape(model) -> list[int]:
    """The model input's shape as the user's model declares it (before any rewrite)."""
    host_model = getattr(model, "host_model", model)
    return host_model.get_tensor_shape(host_model.graph.input[0].name)


def _stream_tensors(ctx: Context, out_stream: str) -> dict[str, dict]:
    """Per accelerator stream, the reference tensor it carries: its first quantized tensor."""
    specs = {IN_STREAM: None}
    for layer in ctx.layers:
        for stream in layer.outputs:
            specs[stream] = layer.out_spec
    found = {}
    for tensor, qt in ctx.tensors.items():
        if qt.stream in found or qt.stream not in specs:
            continue
        spec = qt.spec if specs[qt.stream] is None else specs[qt.stream]
        scale = np.asarray(qt.scale, dtype=np.float64)
        found[qt.stream] = {"tensor": tensor, "scale": scale.tolist(), "shape": [int(d) for d in qt.shape],
                            "bipolar": bool(spec.bipolar), "channels": None}
    if out_stream in found:
        found[OUT_STREAM] = found.pop(out_stream)
    return found
