"""Float host tails three ways: qonnx's execute_onnx per sample (the reference), FloatGraph on a
batch (bit-exact), and the driver's numpy HostGraph (exact, or host_ops.TOLERANCE for the ops
listed there)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes

from fpgaflow.interface import host_graph_data
from fpgaflow.streamio.host_ops import TOLERANCE, HostGraph, supported_ops
from fpgaflow.errors import UserError
from fpgaflow.frontend.float_exec import BATCH_SAFE, FloatGraph

QONNX = "qonnx.custom_op.general"
F, I64 = TensorProto.FLOAT, TensorProto.INT64
SAMPLES = 12


def _i64(*values) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _f32(*values) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def make_model(nodes, consts: dict, in_shape, opset: int, out_type: int = F, out: str = "y") -> ModelWrapper:
    """A model from ``x`` (float, ``in_shape``) to ``out`` with shapes inferred, as qonnx runs it."""
    graph = helper.make_graph(
        nodes, "tail", [helper.make_tensor_value_info("x", F, list(in_shape))],
        [helper.make_tensor_value_info(out, out_type, None)],
        initializer=[onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items()])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(QONNX, 1)])
    return ModelWrapper(proto).transform(InferShapes())


def sample_inputs(in_shape, seed: int = 0) -> np.ndarray:
    """Normal(0, 3) samples; half of them on a 0.5 grid (ties for ArgMax/TopK/Max), zeros in the first."""
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(SAMPLES,) + tuple(in_shape[1:])) * 3).astype(np.float32)
    x[::2] = np.round(x[::2] * 2) / 2
    x[0].flat[:3] = [0.0, -0.0, 0.0]
    return x


def reference(model: ModelWrapper, x: np.ndarray) -> np.ndarray:
    """execute_onnx sample by sample, stacked.

    Each sample is a fresh array: onnxruntime's sums (ReduceSum, MatMul) peel their vector loops
    by the buffer's address, so a view into the batch (misaligned rows) would change the
    reference itself. In a real tail the summing node reads a freshly computed tensor.
    """
    out = model.graph.output[0].name
    return np.concatenate([execute_onnx(model, {"x": np.array(row[None])})[out] for row in x])


def host_graph(graph: FloatGraph) -> HostGraph:
    """The driver's numpy graph, built from ``graph`` the way write_driver/the driver do it."""
    constants: dict = {}
    data = host_graph_data(graph, "c", constants)
    return HostGraph(data["nodes"], {n: constants[k] for n, k in data["constants"].items()}, data["shapes"],
                     data["input"], data["output"])


def node(op: str, inputs, outputs=("y",), **attrs) -> onnx.NodeProto:
    return helper.make_node(op, list(inputs), list(outputs), name=f"{op}_0", **attrs)


# name -> (nodes, constants, input shape, opset, output elem type, output name, tolerance key or None)
CASES = {
    "Softmax-11": ([node("Softmax", ["x"])], {}, (1, 3, 4), 11, F, "y", "Softmax"),
    "Softmax-13": ([node("Softmax", ["x"])], {}, (1, 3, 4), 13, F, "y", "Softmax"),
    "Softmax-13-axis1": ([node("Softmax", ["x"], axis=1)], {}, (1, 3, 4), 13, F, "y", "Softmax"),
    "LogSoftmax-11": ([node("LogSoftmax", ["x"])], {}, (1, 3, 4), 11, F, "y", "LogSoftmax"),
    "LogSoftmax-13": ([node("LogSoftmax", ["x"])], {}, (1, 10), 13, F, "y", "LogSoftmax"),
    "Sigmoid": ([node("Sigmoid", ["x"])], {}, (1, 10), 13, F, "y", "Sigmoid"),
    "Tanh": ([node("Tanh", ["x"])], {}, (1, 10), 13, F, "y", "Tanh"),
    "Exp": ([node("Exp", ["x"])], {}, (1, 10), 13, F, "y", "Exp"),
    "Softplus": ([node("Softplus", ["x"])], {}, (1, 10), 13, F, "y", "Softplus"),
    "Abs-Log": ([node("Abs", ["x"], ["a"]), node("Log", ["a"])], {}, (1, 10), 13, F, "y", "Log"),
    "Relu": ([node("Relu", ["x"])], {}, (1, 10), 13, F, "y", None),
    "Neg-Abs-Sqrt": ([node("Neg", ["x"], ["n"]), node("Abs", ["n"], ["a"]), node("Sqrt", ["a"])],
                     {}, (1, 10), 13, F, "y", None),
    "Clip-13": ([node("Clip", ["x", "lo", "hi"])], {"lo": _f32(-1.5)[0], "hi": _f32(2.25)[0]},
                (1, 10), 13, F, "y", None),
    "Clip-13-max-only": ([node("Clip", ["x", "", "hi"])], {"hi": _f32(0.5)[0]}, (1, 10), 13, F, "y", None),
    "Clip-6": ([node("Clip", ["x"], min=-1.0, max=0.75)], {}, (1, 10), 6, F, "y", None),
    "Max-Min": ([node("Max", ["x", "m"], ["t"]), node("Min", ["t", "n"])],
                {"m": np.linspace(-2, 1, 10, dtype=np.float32), "n": _f32(1.5)}, (1, 10), 13, F, "y", None),
    "Mul-Add-Sub-Div": ([node("Mul", ["x", "a"], ["t0"]), node("Add", ["t0", "b"], ["t1"]),
                         node("Sub", ["t1", "c"], ["t2"]), node("Div", ["t2", "d"])],
                        {"a": _f32(0.37), "b": np.linspace(-1, 1, 10, dtype=np.float32), "c": _f32(0.1),
                         "d": _f32(255.0)}, (1, 10), 13, F, "y", None),
    "ArgMax": ([node("ArgMax", ["x"], axis=1, keepdims=0)], {}, (1, 10), 13, I64, "y", None),
    "ArgMax-keepdims": ([node("ArgMax", ["x"], axis=-1)], {}, (1, 2, 6), 11, I64, "y", None),
    "ArgMax-last": ([node("ArgMax", ["x"], axis=1, keepdims=0, select_last_index=1)], {}, (1, 10), 13, I64,
                    "y", None),
    "TopK-values": ([node("TopK", ["x", "k"], ["y", "i"])], {"k": _i64(3)}, (1, 10), 13, F, "y", None),
    "TopK-indices": ([node("TopK", ["x", "k"], ["v", "y"])], {"k": _i64(3)}, (1, 10), 13, I64, "y", None),
    "TopK-smallest": ([node("TopK", ["x", "k"], ["v", "y"], largest=0)], {"k": _i64(4)}, (1, 10), 11, I64,
                      "y", None),
    "Softmax-ArgMax-Cast": ([node("Softmax", ["x"], ["p"]), node("ArgMax", ["p"], ["i"], axis=1),
                             node("Cast", ["i"], to=F)], {}, (1, 10), 13, F, "y", None),
    "Cast-int32": ([node("Cast", ["x"], to=TensorProto.INT32)], {}, (1, 10), 13, TensorProto.INT32, "y", None),
    "ReduceMax": ([node("ReduceMax", ["x"], axes=[2])], {}, (1, 3, 5), 13, F, "y", None),
    "ReduceSum": ([node("ReduceSum", ["x", "ax"], keepdims=0)], {"ax": _i64(1)}, (1, 10), 13, F, "y", "ReduceSum"),
    "ReduceMean": ([node("ReduceMean", ["x"], axes=[1, 2])], {}, (1, 3, 5), 13, F, "y", "ReduceMean"),
    "Reshape": ([node("Reshape", ["x", "s"])], {"s": _i64(1, 12)}, (1, 3, 4), 13, F, "y", None),
    "Flatten": ([node("Flatten", ["x"])], {}, (1, 3, 4), 13, F, "y", None),
    "Transpose": ([node("Transpose", ["x"], perm=[0, 2, 1])], {}, (1, 3, 4), 13, F, "y", None),
    "Squeeze-13": ([node("Squeeze", ["x", "ax"])], {"ax": _i64(2, 3)}, (1, 6, 1, 1), 13, F, "y", None),
    "Squeeze-11": ([node("Squeeze", ["x"], axes=[-1])], {}, (1, 6, 1), 11, F, "y", None),
    "Unsqueeze-13": ([node("Unsqueeze", ["x", "ax"])], {"ax": _i64(1)}, (1, 6), 13, F, "y", None),
    "Unsqueeze-11": ([node("Unsqueeze", ["x"], axes=[2, 3])], {}, (1, 6), 11, F, "y", None),
    "QuantizeLinear-DequantizeLinear-int8": ([node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                                              node("DequantizeLinear", ["q", "s", "z"])],
                                             {"s": _f32(0.0173)[0], "z": np.int8(0)}, (1, 10), 13, F, "y", None),
    "QuantizeLinear-Clip-DequantizeLinear-uint8": ([node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                                                    node("Clip", ["q", "lo", "hi"], ["c"]),
                                                    node("DequantizeLinear", ["c", "s", "z"])],
                                                   {"s": _f32(0.125)[0], "z": np.uint8(0), "lo": np.uint8(0),
                                                    "hi": np.uint8(15)}, (1, 10), 13, F, "y", None),
    "MatMul": ([node("MatMul", ["x", "w"])],
               {"w": np.random.default_rng(5).normal(size=(13, 7)).astype(np.float32)}, (1, 13), 13, F, "y", "MatMul"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_three_ways(case):
    """FloatGraph on a batch equals execute_onnx per sample bit for bit; the numpy graph agrees."""
    nodes, consts, in_shape, opset, out_type, out, tol = CASES[case]
    model = make_model(nodes, consts, in_shape, opset, out_type, out)
    x = sample_inputs(in_shape)
    want = reference(model, x)
    graph = FloatGraph.from_model(model, list(model.graph.node), "x", out)
    got = graph(x)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want)
    ours = host_graph(graph)(x)
    assert ours.dtype == want.dtype and ours.shape == want.shape
    if tol is None:
        assert np.array_equal(ours, want)
    else:
        np.testing.assert_allclose(ours, want, **TOLERANCE[tol])


@pytest.mark.parametrize("op", ["Neg", "Abs", "Sqrt", "Exp", "Reciprocal", "Floor", "Ceil", "Round", "Sign",
                                "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "HardSigmoid"])
def test_batched_unary_ops_equal_their_per_sample_runs(op):
    """The ops FloatGraph runs on the whole batch (BATCH_SAFE) give each sample's own result."""
    assert op in BATCH_SAFE
    x = np.abs(sample_inputs((1, 13), seed=6)) if op == "Sqrt" else sample_inputs((1, 13), seed=6)
    graph = FloatGraph([node(op, ["x"])], {}, {"x": [1, 13], "y": [1, 13]}, {"": 13}, "x", "y")
    per_sample = np.concatenate([graph(np.array(row[None])) for row in x])
    assert np.array_equal(graph(x), per_sample, equal_nan=True)


def test_every_case_op_runs_on_the_board():
    assert {n.op_type for c in CASES.values() for n in c[0]} <= supported_ops()


def quantized_bias_model() -> ModelWrapper:
    """x -> Add(Quant(b)) -> Softmax: the bias is computed from constants by a node outside the tail."""
    nodes = [helper.make_node("Quant", ["b", "s", "z", "bw"], ["bq"], domain=QONNX, name="Quant_bias",
                              signed=1, narrow=0, rounding_mode="ROUND"),
             node("Add", ["x", "bq"], ["t"]), node("Softmax", ["t"])]
    consts = {"b": np.random.default_rng(3).normal(size=(10,)).astype(np.float32), "s": _f32(0.0625),
              "z": _f32(0), "bw": _f32(4)}
    return make_model(nodes, consts, (1, 10), 13)


def test_quantized_bias_is_evaluated_once_with_the_reference_arithmetic():
    model = quantized_bias_model()
    tail = [n for n in model.graph.node if n.op_type != "Quant"]  # what streamline hands over
    graph = FloatGraph.from_model(model, tail, "x", "y")
    assert "bq" in graph.constants and not any(n.op_type == "Quant" for n in graph.nodes)
    x = sample_inputs((1, 10), seed=4)
    want = reference(model, x)
    got = graph(x)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    np.testing.assert_allclose(host_graph(graph)(x), want, **TOLERANCE["Softmax"])


def test_argmax_graph_round_trips_through_onnx():
    model = make_model([node("Mul", ["x", "a"], ["t"]), node("ArgMax", ["t"], axis=1, keepdims=0)],
                       {"a": _f32(-0.5)}, (1, 10), 13, I64)
    graph = FloatGraph.from_model(model, list(model.graph.node), "x", "y")
    proto = graph.to_onnx()
    onnx.checker.check_model(proto)
    assert proto.graph.output[0].type.tensor_type.elem_type == I64
    loaded = FloatGraph.from_onnx(onnx.load_from_string(proto.SerializeToString()))
    assert loaded.types["y"] == I64 and loaded.opsets == graph.opsets
    x = sample_inputs((1, 10), seed=5)
    got = loaded(x)
    assert got.dtype == np.int64 and np.array_equal(got, reference(model, x))


@pytest.mark.parametrize("nodes, opset", [
    ([node("ArgMax", ["x"])], 13),                   # ONNX's default axis is 0
    ([node("Softmax", ["x"], axis=0)], 11),          # coerced to one row over the whole batch
    ([node("Transpose", ["x"], perm=[1, 0])], 13),
    ([node("ReduceMax", ["x"], keepdims=0)], 13),    # no axes: all of them
])
def test_ops_across_the_batch_axis_are_refused(nodes, opset):
    model = make_model(nodes, {}, (1, 10), opset, I64 if nodes[0].op_type == "ArgMax" else F)
    with pytest.raises(UserError, match="batch axis"):
        FloatGraph.from_model(model, list(model.graph.node), "x", "y")
