"""Run float ONNX sub-graphs with the reference's own arithmetic, on a whole batch at once.

qonnx's ``execute_onnx`` (the reference) runs each standard ONNX node as a one-node
onnxruntime model (with the model's opset for the node's domain) and each qonnx custom op
(Quant, BipolarQuant, MultiThreshold) with qonnx's numpy code. :class:`FloatGraph` does the
same, node by node, but with a free batch dimension so that the host-side edges of the
accelerator (input quantization, output dequantization, a softmax or argmax tail) and the
threshold search run on many samples in one call and agree with the reference to the bit.

Batching is only sound where onnxruntime computes each sample independently of where it lies in
the batch. That holds for most element-wise ops, Softmax-like row ops, ArgMax and TopK
(:data:`BATCH_SAFE`); reductions and matrix products (ReduceSum, MatMul, Gemm, ...) pick their
vectorized summation order from the buffer's alignment and the row count, and a few element-wise
kernels (Log, Softplus) round their scalar loop tail differently from their vector body, so all
other nodes run one sample at a time (each a fresh, aligned array), as in the reference.
Shape-only ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity) move data in numpy. Ops that
would mix samples (an axis of 0, a Transpose that moves the batch) are refused when the graph is
built.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from qonnx.core.execute_custom_node import execute_custom_node
from qonnx.core.onnx_exec import execute_node
from qonnx.custom_op.registry import is_custom_op
from qonnx.util.basic import (get_preferred_qonnx_opset, get_sanitize_quant_tensors, qonnx_make_model,
                              sanitize_quant_values)

from fpgaflow.errors import UserError

log = logging.getLogger(__name__)

BATCH = "N"

#: Standard ops whose onnxruntime kernels compute every sample of a batch exactly as they compute
#: that sample alone (checked against onnxruntime 1.32 for row widths 1..100; tests/test_host_ops.py
#: re-checks them). Any other standard op runs sample by sample: besides the sums, that includes
#: Log and Softplus, whose vectorized and scalar-tail code paths round differently.
BATCH_SAFE = frozenset({
    "Add", "Sub", "Mul", "Div", "Neg", "Abs", "Sqrt", "Exp", "Pow", "Reciprocal", "Floor", "Ceil",
    "Round", "Sign", "Relu", "LeakyRelu", "Clip", "Max", "Min", "Sigmoid", "Tanh", "Erf", "HardSigmoid",
    "Cast", "Softmax", "LogSoftmax", "Hardmax", "ArgMax", "ArgMin", "TopK", "ReduceMax", "ReduceMin",
    "Transpose", "BatchNormalization", "Equal", "Less", "Greater", "Not",
})

#: Ops that only change the shape: evaluated in numpy to the recorded shape, batch kept.
SHAPE_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze"})


def node_opset(opsets: dict, node) -> int:
    """The opset version ``execute_onnx`` runs ``node`` with: its domain's import, else qonnx's default."""
    return opsets[node.domain] if node.domain in opsets else get_preferred_qonnx_opset()


def _session_options() -> ort.SessionOptions:
    # One thread, no spin-waiting: the host edges run beside the C simulation processes.
    # Per-sample results do not depend on the thread count (threads split rows, not sums).
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


def _batched_vi(name: str, shape, elem_type: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    """A value info with a symbolic batch dimension in place of the recorded leading one."""
    dims = None if shape is None else [BATCH] + list(shape[1:])
    return helper.make_tensor_value_info(name, elem_type, dims)


def _attr(node, name: str, default=None):
    """The value of attribute ``name`` of ``node`` (strings decoded), or ``default``."""
    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _axes(node, constants: dict):
    """The ``axes`` of a Reduce/Squeeze/Unsqueeze node: its attribute, or its constant 2nd input."""
    axes = _attr(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        if node.input[1] not in constants:
            raise UserError(f"node {node.name} ({node.op_type}): its axes must be a constant")
        axes = constants[node.input[1]].tolist()
    return None if axes is None else [int(a) for a in np.atleast_1d(axes)]


def _touched_axes(node, rank: int, constants: dict, opset: int) -> list[int] | None:
    """The axes (normalized) that ``node`` reduces, normalizes, moves or removes; None if none."""
    op = node.op_type
    if op in ("Softmax", "LogSoftmax", "Hardmax"):
        axis = _attr(node, "axis", 1 if opset < 13 else -1) % rank
        # before opset 13 the input is coerced to 2-D at ``axis``: all axes from it on are one row
        return list(range(axis, rank)) if opset < 13 else [axis]
    if op in ("ArgMax", "ArgMin"):
        return [_attr(node, "axis", 0) % rank]
    if op == "TopK":
        return [_attr(node, "axis", -1) % rank]
    if op.startswith("Reduce"):
        axes = _axes(node, constants)
        if not axes:
            return None if _attr(node, "noop_with_empty_axes", 0) else list(range(rank))
        return sorted(a % rank for a in axes)
    if op == "Squeeze":
        axes = _axes(node, constants)
        return list(range(rank)) if axes is None else sorted(a % rank for a in axes)
    if op == "Unsqueeze":
        axes = _axes(node, constants) or []
        return sorted(a % (rank + len(axes)) for a in axes)
    if op == "Flatten":
        axis = _attr(node, "axis", 1) % max(rank, 1)
        return [0] if axis != 1 else None
    if op == "Transpose":
        perm = _attr(node, "perm", list(range(rank))[::-1])
        return [0] if perm and perm[0] != 0 else None
    return None


def check_batch_free(node, shapes: dict, constants: dict, opset: int) -> None:
    """Raise a UserError if ``node`` would mix the samples of a batch (it works on axis 0)."""
    data = node.input[0] if node.input else ""
    shape = shapes.get(data) or (list(constants[data].shape) if data in constants else None)
    if not shape:
        return
    axes = _touched_axes(node, len(shape), constants, opset)
    if axes and 0 in axes:
        raise UserError(f"node {node.name} ({node.op_type}): it works across the batch axis 0 of its input "
                        f"{data} {list(shape)}; fpgaflow runs the host edges on whole batches, so give it an "
                        "axis of 1 or more")


def _infer_output_types(node, in_types: dict, shapes: dict, constants: dict, opset: int) -> dict:
    """Output elem types of one standard node from ONNX type inference (FLOAT where unknown)."""
    outputs = [o for o in node.output if o]
    if is_custom_op(node.domain, node.op_type):
        return {o: TensorProto.FLOAT for o in outputs}  # qonnx's quantizers compute in float32
    inputs = []
    for name in dict.fromkeys(i for i in node.input if i):
        if name in constants:
            const = constants[name]
            inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(const.dtype),
                                                        list(const.shape)))
        else:
            inputs.append(_batched_vi(name, shapes.get(name), in_types.get(name, TensorProto.FLOAT)))
    model = qonnx_make_model(helper.make_graph([node], "type-inference", inputs, []))
    model.opset_import[0].version = opset
    try:
        inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    except Exception as exc:  # noqa: BLE001 - inference is a best effort, FLOAT is the fallback
        log.debug("type inference failed for %s (%s): %s", node.name, node.op_type, exc)
        inferred = []
    found = {vi.name: vi.type.tensor_type.elem_type for vi in inferred}
    return {o: found.get(o) or TensorProto.FLOAT for o in outputs}


def _model_elem_type(model, name: str) -> int:
    """The elem type the model's value info gives ``name`` (0 if it has none)."""
    vi = model.get_tensor_valueinfo(name)
    return vi.type.tensor_type.elem_type if vi is not None else 0


def static_values(model, names) -> dict:
    """Values of tensors of ``model`` computed from constants only (e.g. a quantized bias).

    Their producers, and theirs, are evaluated once in the model's (topological) order with
    qonnx's ``execute_node``, quantization annotations sanitized, exactly as ``execute_onnx``
    does on every run. Raises a UserError if one of them depends on a graph input.
    """
    producers, stack, seen = {}, list(names), set()
    while stack:
        name = stack.pop()
        if name in seen or model.get_initializer(name) is not None:
            continue
        seen.add(name)
        prod = model.find_producer(name)
        if prod is None:
            raise UserError(f"tensor '{name}' is read by the host's float nodes but is neither a constant nor "
                            "computed from constants (fpgaflow's host edges take one dynamic input)")
        index = model.get_node_index(prod)
        if index not in producers:
            producers[index] = prod
            stack.extend(i for i in prod.input if i)
    opsets = model.get_opset_imports()
    ctx = {}
    for index in sorted(producers):
        node = producers[index]
        for i in node.input:
            if i and i not in ctx:
                ctx[i] = model.get_initializer(i)
        for o in node.output:
            shape = model.get_tensor_shape(o)
            ctx[o] = np.zeros(shape if shape is not None else [0], dtype=np.float32)
        sanitize = get_sanitize_quant_tensors() != 0
        if sanitize:
            ctx = sanitize_quant_values(model, node.input, ctx)
        execute_node(node, ctx, model.graph, node_opset(opsets, node))
        if sanitize:
            ctx = sanitize_quant_values(model, node.output, ctx)
        log.debug("evaluated the static node %s (%s) once", node.name, node.op_type)
    return {name: np.asarray(ctx[name]) for name in names}


class FloatGraph:
    """A chain of float ONNX nodes between one input and one output tensor, batch-free.

    ``nodes`` are taken from ``model`` (a qonnx ModelWrapper) with their constant inputs;
    ``input_name`` is the one dynamic input, ``output_name`` the result. ``shapes`` record each
    dynamic tensor with a leading batch of 1; ``opsets`` are the model's opset imports;
    ``types`` give tensors' ONNX elem types (inferred per node where missing, the input is FLOAT).
    Shape ops keep the batch dimension (their target's leading 1 becomes the batch size).
    """

    def __init__(self, nodes, constants: dict, shapes: dict, opsets: dict, input_name: str, output_name: str,
                 types: dict | None = None):
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.constants = {k: np.asarray(v) for k, v in constants.items()}
        self.shapes = {k: list(v) for k, v in shapes.items()}
        self.opsets = dict(opsets)
        self.input_name = input_name
        self.output_name = output_name
        self.types = self._complete_types(types or {})
        self._sessions: dict[int, ort.InferenceSession] = {}

    def _complete_types(self, types: dict) -> dict:
        """``types`` with every node output's elem type filled in, in node order."""
        types = {k: int(v) for k, v in types.items() if v}
        types.setdefault(self.input_name, TensorProto.FLOAT)
        for node in self.nodes:
            if all(o in types for o in node.output if o):
                continue
            inferred = _infer_output_types(node, types, self.shapes, self.constants, node_opset(self.opsets, node))
            for name, elem in inferred.items():
                types.setdefault(name, elem)
        return types

    @classmethod
    def from_model(cls, model, nodes, input_name: str, output_name: str) -> "FloatGraph":
        """The chain ``nodes`` of a qonnx ModelWrapper, from ``input_name`` to ``output_name``.

        Inputs computed from constants by nodes outside the chain (a quantized bias) are evaluated
        once with the reference's arithmetic (:func:`static_values`) and kept as constants.
        """
        constants, shapes, types = {}, {input_name: model.get_tensor_shape(input_name)}, {}
        produced = {out for n in nodes for out in n.output}
        computed = []
        for node in nodes:
            for name in list(node.input) + list(node.output):
                if not name or name in constants:
                    continue
                init = model.get_initializer(name)
                if init is not None and name not in produced:
                    constants[name] = init
                elif name not in produced and name != input_name:
                    computed.append(name)
                else:
                    shapes[name] = list(model.get_tensor_shape(name) or [])
                    types[name] = _model_elem_type(model, name)
        constants.update(static_values(model, list(dict.fromkeys(computed))))
        opsets = model.get_opset_imports()
        for node in nodes:
            check_batch_free(node, shapes, constants, node_opset(opsets, node))
        return cls(nodes, constants, shapes, opsets, input_name, output_name, types)

    # -- serialization -------------------------------------------------------------------
    def _vi(self, name: str) -> onnx.ValueInfoProto:
        return _batched_vi(name, self.shapes.get(name), self.types.get(name, TensorProto.FLOAT))

    def to_onnx(self) -> onnx.ModelProto:
        """This sub-graph as a standalone ONNX model (batch dimension symbolic, elem types kept)."""
        inits = [onnx.numpy_helper.from_array(v, k) for k, v in self.constants.items()]
        inner = [k for k in self.shapes if k not in (self.input_name, self.output_name)]
        graph = helper.make_graph(self.nodes, "fpgaflow_host", [self._vi(self.input_name)],
                                  [self._vi(self.output_name)], initializer=inits,
                                  value_info=[self._vi(k) for k in inner])
        return qonnx_make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in self.opsets.items()])

    @classmethod
    def from_onnx(cls, proto: onnx.ModelProto) -> "FloatGraph":
        """Load a sub-graph written by :meth:`to_onnx`."""
        g = proto.graph
        infos = list(g.input) + list(g.output) + list(g.value_info)
        shapes = {vi.name: [1] + [d.dim_value for d in vi.type.tensor_type.shape.dim][1:] for vi in infos}
        types = {vi.name: vi.type.tensor_type.elem_type for vi in infos}
        constants = {i.name: onnx.numpy_helper.to_array(i) for i in g.initializer}
        opsets = {imp.domain: imp.version for imp in proto.opset_import}
        return cls(list(g.node), constants, shapes, opsets, g.input[0].name, g.output[0].name, types)

    # -- execution -----------------------------------------------------------------------
    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Evaluate the chain on ``x`` (batch first); returns the output tensor."""
        ctx = dict(self.constants)
        ctx[self.input_name] = np.ascontiguousarray(x, dtype=np.float32)
        for i, node in enumerate(self.nodes):
            self._run_node(i, node, ctx)
        return ctx[self.output_name]

    def _run_node(self, index: int, node, ctx: dict) -> None:
        if node.op_type in SHAPE_OPS:
            data = ctx[node.input[0]]
            if node.op_type == "Flatten":
                ctx[node.output[0]] = data.reshape(data.shape[0], -1)
            else:
                ctx[node.output[0]] = data.reshape([data.shape[0]] + list(self.shapes[node.output[0]][1:]))
            return
        if node.op_type == "Identity":
            ctx[node.output[0]] = ctx[node.input[0]]
            return
        if is_custom_op(node.domain, node.op_type):
            execute_custom_node(node, ctx, None, onnx_opset_version=node_opset(self.opsets, node))
            return
        sess = self._sessions.get(index)
        if sess is None:
            sess = self._sessions[index] = self._make_session(node)
        feeds = {name: ctx[name] for name in node.input if name}
        outputs = [o for o in node.output if o]
        if node.op_type in BATCH_SAFE:
            outs = sess.run(outputs, feeds)
        else:
            outs = self._run_per_sample(sess, outputs, feeds)
        ctx.update(zip(outputs, outs))

    def _run_per_sample(self, sess, outputs: list[str], feeds: dict) -> list[np.ndarray]:
        """Run ``sess`` on each sample alone (a fresh, aligned copy), as the reference does."""
        batched = [k for k in feeds if k not in self.constants]
        count = len(feeds[batched[0]]) if batched else 1
        rows = []
        for i in range(count):
            one = {k: (np.array(v[i:i + 1]) if k in batched else v) for k, v in feeds.items()}
            rows.append(sess.run(outputs, one))
        return [np.concatenate([r[j] for r in rows]) for j in range(len(outputs))]

    def _make_session(self, node) -> ort.InferenceSession:
        # Like qonnx's execute_node: constants are fed as graph inputs, not initializers, so
        # onnxruntime sees (and optimizes) the node exactly as in the reference execution.
        inputs = []
        for name in dict.fromkeys(i for i in node.input if i):
            if name in self.constants:
                const = self.constants[name]
                elem = helper.np_dtype_to_tensor_dtype(const.dtype)
                inputs.append(helper.make_tensor_value_info(name, elem, list(const.shape)))
            else:
                inputs.append(self._vi(name))
        graph = helper.make_graph([node], "single-node-exec", inputs, [self._vi(n) for n in node.output if n])
        model = qonnx_make_model(graph)
        model.opset_import[0].version = node_opset(self.opsets, node)
        try:
            return ort.InferenceSession(model.SerializeToString(), _session_options(),
                                        providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise UserError(f"node {node.name} ({node.op_type}): onnxruntime cannot run it with a batch "
                            f"dimension ({str(exc).splitlines()[0]})") from None
