"""Mutants of real QONNX models for the fuzz test (tests/test_fuzz.py).

Each mutant is a plausible user mistake or a damaged file: a quantizer's bit width, scale, zero
point or rounding mode changed, signed/narrow flipped, MultiThreshold thresholds of the wrong shape
or unsorted, a Transpose perm changed, a Gemm relabelled MatMul (and back), attributes dropped or
added, input/output dimensions changed, initializers of another dtype or shape, nodes dropped,
inputs rewired, duplicate names, cycles, another opset, and truncated, bit-flipped or empty files.

The bases are the shipped TFC models (FINN's QONNX exports) and small hand-made graphs covering
Gemm, Conv/MaxPool/Transpose-flatten, MultiThreshold and AveragePool/Trunc. Everything is
deterministic: names and bytes depend only on the bases and a fixed seed, so that every pytest-xdist
worker collects the same list.

``all_mutants()`` returns the list; ``Mutant.write(folder)`` writes one and returns the path to pass
to ``fpgaflow build``.
"""

from __future__ import annotations

import copy
import gzip
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MODELS = Path(__file__).parent / "models"
QONNX_DOMAIN = "qonnx.custom_op.general"
SEED = 20240611
TFC = ("TFC_1W1A", "TFC_1W2A", "TFC_2W2A")


@dataclass(frozen=True)
class Mutant:
    """One mutant: ``base`` model, a unique ``name`` and ``make(folder) -> path`` writing it."""

    name: str
    base: str
    make: Callable[[Path], Path]

    def write(self, folder: Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return self.make(folder)


# --------------------------------------------------------------------------- bases


def _const(name: str, value, dtype=np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def _quant(name: str, inp: str, out: str, scale, bits: float, signed: int = 1, narrow: int = 0,
           zp: float = 0.0, mode: str = "ROUND") -> tuple[onnx.NodeProto, list]:
    inits = [_const(f"{name}_scale", scale), _const(f"{name}_zp", zp), _const(f"{name}_bits", bits)]
    node = helper.make_node("Quant", [inp] + [i.name for i in inits], [out], name=name, domain=QONNX_DOMAIN,
                            signed=signed, narrow=narrow, rounding_mode=mode)
    return node, inits


def _weight(name: str, shape, rng, bits: int = 4, scale: float = 0.25) -> tuple[onnx.NodeProto, list]:
    hi = 2 ** (bits - 1) - 1
    w = _const(f"{name}_w", rng.integers(-hi, hi + 1, shape) * scale)
    node, inits = _quant(f"{name}_wq", w.name, f"{name}_wqo", scale, bits, narrow=1)
    return node, [w] + inits


def _model(nodes, inits, in_shape, out_shape, qonnx_opset: int = 1) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid(QONNX_DOMAIN, qonnx_opset)])
    model.ir_version = 8
    return model


def gemm_mlp() -> onnx.ModelProto:
    """x(1,16) -> Quant 8b -> Gemm(transB, bias) -> Relu -> Quant 3b unsigned -> Gemm -> y(1,4)."""
    rng = np.random.default_rng(11)
    q_in, c_in = _quant("qin", "x", "xq", 1 / 32, 8)
    q_w1, c_w1 = _weight("g1", (8, 16), rng)
    b1 = _const("g1_b", rng.normal(size=8))
    g1 = helper.make_node("Gemm", ["xq", "g1_wqo", "g1_b"], ["h1"], name="Gemm_1", transB=1)
    relu = helper.make_node("Relu", ["h1"], ["r1"], name="Relu_1")
    q_a, c_a = _quant("qa1", "r1", "a1", 0.25, 3, signed=0)
    q_w2, c_w2 = _weight("g2", (8, 4), rng, bits=3, scale=0.5)
    g2 = helper.make_node("Gemm", ["a1", "g2_wqo"], ["y"], name="Gemm_2")
    return _model([q_in, q_w1, g1, relu, q_a, q_w2, g2], c_in + c_w1 + [b1] + c_a + c_w2, [1, 16], [1, 4])


def threshold_mlp() -> onnx.ModelProto:
    """x(1,16) -> Quant 8b -> MatMul -> MultiThreshold (UINT2) -> MatMul -> y(1,4)."""
    rng = np.random.default_rng(12)
    q_in, c_in = _quant("qin", "x", "xq", 1 / 16, 8)
    q_w1, c_w1 = _weight("m1", (16, 8), rng)
    m1 = helper.make_node("MatMul", ["xq", "m1_wqo"], ["h1"], name="MatMul_1")
    thr = _const("mt_thr", np.sort(rng.normal(size=(8, 3)) * 2, axis=1))
    mt = helper.make_node("MultiThreshold", ["h1", "mt_thr"], ["a1"], name="MultiThreshold_1", domain=QONNX_DOMAIN,
                          out_dtype="UINT2", out_scale=1.0, out_bias=0.0)
    q_w2, c_w2 = _weight("m2", (8, 4), rng)
    m2 = helper.make_node("MatMul", ["a1", "m2_wqo"], ["y"], name="MatMul_2")
    return _model([q_in, q_w1, m1, mt, q_w2, m2], c_in + c_w1 + [thr] + c_w2, [1, 16], [1, 4])


def conv_net() -> onnx.ModelProto:
    """x(1,2,8,8) -> Quant -> Conv 3x3 pad 1 (+bias) -> Relu -> Quant 4b -> MaxPool 2x2 -> Transpose NHWC
    -> Reshape(1,-1) -> MatMul -> y(1,5)."""
    rng = np.random.default_rng(13)
    q_in, c_in = _quant("qin", "x", "xq", 1 / 64, 8)
    q_w1, c_w1 = _weight("c1", (4, 2, 3, 3), rng)
    b1 = _const("c1_b", rng.normal(size=4))
    conv = helper.make_node("Conv", ["xq", "c1_wqo", "c1_b"], ["h1"], name="Conv_1", kernel_shape=[3, 3],
                            pads=[1, 1, 1, 1], strides=[1, 1])
    relu = helper.make_node("Relu", ["h1"], ["r1"], name="Relu_1")
    q_a, c_a = _quant("qa1", "r1", "a1", 0.5, 4, signed=0)
    pool = helper.make_node("MaxPool", ["a1"], ["p1"], name="MaxPool_1", kernel_shape=[2, 2], strides=[2, 2])
    tr = helper.make_node("Transpose", ["p1"], ["t1"], name="Transpose_1", perm=[0, 2, 3, 1])
    shape = _const("flat_shape", [1, -1], np.int64)
    rs = helper.make_node("Reshape", ["t1", "flat_shape"], ["f1"], name="Reshape_1")
    q_w2, c_w2 = _weight("m2", (64, 5), rng)
    mm = helper.make_node("MatMul", ["f1", "m2_wqo"], ["y"], name="MatMul_1")
    return _model([q_in, q_w1, conv, relu, q_a, pool, tr, rs, q_w2, mm],
                  c_in + c_w1 + [b1] + c_a + [shape] + c_w2, [1, 2, 8, 8], [1, 5])


def trunc_pool_net() -> onnx.ModelProto:
    """x(1,2,6,6) -> Quant -> Conv 3x3 -> Relu -> Quant 4b unsigned (scale 0.5) -> AveragePool 2x2 -> Trunc v2
    (x, 0.125, 0, 6, 0.5, 4; floor) -> Conv 1x1 -> y(1,3,2,2): Brevitas' TruncAvgPool2d export."""
    rng = np.random.default_rng(14)
    q_in, c_in = _quant("qin", "x", "xq", 1 / 64, 8)
    q_w1, c_w1 = _weight("c1", (4, 2, 3, 3), rng)
    conv = helper.make_node("Conv", ["xq", "c1_wqo"], ["h1"], name="Conv_1", kernel_shape=[3, 3])
    relu = helper.make_node("Relu", ["h1"], ["r1"], name="Relu_1")
    q_a, c_a = _quant("qa1", "r1", "a1", 0.5, 4, signed=0)
    pool = helper.make_node("AveragePool", ["a1"], ["p1"], name="AveragePool_1", kernel_shape=[2, 2], strides=[2, 2])
    tr_c = [_const("tr_scale", 0.125), _const("tr_zp", 0.0), _const("tr_inbits", 6.0), _const("tr_outscale", 0.5),
            _const("tr_outbits", 4.0)]
    trunc = helper.make_node("Trunc", ["p1"] + [c.name for c in tr_c], ["t1"], name="Trunc_1", domain=QONNX_DOMAIN,
                             rounding_mode="FLOOR", signed=0, narrow=0)
    q_w2, c_w2 = _weight("c2", (3, 4, 1, 1), rng)
    conv2 = helper.make_node("Conv", ["t1", "c2_wqo"], ["y"], name="Conv_2", kernel_shape=[1, 1])
    return _model([q_in, q_w1, conv, relu, q_a, pool, trunc, q_w2, conv2],
                  c_in + c_w1 + c_a + tr_c + c_w2, [1, 2, 6, 6], [1, 3, 2, 2], qonnx_opset=2)


SMALL = {"gemm_mlp": gemm_mlp, "threshold_mlp": threshold_mlp, "conv_net": conv_net, "trunc_pool": trunc_pool_net}
BASES = TFC + tuple(SMALL)


@lru_cache(maxsize=None)
def base_bytes(base: str) -> bytes:
    """The serialized base model."""
    if base in SMALL:
        return SMALL[base]().SerializeToString()
    return (MODELS / f"{base}.onnx").read_bytes()


def base_model(base: str) -> onnx.ModelProto:
    """A fresh copy of the base model."""
    model = onnx.ModelProto()
    model.ParseFromString(base_bytes(base))
    return model


# --------------------------------------------------------------------------- editing helpers


def node(model: onnx.ModelProto, name: str) -> onnx.NodeProto:
    return next(n for n in model.graph.node if n.name == name)


def nodes_of(model: onnx.ModelProto, *ops: str) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if n.op_type in ops]


def get_init(model: onnx.ModelProto, name: str) -> np.ndarray:
    return numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == name))


def set_init(model: onnx.ModelProto, name: str, value, dtype=None) -> None:
    """Replace initializer ``name`` (and the graph input declaring it, as old exports have)."""
    value = np.asarray(value, dtype=dtype if dtype is not None else np.float32)
    for i, init in enumerate(model.graph.initializer):
        if init.name == name:
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(value, name))
    for inp in model.graph.input:
        if inp.name == name:
            inp.CopyFrom(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape))


def add_init(model: onnx.ModelProto, name: str, value, dtype=np.float32) -> str:
    model.graph.initializer.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
    return name


def set_attr(n: onnx.NodeProto, name: str, value) -> None:
    del_attr(n, name)
    n.attribute.append(helper.make_attribute(name, value))


def del_attr(n: onnx.NodeProto, name: str) -> None:
    keep = [a for a in n.attribute if a.name != name]
    del n.attribute[:]
    n.attribute.extend(keep)


def consumers(model: onnx.ModelProto, tensor: str) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if tensor in n.input]


def drop_node(model: onnx.ModelProto, name: str, rewire: bool = True) -> None:
    """Remove a node; with ``rewire`` its readers read its first input instead."""
    n = node(model, name)
    model.graph.node.remove(n)
    if not rewire:
        return
    for c in consumers(model, n.output[0]):
        for k, t in enumerate(c.input):
            if t == n.output[0]:
                c.input[k] = n.input[0]
    for out in model.graph.output:
        if out.name == n.output[0]:
            producer = [p for p in model.graph.node if n.input[0] in p.output]
            if producer:
                producer[0].output[list(producer[0].output).index(n.input[0])] = out.name
                for c in consumers(model, n.input[0]):
                    for k, t in enumerate(c.input):
                        if t == n.input[0]:
                            c.input[k] = out.name


def set_dims(value_info: onnx.ValueInfoProto, dims) -> None:
    """Set a value info's dims: ints, strings (symbolic) or None (unknown)."""
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for d in dims:
        dim = shape.dim.add()
        if isinstance(d, str):
            dim.dim_param = d
        elif d is not None:
            dim.dim_value = d


def first_input(model: onnx.ModelProto) -> onnx.ValueInfoProto:
    inits = {i.name for i in model.graph.initializer}
    return next(i for i in model.graph.input if i.name not in inits)


# --------------------------------------------------------------------------- mutant list


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", str(text)).strip("_")


class _Collector:
    def __init__(self):
        self.items: list[Mutant] = []
        self.names: set[str] = set()

    def _add(self, base: str, name: str, make: Callable[[Path], Path]) -> None:
        full = f"{base}.{_slug(name)}"
        assert full not in self.names, full
        self.names.add(full)
        self.items.append(Mutant(full, base, make))

    def model(self, base: str, name: str, edit: Callable[[onnx.ModelProto], object]) -> None:
        """A mutant made by editing a copy of the base's ModelProto."""

        def make(folder: Path, base=base, edit=edit) -> Path:
            model = base_model(base)
            edit(model)
            path = folder / f"{base}.onnx"
            path.write_bytes(model.SerializeToString())
            return path

        self._add(base, name, make)

    def raw(self, base: str, name: str, edit: Callable[[bytes], bytes]) -> None:
        """A mutant made from the base's serialized bytes."""

        def make(folder: Path, base=base, edit=edit) -> Path:
            path = folder / f"{base}.onnx"
            path.write_bytes(edit(base_bytes(base)))
            return path

        self._add(base, name, make)

    def path(self, base: str, name: str, make: Callable[[Path], Path]) -> None:
        self._add(base, name, make)


def _quant_param(model, quant: str, index: int, value, dtype=np.float32):
    set_init(model, node(model, quant).input[index], value, dtype)


def _mutate_quant_params(c: _Collector) -> None:
    """Bit widths, scales, zero points of activation, weight and input quantizers."""
    # TFC_2W2A: Quant_13 input quantizer, Quant_18 weight quantizer, Quant_25 activation (after BN).
    targets = {"act": "Quant_25", "weight": "Quant_18", "input": "Quant_13", "last_act": "Quant_49"}
    bits = {"0": 0, "1": 1, "33": 33, "2.5": 2.5, "neg2": -2, "64": 64, "nan": np.nan, "inf": np.inf, "1e10": 1e10}
    for role in ("act", "weight"):
        for label, v in bits.items():
            c.model("TFC_2W2A", f"bits={label}@{role}", lambda m, v=v, q=targets[role]: _quant_param(m, q, 3, v))
        c.model("TFC_2W2A", f"bits=per_channel@{role}",
                lambda m, q=targets[role]: _quant_param(m, q, 3, np.full(64, 2.0)))
        c.model("TFC_2W2A", f"bits=empty@{role}", lambda m, q=targets[role]: _quant_param(m, q, 3, np.zeros(0)))
        c.model("TFC_2W2A", f"bits=int64@{role}", lambda m, q=targets[role]: _quant_param(m, q, 3, 2, np.int64))
    for label, v in {"0": 0, "33": 33, "1": 1}.items():
        c.model("TFC_2W2A", f"bits={label}@input", lambda m, v=v: _quant_param(m, "Quant_13", 3, v))
        c.model("TFC_2W2A", f"bits={label}@last_act", lambda m, v=v: _quant_param(m, "Quant_49", 3, v))
    c.model("gemm_mlp", "bits=4@act", lambda m: _quant_param(m, "qa1", 3, 4))  # a valid change
    c.model("conv_net", "bits=3@weight", lambda m: _quant_param(m, "m2_wq", 3, 3))  # a valid change
    c.model("conv_net", "bits=0@act", lambda m: _quant_param(m, "qa1", 3, 0))
    c.model("conv_net", "bits=40@weight", lambda m: _quant_param(m, "c1_wq", 3, 40))
    c.model("TFC_1W2A", "bits=33@act", lambda m: _quant_param(m, "Quant_23", 3, 33))
    c.model("TFC_1W2A", "bits=0@act", lambda m: _quant_param(m, "Quant_23", 3, 0))

    scales = {"0": 0.0, "neg1": -1.0, "1e30": 1e30, "1e-30": 1e-30, "nan": np.nan, "inf": np.inf, "neginf": -np.inf}
    for role in ("act", "weight", "input"):
        for label, v in scales.items():
            c.model("TFC_2W2A", f"scale={label}@{role}", lambda m, v=v, q=targets[role]: _quant_param(m, q, 1, v))
        c.model("TFC_2W2A", f"scale=per_channel_len7@{role}",
                lambda m, q=targets[role]: _quant_param(m, q, 1, np.full(7, 0.5)))
    c.model("TFC_2W2A", "scale=per_channel_len64@act", lambda m: _quant_param(m, "Quant_25", 1, np.full(64, 0.5)))
    c.model("TFC_2W2A", "scale=per_channel_64x1@weight",
            lambda m: _quant_param(m, "Quant_18", 1, np.linspace(0.1, 1, 64).reshape(64, 1)))
    c.model("TFC_2W2A", "scale=per_input_1x784@weight",
            lambda m: _quant_param(m, "Quant_18", 1, np.linspace(0.1, 1, 784).reshape(1, 784)))
    c.model("TFC_2W2A", "scale=float64@act", lambda m: _quant_param(m, "Quant_25", 1, 0.5, np.float64))
    c.model("TFC_2W2A", "scale=int64@act", lambda m: _quant_param(m, "Quant_25", 1, 1, np.int64))
    c.model("gemm_mlp", "scale=0.3@act", lambda m: _quant_param(m, "qa1", 1, 0.3))  # a valid change
    c.model("conv_net", "scale=1e30@act", lambda m: _quant_param(m, "qa1", 1, 1e30))
    c.model("conv_net", "scale=0@weight", lambda m: _quant_param(m, "c1_wq", 1, 0.0))

    zps = {"0.5": 0.5, "1e20": 1e20, "3": 3.0, "neg1": -1.0, "nan": np.nan}
    for role in ("act", "weight"):
        for label, v in zps.items():
            c.model("TFC_2W2A", f"zp={label}@{role}", lambda m, v=v, q=targets[role]: _quant_param(m, q, 2, v))
    c.model("TFC_2W2A", "zp=per_channel@act", lambda m: _quant_param(m, "Quant_25", 2, np.arange(64.0)))
    c.model("TFC_2W2A", "zp=0.5@input", lambda m: _quant_param(m, "Quant_13", 2, 0.5))
    c.model("conv_net", "zp=2@act", lambda m: _quant_param(m, "qa1", 2, 2.0))

    # a quantizer parameter that is not a constant
    c.model("TFC_2W2A", "scale=dynamic@act", lambda m: node(m, "Quant_25").input.__setitem__(1, "47"))
    c.model("TFC_2W2A", "bits=missing_input@act", lambda m: node(m, "Quant_25").input.pop())
    c.model("TFC_2W2A", "bits=no_initializer@act", lambda m: node(m, "Quant_25").input.__setitem__(3, "nope"))


def _mutate_quant_attrs(c: _Collector) -> None:
    """rounding_mode, signed, narrow."""
    for mode in ("ROUND_TO_ZERO", "", "NEAREST", "round", "Floor"):
        c.model("TFC_2W2A", f"rounding={mode or 'empty'}@act",
                lambda m, mode=mode: set_attr(node(m, "Quant_25"), "rounding_mode", mode))
    c.model("TFC_2W2A", "rounding=ROUND_TO_ZERO@weight",
            lambda m: set_attr(node(m, "Quant_18"), "rounding_mode", "ROUND_TO_ZERO"))
    c.model("TFC_2W2A", "rounding=FLOOR@weight", lambda m: set_attr(node(m, "Quant_54"), "rounding_mode", "FLOOR"))
    c.model("TFC_2W2A", "rounding=int@act", lambda m: set_attr(node(m, "Quant_25"), "rounding_mode", 3))
    c.model("TFC_2W2A", "rounding=dropped@act", lambda m: del_attr(node(m, "Quant_25"), "rounding_mode"))
    for mode in ("HALF_EVEN", "CEIL", "FLOOR", "UP", "DOWN", "HALF_UP", "HALF_DOWN", "ROUND"):
        c.model("gemm_mlp", f"rounding={mode}@act", lambda m, mode=mode: set_attr(node(m, "qa1"), "rounding_mode", mode))
    c.model("conv_net", "rounding=CEIL@input", lambda m: set_attr(node(m, "qin"), "rounding_mode", "CEIL"))
    c.model("conv_net", "rounding=ROUND_TO_ZERO@weight",
            lambda m: set_attr(node(m, "c1_wq"), "rounding_mode", "ROUND_TO_ZERO"))

    c.model("TFC_2W2A", "signed=0@act", lambda m: set_attr(node(m, "Quant_25"), "signed", 0))
    c.model("TFC_2W2A", "signed=0@weight", lambda m: set_attr(node(m, "Quant_18"), "signed", 0))
    c.model("TFC_2W2A", "signed=2@act", lambda m: set_attr(node(m, "Quant_25"), "signed", 2))
    c.model("TFC_2W2A", "signed=float@act", lambda m: set_attr(node(m, "Quant_25"), "signed", 1.0))
    c.model("TFC_2W2A", "signed=dropped@act", lambda m: del_attr(node(m, "Quant_25"), "signed"))
    c.model("TFC_2W2A", "narrow=0@weight", lambda m: set_attr(node(m, "Quant_18"), "narrow", 0))
    c.model("TFC_2W2A", "narrow=dropped@weight", lambda m: del_attr(node(m, "Quant_18"), "narrow"))
    c.model("TFC_2W2A", "narrow=-1@act", lambda m: set_attr(node(m, "Quant_25"), "narrow", -1))

    def unsigned_narrow_1bit(m):
        set_attr(node(m, "qa1"), "signed", 0)
        set_attr(node(m, "qa1"), "narrow", 1)
        _quant_param(m, "qa1", 3, 1)

    c.model("gemm_mlp", "unsigned_narrow_1bit@act", unsigned_narrow_1bit)
    c.model("gemm_mlp", "signed=1@act", lambda m: set_attr(node(m, "qa1"), "signed", 1))  # a valid change
    c.model("gemm_mlp", "bits=1_signed@act", lambda m: (set_attr(node(m, "qa1"), "signed", 1),
                                                         _quant_param(m, "qa1", 3, 1)))
    c.model("TFC_2W2A", "attr_added=foo@act", lambda m: set_attr(node(m, "Quant_25"), "foo", 1))


def _mutate_bipolar(c: _Collector) -> None:
    for label, v in {"0": 0.0, "neg1": -1.0, "nan": np.nan, "inf": np.inf, "1e30": 1e30}.items():
        c.model("TFC_1W1A", f"bipolar_scale={label}@act", lambda m, v=v: set_init(m, node(m, "BipolarQuant_19").input[1], v))
    c.model("TFC_1W1A", "bipolar_scale=per_channel_len3@weight",
            lambda m: set_init(m, node(m, "BipolarQuant_14").input[1], np.ones(3)))
    c.model("TFC_1W1A", "bipolar_scale=missing@act", lambda m: node(m, "BipolarQuant_19").input.pop())
    c.model("TFC_1W1A", "bipolar_extra_input@act",
            lambda m: node(m, "BipolarQuant_19").input.append(add_init(m, "extra_bits", 2.0)))

    def bipolar_as_quant(m):
        node(m, "BipolarQuant_19").op_type = "Quant"

    c.model("TFC_1W1A", "BipolarQuant_relabelled_Quant@act", bipolar_as_quant)

    def quant_as_bipolar(m):
        node(m, "Quant_23").op_type = "BipolarQuant"

    c.model("TFC_1W2A", "Quant_relabelled_BipolarQuant@act", quant_as_bipolar)
    c.model("TFC_1W2A", "Quant_relabelled_IntQuant@act", lambda m: setattr(node(m, "Quant_23"), "op_type", "IntQuant"))
    c.model("TFC_1W1A", "domain=unknown@BipolarQuant", lambda m: setattr(node(m, "BipolarQuant_19"), "domain", "my.ops"))
    c.model("TFC_1W1A", "domain=default@BipolarQuant", lambda m: setattr(node(m, "BipolarQuant_19"), "domain", ""))


def _mutate_multithreshold(c: _Collector) -> None:
    b = "threshold_mlp"

    def thr(m, value):
        set_init(m, "mt_thr", value)

    t = get_init(base_model(b), "mt_thr")
    c.model(b, "thresholds=unsorted", lambda m: thr(m, t[:, ::-1]))
    c.model(b, "thresholds=5_channels", lambda m: thr(m, t[:5]))
    c.model(b, "thresholds=1_channel", lambda m: thr(m, t[:1]))  # global thresholds: valid
    c.model(b, "thresholds=1d", lambda m: thr(m, t[0]))
    c.model(b, "thresholds=3d", lambda m: thr(m, t[None]))
    c.model(b, "thresholds=nan", lambda m: thr(m, np.where(np.arange(t.size).reshape(t.shape) == 4, np.nan, t)))
    c.model(b, "thresholds=inf", lambda m: thr(m, np.where(np.arange(t.size).reshape(t.shape) == 4, np.inf, t)))
    c.model(b, "thresholds=7_steps", lambda m: thr(m, np.sort(np.concatenate([t, t + 0.1, t[:, :1] - 1], 1), 1)))
    c.model(b, "thresholds=empty", lambda m: thr(m, np.zeros((8, 0))))
    c.model(b, "thresholds=dynamic", lambda m: node(m, "MultiThreshold_1").input.__setitem__(1, "h1"))
    c.model(b, "out_scale=0", lambda m: set_attr(node(m, "MultiThreshold_1"), "out_scale", 0.0))
    c.model(b, "out_scale=-1", lambda m: set_attr(node(m, "MultiThreshold_1"), "out_scale", -1.0))
    c.model(b, "out_scale=nan", lambda m: set_attr(node(m, "MultiThreshold_1"), "out_scale", float("nan")))
    c.model(b, "out_bias=0.5", lambda m: set_attr(node(m, "MultiThreshold_1"), "out_bias", 0.5))
    c.model(b, "out_bias=-2", lambda m: set_attr(node(m, "MultiThreshold_1"), "out_bias", -2.0))  # valid
    c.model(b, "out_dtype=UINT99", lambda m: set_attr(node(m, "MultiThreshold_1"), "out_dtype", "UINT99"))
    c.model(b, "out_dtype=FLOAT32", lambda m: set_attr(node(m, "MultiThreshold_1"), "out_dtype", "FLOAT32"))
    c.model(b, "out_dtype=dropped", lambda m: del_attr(node(m, "MultiThreshold_1"), "out_dtype"))
    c.model(b, "data_layout=NHWC", lambda m: set_attr(node(m, "MultiThreshold_1"), "data_layout", "NHWC"))
    c.model(b, "thresholds=int64", lambda m: set_init(m, "mt_thr", np.rint(t), np.int64))


def _mutate_trunc(c: _Collector) -> None:
    b = "trunc_pool"
    c.model(b, "trunc_outbits=0", lambda m: set_init(m, "tr_outbits", 0.0))
    c.model(b, "trunc_outbits=8", lambda m: set_init(m, "tr_outbits", 8.0))  # more than it has
    c.model(b, "trunc_outbits=2.5", lambda m: set_init(m, "tr_outbits", 2.5))
    c.model(b, "trunc_inbits=3", lambda m: set_init(m, "tr_inbits", 3.0))
    c.model(b, "trunc_inbits=nan", lambda m: set_init(m, "tr_inbits", np.nan))
    c.model(b, "trunc_scale=0", lambda m: set_init(m, "tr_scale", 0.0))
    c.model(b, "trunc_outscale=0", lambda m: set_init(m, "tr_outscale", 0.0))
    c.model(b, "trunc_outscale=0.3", lambda m: set_init(m, "tr_outscale", 0.3))
    c.model(b, "trunc_signed=1", lambda m: set_attr(node(m, "Trunc_1"), "signed", 1))
    c.model(b, "trunc_scale=neg1", lambda m: set_init(m, "tr_scale", -1.0))
    c.model(b, "trunc_zp=0.5", lambda m: set_init(m, "tr_zp", 0.5))
    c.model(b, "trunc_rounding=BOGUS", lambda m: set_attr(node(m, "Trunc_1"), "rounding_mode", "BOGUS"))
    c.model(b, "trunc_rounding=ROUND", lambda m: set_attr(node(m, "Trunc_1"), "rounding_mode", "ROUND"))
    c.model(b, "trunc_rounding=dropped", lambda m: del_attr(node(m, "Trunc_1"), "rounding_mode"))
    c.model(b, "trunc_missing_input", lambda m: node(m, "Trunc_1").input.pop())


def _mutate_layer_attrs(c: _Collector) -> None:
    """Transpose perm, Gemm/MatMul relabelling and attributes, Conv/MaxPool attributes."""
    for perm in ([0, 1], [1, 0, 2], [2, 0], [1, 1], [-1, 0]):
        c.model("TFC_2W2A", f"perm={perm}@weight",
                lambda m, perm=perm: set_attr(node(m, "Transpose_19"), "perm", perm))
    c.model("TFC_2W2A", "perm=dropped@weight", lambda m: del_attr(node(m, "Transpose_19"), "perm"))  # valid
    for perm in ([0, 3, 2, 1], [0, 1, 2, 3], [0, 2, 1, 3], [0, 2, 3], [1, 2, 3, 0]):
        c.model("conv_net", f"perm={perm}@flatten", lambda m, perm=perm: set_attr(node(m, "Transpose_1"), "perm", perm))
    c.model("conv_net", "perm=dropped@flatten", lambda m: del_attr(node(m, "Transpose_1"), "perm"))

    # Gemm <-> MatMul
    c.model("TFC_2W2A", "MatMul_relabelled_Gemm", lambda m: setattr(node(m, "MatMul_32"), "op_type", "Gemm"))
    c.model("gemm_mlp", "Gemm_relabelled_MatMul@transB", lambda m: setattr(node(m, "Gemm_1"), "op_type", "MatMul"))
    c.model("gemm_mlp", "Gemm_relabelled_MatMul@plain", lambda m: setattr(node(m, "Gemm_2"), "op_type", "MatMul"))
    c.model("gemm_mlp", "transB=dropped", lambda m: del_attr(node(m, "Gemm_1"), "transB"))
    c.model("gemm_mlp", "transB=1@plain", lambda m: set_attr(node(m, "Gemm_2"), "transB", 1))
    c.model("gemm_mlp", "transA=1", lambda m: set_attr(node(m, "Gemm_1"), "transA", 1))
    c.model("gemm_mlp", "alpha=2", lambda m: set_attr(node(m, "Gemm_1"), "alpha", 2.0))  # valid
    c.model("gemm_mlp", "beta=0.5", lambda m: set_attr(node(m, "Gemm_1"), "beta", 0.5))  # valid
    c.model("gemm_mlp", "alpha=0", lambda m: set_attr(node(m, "Gemm_2"), "alpha", 0.0))
    c.model("gemm_mlp", "bias=wrong_length", lambda m: set_init(m, "g1_b", np.ones(5)))
    c.model("conv_net", "Conv_relabelled_MatMul", lambda m: setattr(node(m, "Conv_1"), "op_type", "MatMul"))
    c.model("conv_net", "MatMul_relabelled_Conv", lambda m: setattr(node(m, "MatMul_1"), "op_type", "Conv"))
    c.model("conv_net", "MaxPool_relabelled_AveragePool", lambda m: setattr(node(m, "MaxPool_1"), "op_type",
                                                                            "AveragePool"))
    c.model("conv_net", "Relu_relabelled_Sigmoid", lambda m: setattr(node(m, "Relu_1"), "op_type", "Sigmoid"))

    conv = {"kernel_shape=dropped": lambda n: del_attr(n, "kernel_shape"),  # inferred from the weight: valid
            "kernel_shape=5x5": lambda n: set_attr(n, "kernel_shape", [5, 5]),
            "kernel_shape=3": lambda n: set_attr(n, "kernel_shape", [3]),
            "strides=2x2": lambda n: set_attr(n, "strides", [2, 2]),
            "strides=0x0": lambda n: set_attr(n, "strides", [0, 0]),
            "strides=1": lambda n: set_attr(n, "strides", [1]),
            "pads=1x1": lambda n: set_attr(n, "pads", [1, 1]),
            "pads=-1": lambda n: set_attr(n, "pads", [-1, -1, -1, -1]),
            "pads=dropped": lambda n: del_attr(n, "pads"),
            "pads=asymmetric": lambda n: set_attr(n, "pads", [0, 0, 2, 2]),
            "dilations=2x2": lambda n: set_attr(n, "dilations", [2, 2]),
            "group=2": lambda n: set_attr(n, "group", 2),
            "auto_pad=SAME_UPPER": lambda n: (del_attr(n, "pads"), set_attr(n, "auto_pad", "SAME_UPPER")),
            "kernel_shape=float": lambda n: set_attr(n, "kernel_shape", [3.0, 3.0])}
    for label, edit in conv.items():
        c.model("conv_net", f"conv_{label}", lambda m, edit=edit: edit(node(m, "Conv_1")))
    pool = {"kernel_shape=dropped": lambda n: del_attr(n, "kernel_shape"),
            "kernel_shape=9x9": lambda n: set_attr(n, "kernel_shape", [9, 9]),
            "strides=dropped": lambda n: del_attr(n, "strides"),
            "ceil_mode=1": lambda n: (set_attr(n, "ceil_mode", 1), set_attr(n, "kernel_shape", [3, 3])),
            "pads=1": lambda n: set_attr(n, "pads", [1, 1, 1, 1]),
            "storage_order=1": lambda n: set_attr(n, "storage_order", 1)}
    for label, edit in pool.items():
        c.model("conv_net", f"maxpool_{label}", lambda m, edit=edit: edit(node(m, "MaxPool_1")))
    c.model("trunc_pool", "avgpool_kernel=3x3", lambda m: set_attr(node(m, "AveragePool_1"), "kernel_shape", [3, 3]))
    c.model("trunc_pool", "avgpool_count_include_pad", lambda m: (set_attr(node(m, "AveragePool_1"), "pads", [1, 1, 1, 1]),
                                                                   set_attr(node(m, "AveragePool_1"), "count_include_pad", 1)))
    c.model("TFC_2W2A", "bn_epsilon=0", lambda m: set_attr(node(m, "BatchNormalization_21"), "epsilon", 0.0))
    c.model("TFC_2W2A", "bn_epsilon=-1", lambda m: set_attr(node(m, "BatchNormalization_21"), "epsilon", -1.0))
    c.model("conv_net", "reshape_shape=1x63", lambda m: set_init(m, "flat_shape", [1, 63], np.int64))
    c.model("conv_net", "reshape_shape=float", lambda m: set_init(m, "flat_shape", [1, -1], np.float32))
    c.model("conv_net", "reshape_shape=64x1", lambda m: set_init(m, "flat_shape", [64, 1], np.int64))


def _mutate_shapes(c: _Collector) -> None:
    """Graph input/output dims and initializer dtypes and shapes."""
    dims = {"28x27": [1, 1, 28, 27], "zero": [1, 1, 0, 28], "minus1": [1, 1, -1, 28], "symbolic_batch": ["N", 1, 28, 28],
            "symbolic_h": [1, 1, "H", 28], "unknown": [1, 1, None, 28], "flat": [1, 784], "rank1": [784],
            "batch2": [2, 1, 28, 28], "rank5": [1, 1, 1, 28, 28], "3channels": [1, 3, 28, 28]}
    for label, d in dims.items():
        c.model("TFC_2W2A", f"input_dims={label}", lambda m, d=d: set_dims(first_input(m), d))
    c.model("TFC_2W2A", "input_dtype=int8", lambda m: setattr(first_input(m).type.tensor_type, "elem_type", TensorProto.INT8))
    c.model("TFC_2W2A", "input_dtype=double",
            lambda m: setattr(first_input(m).type.tensor_type, "elem_type", TensorProto.DOUBLE))
    c.model("TFC_2W2A", "input_shape=none", lambda m: first_input(m).type.tensor_type.ClearField("shape"))
    c.model("TFC_2W2A", "output_dims=1x11", lambda m: set_dims(m.graph.output[0], [1, 11]))
    c.model("TFC_2W2A", "output_dims=rank3", lambda m: set_dims(m.graph.output[0], [1, 10, 1]))
    for label, d in {"16x15": [1, 16, 15], "17": [1, 17], "symbolic": ["batch", 16], "batch4": [4, 16]}.items():
        c.model("gemm_mlp", f"input_dims={label}", lambda m, d=d: set_dims(m.graph.input[0], d))
    for label, d in {"9x9": [1, 2, 9, 9], "3ch": [1, 3, 8, 8], "7x7": [1, 2, 7, 7], "flat": [1, 128]}.items():
        c.model("conv_net", f"input_dims={label}", lambda m, d=d: set_dims(m.graph.input[0], d))
    c.model("conv_net", "output_dims=1x6", lambda m: set_dims(m.graph.output[0], [1, 6]))

    w = get_init(base_model("TFC_2W2A"), "53")
    c.model("TFC_2W2A", "weight_dtype=float16", lambda m: set_init(m, "53", w, np.float16))
    c.model("TFC_2W2A", "weight_dtype=float64", lambda m: set_init(m, "53", w, np.float64))
    c.model("TFC_2W2A", "weight_dtype=int8", lambda m: set_init(m, "53", np.sign(w), np.int8))
    c.model("TFC_2W2A", "weight_shape=64x63", lambda m: set_init(m, "53", w[:, :63]))
    c.model("TFC_2W2A", "weight_shape=flat", lambda m: set_init(m, "53", w.ravel()))
    c.model("TFC_2W2A", "weight_shape=64x64x1", lambda m: set_init(m, "53", w[:, :, None]))
    c.model("TFC_2W2A", "weight=nan", lambda m: set_init(m, "53", np.where(np.arange(w.size).reshape(w.shape) == 7,
                                                                           np.nan, w)))
    c.model("TFC_2W2A", "weight=inf", lambda m: set_init(m, "53", np.where(np.arange(w.size).reshape(w.shape) == 7,
                                                                           np.inf, w)))
    c.model("TFC_2W2A", "weight=zeros", lambda m: set_init(m, "53", np.zeros_like(w)))

    def raw_too_short(m):
        init = next(i for i in m.graph.initializer if i.name == "53")
        init.raw_data = init.raw_data[:-40]

    c.model("TFC_2W2A", "weight_raw_data_short", raw_too_short)
    c.model("TFC_2W2A", "init_shape_disagrees_with_input", lambda m: set_dims(
        next(i for i in m.graph.input if i.name == "features.3.weight"), [32]))
    c.model("TFC_2W2A", "bn_var=negative", lambda m: set_init(m, "features.3.running_var", -np.ones(64)))
    c.model("TFC_2W2A", "bn_var=zero", lambda m: set_init(m, "features.3.running_var", np.zeros(64)))
    c.model("TFC_2W2A", "bn_weight=len32", lambda m: set_init(m, "features.3.weight", np.ones(32)))
    c.model("TFC_2W2A", "bn_mean=nan", lambda m: set_init(m, "features.7.running_mean", np.full(64, np.nan)))
    c.model("TFC_2W2A", "preprocess_mul=0", lambda m: set_init(m, "32", 0.0))
    c.model("TFC_2W2A", "preprocess_mul=nan", lambda m: set_init(m, "32", np.nan))


def _mutate_graph(c: _Collector) -> None:
    """Dropped nodes, rewired inputs, duplicate names and outputs, cycles, opsets."""
    for name in ("Quant_25", "Quant_13", "Quant_18", "Transpose_19", "BatchNormalization_21", "Reshape_5", "Add_62",
                 "Mul_7", "MatMul_56", "Quant_49"):
        c.model("TFC_2W2A", f"dropped={name}", lambda m, name=name: drop_node(m, name))
    c.model("TFC_2W2A", "dropped_unwired=MatMul_32", lambda m: drop_node(m, "MatMul_32", rewire=False))
    c.model("TFC_1W1A", "dropped=BipolarQuant_19", lambda m: drop_node(m, "BipolarQuant_19"))
    c.model("conv_net", "dropped=Transpose_1", lambda m: drop_node(m, "Transpose_1"))
    c.model("conv_net", "dropped=Reshape_1", lambda m: drop_node(m, "Reshape_1"))
    c.model("conv_net", "dropped=MaxPool_1", lambda m: drop_node(m, "MaxPool_1"))
    c.model("conv_net", "dropped=qa1", lambda m: drop_node(m, "qa1"))
    c.model("threshold_mlp", "dropped=MultiThreshold_1", lambda m: drop_node(m, "MultiThreshold_1"))
    c.model("trunc_pool", "dropped=Trunc_1", lambda m: drop_node(m, "Trunc_1"))

    c.model("TFC_2W2A", "rewired=MatMul_32_to_graph_input", lambda m: node(m, "MatMul_32").input.__setitem__(0, "0"))
    c.model("TFC_2W2A", "rewired=MatMul_32_weight_of_layer0", lambda m: node(m, "MatMul_32").input.__setitem__(1, "45"))
    c.model("TFC_2W2A", "rewired=MatMul_44_skip_layer", lambda m: node(m, "MatMul_44").input.__setitem__(0, "51"))
    c.model("TFC_2W2A", "rewired=quant_scale_to_weight", lambda m: node(m, "Quant_25").input.__setitem__(1, "53"))
    c.model("TFC_2W2A", "rewired=missing_tensor", lambda m: node(m, "BatchNormalization_33").input.__setitem__(0, "nope"))
    c.model("TFC_2W2A", "rewired=quant_reads_own_output", lambda m: node(m, "Quant_25").input.__setitem__(0, "51"))
    c.model("TFC_2W2A", "cycle=two_layers", lambda m: node(m, "MatMul_32").input.__setitem__(0, "63"))
    c.model("TFC_2W2A", "rewired=add_reads_quant", lambda m: node(m, "Add_62").input.__setitem__(1, "75"))
    c.model("conv_net", "rewired=conv_reads_raw_input", lambda m: node(m, "Conv_1").input.__setitem__(0, "x"))
    c.model("conv_net", "rewired=matmul_reads_pool", lambda m: node(m, "MatMul_1").input.__setitem__(0, "p1"))

    def dup_name(m):
        node(m, "MatMul_32").name = "MatMul_20"

    c.model("TFC_2W2A", "duplicate_node_name", dup_name)
    c.model("TFC_2W2A", "empty_node_names", lambda m: [setattr(n, "name", "") for n in m.graph.node])
    c.model("TFC_2W2A", "duplicate_output", lambda m: node(m, "MatMul_32").output.__setitem__(0, "46"))
    c.model("TFC_2W2A", "output=intermediate", lambda m: setattr(m.graph.output[0], "name", "63"))
    c.model("TFC_2W2A", "output=missing_tensor", lambda m: setattr(m.graph.output[0], "name", "nope"))
    c.model("TFC_2W2A", "two_outputs", lambda m: m.graph.output.append(
        helper.make_tensor_value_info("63", TensorProto.FLOAT, [1, 64])))
    c.model("TFC_2W2A", "no_outputs", lambda m: m.graph.ClearField("output"))
    c.model("TFC_2W2A", "extra_graph_input", lambda m: m.graph.input.append(
        helper.make_tensor_value_info("extra", TensorProto.FLOAT, [1, 4])))

    def reverse_nodes(m):
        nodes = list(m.graph.node)[::-1]
        m.graph.ClearField("node")
        m.graph.node.extend(nodes)

    c.model("TFC_2W2A", "nodes_reversed", reverse_nodes)  # not topologically sorted

    def shuffled(m):
        nodes = list(m.graph.node)
        random.Random(SEED).shuffle(nodes)
        m.graph.ClearField("node")
        m.graph.node.extend(nodes)

    c.model("conv_net", "nodes_shuffled", shuffled)
    c.model("TFC_2W2A", "duplicate_initializer", lambda m: m.graph.initializer.append(
        numpy_helper.from_array(np.float32(3.0), "49")))
    c.model("TFC_2W2A", "unused_initializer", lambda m: add_init(m, "unused", np.ones((4, 4))))
    c.model("TFC_2W2A", "no_nodes_but_inits", lambda m: m.graph.ClearField("node"))
    c.model("TFC_2W2A", "no_inputs", lambda m: m.graph.ClearField("input"))

    for version in (7, 11, 13, 18, 99):
        def opset(m, version=version):
            for o in m.opset_import:
                if o.domain in ("", "ai.onnx"):
                    o.version = version

        c.model("TFC_2W2A", f"opset={version}", opset)
    c.model("TFC_2W2A", "ir_version=99", lambda m: setattr(m, "ir_version", 99))
    c.model("TFC_2W2A", "ir_version=0", lambda m: setattr(m, "ir_version", 0))
    c.model("TFC_2W2A", "no_opset_import", lambda m: m.ClearField("opset_import"))
    c.model("trunc_pool", "qonnx_opset=1", lambda m: [setattr(o, "version", 1) for o in m.opset_import
                                                      if o.domain == QONNX_DOMAIN])
    c.model("gemm_mlp", "qonnx_domain=unknown", lambda m: [setattr(n, "domain", "com.example") for n in m.graph.node
                                                           if n.op_type == "Quant"])
    c.model("TFC_1W2A", "Relu_inserted_unsupported_op", lambda m: setattr(node(m, "BatchNormalization_19"), "op_type",
                                                                          "LayerNormalization"))


def _mutate_bytes(c: _Collector) -> None:
    """Damaged files: truncated, flipped bytes, empty, directories, other formats."""
    rng = random.Random(SEED)
    for base in ("TFC_1W1A", "TFC_2W2A"):
        size = len(base_bytes(base))
        for frac in (0.0005, 0.1, 0.5, 0.9, 0.999):
            cut = max(1, int(size * frac))
            c.raw(base, f"truncated_at_{cut}", lambda b, cut=cut: b[:cut])
        for k in range(6):
            where = rng.randrange(size)
            bit = rng.randrange(8)

            def flip(b, where=where, bit=bit):
                a = bytearray(b)
                a[where] ^= 1 << bit
                return bytes(a)

            c.raw(base, f"bitflip_{k}_at_{where}", flip)
    for base in SMALL:
        size = len(base_bytes(base))
        for k in range(3):  # small graphs: flips mostly hit structure (names, attributes, dims)
            where = rng.randrange(size)

            def flip_byte(b, where=where, value=rng.randrange(256)):
                a = bytearray(b)
                a[where] = value if value != a[where] else (value + 1) % 256
                return bytes(a)

            c.raw(base, f"byte_{k}_at_{where}", flip_byte)
        c.raw(base, "truncated_half", lambda b: b[: len(b) // 2])
    c.raw("TFC_2W2A", "empty_file", lambda b: b"")
    c.raw("TFC_2W2A", "zeros_4k", lambda b: bytes(4096))
    c.raw("TFC_2W2A", "random_bytes", lambda b: random.Random(SEED).randbytes(10000))
    c.raw("TFC_2W2A", "gzipped", lambda b: gzip.compress(b, mtime=0))
    c.raw("TFC_2W2A", "json_text", lambda b: b'{"model": "TFC_2W2A", "layers": [784, 64, 64, 64, 10]}\n')
    c.raw("TFC_2W2A", "appended_garbage", lambda b: b + b"\x00\xff" * 64)
    c.raw("TFC_2W2A", "duplicated", lambda b: b + b)  # protobuf merges: a doubled graph
    c.raw("TFC_2W2A", "text_proto", lambda b: str(onnx.load_from_string(b).graph.node[:3]).encode())

    def directory(folder: Path) -> Path:
        path = folder / "TFC_2W2A.onnx"
        path.mkdir(exist_ok=True)
        return path

    def dangling_symlink(folder: Path) -> Path:
        path = folder / "link.onnx"
        if not path.is_symlink():
            path.symlink_to(folder / "gone.onnx")
        return path

    def unreadable(folder: Path) -> Path:
        path = folder / "TFC_2W2A.onnx"
        path.write_bytes(base_bytes("TFC_2W2A"))
        path.chmod(0)
        return path

    def odd_name(folder: Path) -> Path:
        path = folder / "my model (copy) é.onnx"  # a valid model with spaces and unicode in its name
        path.write_bytes(base_bytes("gemm_mlp"))
        return path

    c.path("TFC_2W2A", "directory", directory)
    c.path("TFC_2W2A", "dangling_symlink", dangling_symlink)
    c.path("TFC_2W2A", "unreadable", unreadable)
    c.path("gemm_mlp", "odd_file_name", odd_name)


def all_mutants() -> list[Mutant]:
    """Every mutant, in a fixed order (unique names)."""
    c = _Collector()
    _mutate_quant_params(c)
    _mutate_quant_attrs(c)
    _mutate_bipolar(c)
    _mutate_multithreshold(c)
    _mutate_trunc(c)
    _mutate_layer_attrs(c)
    _mutate_shapes(c)
    _mutate_graph(c)
    _mutate_bytes(c)
    return c.items


def write_all(folder: Path) -> list[tuple[str, Path]]:
    """Write every mutant under ``folder/<name>/`` and return (name, model path) pairs."""
    return [(m.name, m.write(Path(folder) / m.name)) for m in all_mutants()]
