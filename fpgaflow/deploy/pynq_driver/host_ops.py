"""The accelerator's host-side float edges in plain numpy (no onnx, onnxruntime or qonnx needed).

A board image has numpy but rarely onnxruntime, so the driver runs the float nodes before the
first quantizer (input quantization) and after the last integer layer (output scaling, an
unquantized last layer) itself. Each op follows the ONNX operator (and qonnx's custom quantizers)
in float32, in the reference's operation order: element-wise ops and quantizers give the
reference's results to the bit; MatMul, Gemm and BatchNormalization sum or fuse in their own order
and agree to float32 rounding.
"""

from __future__ import annotations

import numpy as np


def _quant(x, scale, zeropt, bitwidth, signed=1, narrow=0, rounding_mode="ROUND"):
    y = x / scale + zeropt
    bits = int(bitwidth)
    if bits == 1 and signed:
        return (np.where(y >= 0, 1.0, -1.0).astype(y.dtype) - zeropt) * scale
    lo = -(2 ** (bits - 1)) + (1 if narrow else 0) if signed else 0
    hi = 2 ** (bits - 1) - 1 if signed else 2 ** bits - 1 - (1 if narrow else 0)
    y = np.clip(y, np.asarray(lo, dtype=y.dtype), np.asarray(hi, dtype=y.dtype))
    return (_ROUNDING[str(rounding_mode).upper()](y) - zeropt) * scale


_ROUNDING = {
    "ROUND": np.round, "HALF_EVEN": np.round, "CEIL": np.ceil, "FLOOR": np.floor, "DOWN": np.fix,
    "UP": lambda v: np.sign(v) * np.ceil(np.abs(v)),
    "HALF_UP": lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5),
    "HALF_DOWN": lambda v: np.sign(v) * np.ceil(np.abs(v) - 0.5),
}


def _multithreshold(x, thresholds, out_scale=1.0, out_bias=0.0, data_layout="", **_):
    if not data_layout:
        data_layout = {2: "NC", 3: "NWC", 4: "NCHW"}.get(x.ndim, "")
    cdim = data_layout.index("C") if "C" in data_layout else 1
    v = np.moveaxis(x, cdim, -1)
    count = np.count_nonzero(v[..., None] >= thresholds, axis=-1).astype(x.dtype)
    return out_scale * np.moveaxis(count, -1, cdim) + out_bias


def _gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    a = a.T if transA else a
    b = b.T if transB else b
    y = np.float32(alpha) * (a @ b) if alpha != 1.0 else a @ b
    return y if c is None else y + (np.float32(beta) * c if beta != 1.0 else c)


def _batchnorm(x, scale, bias, mean, var, epsilon=1e-5, **_):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    inv = (scale / np.sqrt(var + np.float32(epsilon))).reshape(shape)
    return (x - mean.reshape(shape)) * inv + bias.reshape(shape)


def _reduce_mean(x, axes=None, keepdims=1, **_):
    return np.mean(x, axis=tuple(axes) if axes is not None else None, keepdims=bool(keepdims), dtype=np.float32)


#: op type -> f(*inputs, **attributes). Reshape and Flatten are handled with the known shapes.
OPS = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
    "Relu": lambda x: np.maximum(x, np.float32(0)),
    "Identity": lambda x: x,
    "Quant": _quant, "IntQuant": _quant,
    "BipolarQuant": lambda x, scale: np.where(x >= 0, 1.0, -1.0).astype(x.dtype) * scale,
    "MultiThreshold": _multithreshold,
    "Transpose": lambda x, perm=None: np.transpose(x, perm),
    "MatMul": np.matmul,
    "Gemm": _gemm,
    "BatchNormalization": _batchnorm,
    "GlobalAveragePool": lambda x: np.mean(x, axis=tuple(range(2, x.ndim)), keepdims=True, dtype=np.float32),
    "ReduceMean": _reduce_mean,
}


class HostGraph:
    """A chain of float nodes from one input tensor to one output tensor, batch first.

    ``nodes``: dicts with ``op``, ``inputs``, ``outputs``, ``attrs``; ``constants``: name -> array;
    ``shapes``: tensor name -> shape with a leading batch of 1 (what Reshape keeps of its target).
    """

    def __init__(self, nodes: list[dict], constants: dict, shapes: dict, input_name: str, output_name: str):
        unknown = sorted({n["op"] for n in nodes} - set(OPS) - {"Reshape", "Flatten"})
        if unknown:
            raise NotImplementedError(f"the numpy host edges cannot run {', '.join(unknown)}")
        self.nodes = nodes
        self.constants = {k: np.asarray(v) for k, v in constants.items()}
        self.shapes = shapes
        self.input_name = input_name
        self.output_name = output_name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Evaluate the chain on the float batch ``x``."""
        ctx = dict(self.constants)
        ctx[self.input_name] = np.ascontiguousarray(x, dtype=np.float32)
        for node in self.nodes:
            args = [ctx[name] if name else None for name in node["inputs"]]
            out = node["outputs"][0]
            if node["op"] == "Reshape":
                ctx[out] = args[0].reshape([len(args[0])] + list(self.shapes[out][1:]))
            elif node["op"] == "Flatten":
                ctx[out] = args[0].reshape(len(args[0]), -1)
            else:
                ctx[out] = np.asarray(OPS[node["op"]](*args, **node["attrs"]), dtype=np.float32)
        return ctx[self.output_name]


def input_codes(values: np.ndarray, scale: float) -> np.ndarray:
    """The first quantizer's float output -> the integer codes streamed in, (N, elems) int32.

    Feature maps stream pixel by pixel (NHWC). The quantizer's output is code * scale rounded
    once to float32, so dividing back and rounding recovers the code exactly.
    """
    if values.ndim == 4:
        values = values.transpose(0, 2, 3, 1)
    values = values.reshape(len(values), -1)
    return np.rint(values / np.float32(scale)).astype(np.int32)


def reference_layout(ints: np.ndarray, chw) -> np.ndarray:
    """The accelerator's (N, elems) outputs in the model's layout: a feature map (``chw``) goes
    back from NHWC to NCHW; anything else stays as it is."""
    if chw is None:
        return ints
    c, h, w = chw
    return ints.reshape(len(ints), h, w, c).transpose(0, 3, 1, 2)


def output_values(ints: np.ndarray, value_scale: np.ndarray, offset, chw) -> np.ndarray:
    """The accelerator's integer outputs -> the float tensor the host's remaining nodes take.

    ``offset`` is added first (constants of removed neurons), then :func:`reference_layout`;
    ``value_scale`` (per channel) is applied and rounded once to float32.
    """
    ints = reference_layout(np.asarray(ints) + offset, chw)
    value_scale = np.asarray(value_scale)
    scale = value_scale.reshape((-1,) + (1,) * (ints.ndim - 2)) if ints.ndim > 2 else value_scale
    return (ints.astype(np.float64) * scale).astype(np.float32)
