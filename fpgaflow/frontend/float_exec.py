"""Run float ONNX sub-graphs with the reference's own arithmetic, on a whole batch at once.

qonnx's ``execute_onnx`` (the reference) runs each standard ONNX node as a one-node
onnxruntime model and each qonnx custom op (Quant, BipolarQuant, MultiThreshold) with qonnx's
numpy code. :class:`FloatGraph` does the same, node by node, but with a free batch dimension so
that the host-side edges of the accelerator (input quantization, output dequantization) and the
threshold search run on many samples in one call and agree with the reference to the bit.
"""

from __future__ import annotations

import copy

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from qonnx.core.execute_custom_node import execute_custom_node
from qonnx.custom_op.registry import is_custom_op
from qonnx.util.basic import get_preferred_qonnx_opset, qonnx_make_model

from fpgaflow.errors import UserError

BATCH = "N"


def _session_options() -> ort.SessionOptions:
    # One thread, no spin-waiting: the host edges run beside the C simulation processes.
    # Element-wise results do not depend on the thread count.
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


def _batched_vi(name: str, shape: list[int], elem_type: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, [BATCH] + list(shape[1:]))


class FloatGraph:
    """A chain of float ONNX nodes between one input and one output tensor, batch-free.

    ``nodes`` are taken from ``model`` (a qonnx ModelWrapper) with their constant inputs;
    ``input_name`` is the one dynamic input, ``output_name`` the result. Reshape nodes keep the
    batch dimension (their target's leading 1 becomes the batch size).
    """

    def __init__(self, nodes, constants: dict, shapes: dict, opsets: dict, input_name: str, output_name: str):
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.constants = {k: np.asarray(v) for k, v in constants.items()}
        self.shapes = {k: list(v) for k, v in shapes.items()}
        self.opsets = dict(opsets)
        self.input_name = input_name
        self.output_name = output_name
        self._sessions: dict[int, ort.InferenceSession] = {}

    @classmethod
    def from_model(cls, model, nodes, input_name: str, output_name: str) -> "FloatGraph":
        """The chain ``nodes`` of a qonnx ModelWrapper, from ``input_name`` to ``output_name``."""
        constants, shapes = {}, {input_name: model.get_tensor_shape(input_name)}
        produced = {out for n in nodes for out in n.output}
        for node in nodes:
            for name in list(node.input) + list(node.output):
                if not name:
                    continue
                init = model.get_initializer(name)
                if init is not None and name not in produced:
                    constants[name] = init
                else:
                    if name not in produced and name != input_name:
                        raise UserError(f"node {node.name} ({node.op_type}): its input '{name}' is computed from "
                                        "constants by another node (e.g. a quantized bias); fpgaflow needs it as "
                                        "a float initializer")
                    shapes[name] = list(model.get_tensor_shape(name) or [])
        opsets = {imp.domain: imp.version for imp in model.model.opset_import}
        return cls(nodes, constants, shapes, opsets, input_name, output_name)

    # -- serialization -------------------------------------------------------------------
    def to_onnx(self) -> onnx.ModelProto:
        """This sub-graph as a standalone ONNX model (batch dimension symbolic)."""
        inits = [onnx.numpy_helper.from_array(v, k) for k, v in self.constants.items()]
        inner = [k for k in self.shapes if k not in (self.input_name, self.output_name)]
        graph = helper.make_graph(
            self.nodes, "fpgaflow_host", [_batched_vi(self.input_name, self.shapes[self.input_name])],
            [_batched_vi(self.output_name, self.shapes[self.output_name])], initializer=inits,
            value_info=[_batched_vi(k, self.shapes[k]) for k in inner])
        return qonnx_make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in self.opsets.items()])

    @classmethod
    def from_onnx(cls, proto: onnx.ModelProto) -> "FloatGraph":
        """Load a sub-graph written by :meth:`to_onnx`."""
        g = proto.graph
        shapes = {vi.name: [1] + [d.dim_value for d in vi.type.tensor_type.shape.dim][1:]
                  for vi in list(g.input) + list(g.output) + list(g.value_info)}
        constants = {i.name: onnx.numpy_helper.to_array(i) for i in g.initializer}
        opsets = {imp.domain: imp.version for imp in proto.opset_import}
        return cls(list(g.node), constants, shapes, opsets, g.input[0].name, g.output[0].name)

    # -- execution -----------------------------------------------------------------------
    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Evaluate the chain on ``x`` (batch first); returns the output tensor."""
        ctx = dict(self.constants)
        ctx[self.input_name] = np.ascontiguousarray(x, dtype=np.float32)
        for i, node in enumerate(self.nodes):
            self._run_node(i, node, ctx)
        return ctx[self.output_name]

    def _run_node(self, index: int, node, ctx: dict) -> None:
        if node.op_type == "Reshape":
            data = ctx[node.input[0]]
            target = self.shapes[node.output[0]]
            ctx[node.output[0]] = data.reshape([data.shape[0]] + list(target[1:]))
            return
        if node.op_type == "Flatten":
            data = ctx[node.input[0]]
            ctx[node.output[0]] = data.reshape(data.shape[0], -1)
            return
        if node.op_type == "Identity":
            ctx[node.output[0]] = ctx[node.input[0]]
            return
        if is_custom_op(node.domain, node.op_type):
            execute_custom_node(node, ctx, None, onnx_opset_version=self.opsets.get(node.domain,
                                                                                  get_preferred_qonnx_opset()))
            return
        sess = self._sessions.get(index)
        if sess is None:
            sess = self._sessions[index] = self._make_session(node)
        feeds = {name: ctx[name] for name in node.input if name}
        outs = sess.run(None, feeds)
        for name, value in zip(node.output, outs):
            ctx[name] = value

    def _make_session(self, node) -> ort.InferenceSession:
        # Like qonnx's execute_node: constants are fed as graph inputs, not initializers, so
        # onnxruntime sees (and optimizes) the node exactly as in the reference execution.
        inputs = []
        for name in node.input:
            if not name:
                continue
            if name in self.constants:
                const = self.constants[name]
                elem = onnx.helper.np_dtype_to_tensor_dtype(const.dtype)
                inputs.append(helper.make_tensor_value_info(name, elem, list(const.shape)))
            else:
                inputs.append(_batched_vi(name, self.shapes[name]))
        graph = helper.make_graph([node], "single-node-exec", inputs,
                                  [_batched_vi(n, self.shapes[n]) for n in node.output])
        model = qonnx_make_model(graph)
        model.opset_import[0].version = self.opsets.get("", 13)
        try:
            return ort.InferenceSession(model.SerializeToString(), _session_options(),
                                        providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise UserError(f"node {node.name} ({node.op_type}): onnxruntime cannot run it with a batch "
                            f"dimension ({str(exc).splitlines()[0]})") from None
