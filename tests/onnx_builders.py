"""Small hand-made QONNX graphs for error-path tests."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QONNX_DOMAIN = "qonnx.custom_op.general"


def _quant(name: str, inp: str, out: str, bits: int, signed: int = 1) -> tuple[onnx.NodeProto, list]:
    consts = [numpy_helper.from_array(np.array(v, dtype=np.float32), f"{name}_{k}")
              for k, v in (("scale", 1.0), ("zp", 0.0), ("bits", float(bits)))]
    node = helper.make_node("Quant", [inp] + [c.name for c in consts], [out], domain=QONNX_DOMAIN,
                            signed=signed, narrow=0, rounding_mode="ROUND")
    return node, consts


def save(model_path, nodes, inits, in_shape, out_shape):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QONNX_DOMAIN, 1)])
    onnx.save(model, str(model_path))
    return model_path


def conv_model(path, dilation: int = 1, bias: bool = False):
    """x -> Quant(8b) -> Conv(quantized 4b weights, 3x3, optional float bias) -> y."""
    q_in, c_in = _quant("qin", "x", "xq", 8)
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.integers(-3, 4, (2, 1, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.normal(size=2).astype(np.float32), "b")
    q_w, c_w = _quant("qw", "w", "wq", 4)
    conv = helper.make_node("Conv", ["xq", "wq"] + (["b"] if bias else []), ["y"], kernel_shape=[3, 3],
                            dilations=[dilation, dilation])
    out = 6 - 2 * dilation
    return save(path, [q_in, q_w, conv], c_in + c_w + [w] + ([b] if bias else []), [1, 1, 6, 6], [1, 2, out, out])


def softmax_model(path):
    """x -> Quant(8b) -> Softmax -> y."""
    q_in, c_in = _quant("qin", "x", "xq", 8)
    return save(path, [q_in, helper.make_node("Softmax", ["xq"], ["y"])], c_in, [1, 8], [1, 8])


def float_weight_model(path):
    """x -> Quant(8b) -> MatMul(float weight, no Quant) -> y."""
    q_in, c_in = _quant("qin", "x", "xq", 8)
    w = numpy_helper.from_array(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32), "w")
    mm = helper.make_node("MatMul", ["xq", "w"], ["y"])
    return save(path, [q_in, mm], c_in + [w], [1, 8], [1, 4])


def unquantized_input_model(path):
    """x -> MatMul(quantized weight) -> y: the activation is never quantized."""
    w = numpy_helper.from_array(np.random.default_rng(0).integers(-3, 4, (8, 4)).astype(np.float32), "w")
    q_w, c_w = _quant("qw", "w", "wq", 4)
    mm = helper.make_node("MatMul", ["x", "wq"], ["y"])
    return save(path, [q_w, mm], c_w + [w], [1, 8], [1, 4])


def padded_strided_conv_model(path):
    """x -> Quant(8b) -> Conv 3x3 pad 1 (+ float bias) -> Relu -> Quant(4b, scale 8) -> Conv 3x3 stride 2 -> y."""
    rng = np.random.default_rng(1)
    q_in, c_in = _quant("qin", "x", "xq", 8)
    w1 = numpy_helper.from_array(rng.integers(-7, 8, (4, 2, 3, 3)).astype(np.float32), "w1")
    b1 = numpy_helper.from_array(rng.normal(size=4).astype(np.float32) * 20, "b1")
    q_w1, c_w1 = _quant("qw1", "w1", "w1q", 4)
    conv1 = helper.make_node("Conv", ["xq", "w1q", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    relu = helper.make_node("Relu", ["c1"], ["r1"])
    act = [numpy_helper.from_array(np.array(v, dtype=np.float32), f"qa_{k}") for k, v in (("s", 8.0), ("z", 0.0),
                                                                                        ("b", 4.0))]
    q_act = helper.make_node("Quant", ["r1", "qa_s", "qa_z", "qa_b"], ["a1"], domain=QONNX_DOMAIN, signed=0, narrow=0,
                             rounding_mode="ROUND")
    w2 = numpy_helper.from_array(rng.integers(-3, 4, (3, 4, 3, 3)).astype(np.float32), "w2")
    q_w2, c_w2 = _quant("qw2", "w2", "w2q", 4)
    conv2 = helper.make_node("Conv", ["a1", "w2q"], ["y"], kernel_shape=[3, 3], strides=[2, 2])
    return save(path, [q_in, q_w1, conv1, relu, q_act, q_w2, conv2], c_in + c_w1 + c_w2 + act + [w1, b1, w2],
                [1, 2, 7, 7], [1, 3, 3, 3])


def _consts(prefix: str, **values) -> list:
    return [numpy_helper.from_array(np.asarray(v, dtype=np.float32), f"{prefix}_{k}") for k, v in values.items()]


def _act_quant(name: str, inp: str, out: str, scale: float, bits: int, signed: int) -> tuple[onnx.NodeProto, list]:
    consts = _consts(name, s=scale, z=0.0, b=float(bits))
    node = helper.make_node("Quant", [inp] + [c.name for c in consts], [out], domain=QONNX_DOMAIN, signed=signed,
                            narrow=0, rounding_mode="ROUND")
    return node, consts


def _conv(name: str, inp: str, out: str, shape, rng, **attrs) -> tuple[list, list]:
    w = numpy_helper.from_array(rng.integers(-3, 4, shape).astype(np.float32), f"{name}_w")
    q_w, c_w = _quant(f"{name}_q", w.name, f"{name}_wq", 4)
    conv = helper.make_node("Conv", [inp, f"{name}_wq"], [out], kernel_shape=list(shape[2:]), **attrs)
    return [q_w, conv], c_w + [w]


def pad_model(path):
    """x -> Quant(8b) -> Pad(1) -> Conv 3x3 -> Relu -> Quant(4b) -> Pad(1, value 0) -> MaxPool 2x2/2 ->
    Conv 1x1 -> y: explicit Pad nodes merged into the next window."""
    rng = np.random.default_rng(3)
    q_in, c_in = _quant("qin", "x", "xq", 8)
    pads = numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64), "pads")
    pad1 = helper.make_node("Pad", ["xq", "pads"], ["xp"], mode="constant")
    n1, c1 = _conv("c1", "xp", "c1o", (4, 2, 3, 3), rng)
    relu = helper.make_node("Relu", ["c1o"], ["r1"])
    q_a, c_a = _act_quant("qa", "r1", "a1", 4.0, 4, 0)
    pad2 = helper.make_node("Pad", ["a1", "pads"], ["ap"], mode="constant")
    pool = helper.make_node("MaxPool", ["ap"], ["p"], kernel_shape=[2, 2], strides=[2, 2])
    n2, c2 = _conv("c2", "p", "y", (3, 4, 1, 1), rng)
    return save(path, [q_in, pad1] + n1 + [relu, q_a, pad2, pool] + n2, c_in + [pads] + c1 + c_a + c2,
                [1, 2, 6, 6], [1, 3, 4, 4])


def scaled_add_model(path, branch_scale: float = 0.3):
    """x -> Quant(8b, scale 1) -> Conv 1x1 -> Quant(branch_scale) -> Add(with the input codes) -> Quant ->
    Conv 1x1 -> y: with the default scale the Add's inputs differ by a non-power-of-two ratio."""
    rng = np.random.default_rng(4)
    q_in, c_in = _quant("qin", "x", "xq", 8)
    n1, c1 = _conv("c1", "xq", "c1o", (2, 2, 1, 1), rng)
    q_a, c_a = _act_quant("qa", "c1o", "a1", branch_scale, 8, 1)
    add = helper.make_node("Add", ["a1", "xq"], ["s"])
    q_s, c_s = _act_quant("qs", "s", "sq", 1.0, 8, 1)
    n2, c2 = _conv("c2", "sq", "y", (3, 2, 1, 1), rng)
    return save(path, [q_in] + n1 + [q_a, add, q_s] + n2, c_in + c1 + c_a + c_s + c2, [1, 2, 4, 4], [1, 3, 4, 4])
