"""The accelerator's host-side float edges in plain numpy (no onnx, onnxruntime or qonnx needed).

A board image has numpy but rarely onnxruntime, so the driver runs the float nodes before the
first quantizer (input quantization) and after the last integer layer (output scaling, an
unquantized last layer, a softmax/argmax tail) itself. Each op follows the ONNX operator
definition (and qonnx's custom quantizers) in float32, in the reference's operation order.

How close that is to the reference (onnxruntime), per op:

- exact, bit for bit: element-wise arithmetic (Add, Sub, Mul, Div, Neg, Abs, Sqrt, Relu, Clip,
  Max, Min), the quantizers, MultiThreshold, ReduceMax/ReduceMin, Cast, the shape ops, and the
  index ops ArgMax/ArgMin/TopK/Hardmax (ties resolved as ONNX says: the first index of the max
  unless ``select_last_index=1``; TopK orders equal values by lower index). TopK with
  ``sorted=0`` returns its k elements sorted, where onnxruntime's order is unspecified.
- within :data:`TOLERANCE` (``numpy.testing.assert_allclose`` arguments): the transcendental ops,
  because onnxruntime uses its own vectorized approximations of exp/tanh/logistic (a few float32
  ulps apart from numpy's; its Sigmoid flushes to 0 below about -16, hence an absolute term), and
  the ops that sum (ReduceSum, ReduceMean, MatMul, Gemm, BatchNormalization,
  GlobalAveragePool), because they add in another order.

Softmax, LogSoftmax and Hardmax depend on the opset (before 13 the input is coerced to 2-D at
``axis``, default 1; from 13 on they work along ``axis``, default -1): each node description
carries the ``opset`` the reference runs it with.
"""

from __future__ import annotations

from functools import reduce

import numpy as np

#: op type -> ``numpy.testing.assert_allclose`` keyword arguments for ops that are not bit-exact
#: against onnxruntime (measured on normal(0, 3)-sized inputs with a margin); all others are exact.
TOLERANCE = {
    "Exp": {"rtol": 1e-6}, "Tanh": {"rtol": 1e-6}, "Softplus": {"rtol": 1e-6}, "Log": {"rtol": 1e-6},
    "Sigmoid": {"rtol": 1e-6, "atol": 2e-7},
    "Softmax": {"rtol": 2e-6, "atol": 1e-7},
    "LogSoftmax": {"rtol": 1e-6, "atol": 1e-5},
    "ReduceSum": {"rtol": 1e-5, "atol": 1e-6}, "ReduceMean": {"rtol": 1e-5, "atol": 1e-6},
    "MatMul": {"rtol": 1e-5, "atol": 1e-6}, "Gemm": {"rtol": 1e-5, "atol": 1e-6},
    "BatchNormalization": {"rtol": 1e-5, "atol": 1e-6}, "GlobalAveragePool": {"rtol": 1e-5, "atol": 1e-6},
}

#: Ops that only reshape: the output takes its recorded shape with the batch size in front.
SHAPE_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze"})

#: Ops whose semantics depend on the node's opset (passed to them as ``opset``).
OPSET_DEPENDENT = frozenset({"Softmax", "LogSoftmax", "Hardmax"})

#: Opset assumed for a node description without one (design files from before opsets were recorded).
DEFAULT_OPSET = 13

#: ONNX TensorProto elem type -> numpy dtype, for Cast.
ONNX_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32, 7: np.int64,
               9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}


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


# -- axis ops ----------------------------------------------------------------------------
def _along_axis(fn, x, axis, opset):
    """Apply the row function ``fn(x, axis)`` with the opset's Softmax-family axis semantics."""
    if opset >= 13:
        return fn(x, (-1 if axis is None else axis) % x.ndim)
    axis = (1 if axis is None else axis) % x.ndim  # coerced to 2-D: [prod(dims[:axis]), prod(dims[axis:])]
    rows = int(np.prod(x.shape[:axis], dtype=np.int64))
    return fn(x.reshape(rows, -1), 1).reshape(x.shape)


def _softmax_rows(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_rows(x, axis):
    d = x - np.max(x, axis=axis, keepdims=True)
    return d - np.log(np.sum(np.exp(d), axis=axis, keepdims=True))


def _hardmax_rows(x, axis):
    first = np.expand_dims(np.argmax(x, axis=axis), axis)
    out = np.zeros_like(x)
    np.put_along_axis(out, first, 1, axis=axis)
    return out


def _softmax(x, axis=None, opset=DEFAULT_OPSET):
    return _along_axis(_softmax_rows, x, axis, opset)


def _log_softmax(x, axis=None, opset=DEFAULT_OPSET):
    return _along_axis(_log_softmax_rows, x, axis, opset)


def _hardmax(x, axis=None, opset=DEFAULT_OPSET):
    return _along_axis(_hardmax_rows, x, axis, opset)


def _arg_extreme(pick):
    """ArgMax/ArgMin: the first index of the extreme, or the last with ``select_last_index``."""
    def op(x, axis=0, keepdims=1, select_last_index=0):
        axis %= x.ndim
        if select_last_index:
            idx = x.shape[axis] - 1 - pick(np.flip(x, axis=axis), axis=axis)
        else:
            idx = pick(x, axis=axis)
        idx = idx.astype(np.int64)
        return np.expand_dims(idx, axis) if keepdims else idx
    return op


def _topk(x, k, axis=-1, largest=1, sorted=1):  # noqa: A002 - the ONNX attribute name
    """TopK values and int64 indices; equal values keep the lower index first (stable sort)."""
    axis %= x.ndim
    order = np.argsort(-x if largest else x, axis=axis, kind="stable")
    idx = np.take(order, np.arange(int(np.asarray(k).reshape(-1)[0])), axis=axis)
    return np.take_along_axis(x, idx, axis=axis), idx.astype(np.int64)


def _reduce(fn):
    """A Reduce* op: ``axes`` as attribute (older opsets) or as a constant second input."""
    def op(x, axes_input=None, axes=None, keepdims=1, noop_with_empty_axes=0):
        if axes_input is not None:
            axes = np.asarray(axes_input).reshape(-1).tolist()
        if not axes:
            if noop_with_empty_axes:
                return x
            axes = range(x.ndim)
        return fn(x, axis=tuple(int(a) % x.ndim for a in axes), keepdims=bool(keepdims))
    return op


# -- element-wise ops --------------------------------------------------------------------
def _sigmoid(x):
    e = np.exp(-np.abs(x))  # no overflow for either sign
    one = np.ones((), dtype=x.dtype)
    return np.where(x >= 0, one / (one + e), e / (one + e))


def _clip(x, lo=None, hi=None, **attrs):
    """Clip: bounds as inputs (opset >= 11) or as ``min``/``max`` attributes (before)."""
    lo = attrs.get("min") if lo is None else lo
    hi = attrs.get("max") if hi is None else hi
    if lo is not None:
        x = np.maximum(x, np.asarray(lo, dtype=x.dtype))
    if hi is not None:
        x = np.minimum(x, np.asarray(hi, dtype=x.dtype))
    return x


def _cast(x, to, **_):
    return x.astype(ONNX_DTYPES[int(to)])


def _quantize_linear(x, scale, zero_point=None, axis=1, **_):
    """QuantizeLinear: saturate(round_half_even(x / scale) + zero point) in the zero point's type."""
    dtype = zero_point.dtype if zero_point is not None else np.dtype(np.uint8)
    if np.ndim(scale) == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale = scale.reshape(shape)
        zero_point = zero_point.reshape(shape) if zero_point is not None else None
    q = np.rint(x / scale) + (zero_point.astype(np.float32) if zero_point is not None else 0)
    info = np.iinfo(dtype)
    return np.clip(q, info.min, info.max).astype(dtype)


def _dequantize_linear(q, scale, zero_point=None, axis=1, **_):
    """DequantizeLinear: (q - zero point) * scale in float32."""
    if np.ndim(scale) == 1 and q.ndim > 1:
        shape = [1] * q.ndim
        shape[axis] = -1
        scale = scale.reshape(shape)
        zero_point = zero_point.reshape(shape) if zero_point is not None else None
    value = q.astype(np.int32) - (zero_point.astype(np.int32) if zero_point is not None else 0)
    return (value.astype(np.float32) * scale).astype(np.float32)


#: op type -> f(*inputs, **attributes), returning one array or a tuple (one per output).
#: The ops of :data:`SHAPE_OPS` are handled with the known shapes.
OPS = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
    "Neg": np.negative, "Abs": np.abs, "Sqrt": np.sqrt, "Exp": np.exp, "Log": np.log, "Tanh": np.tanh,
    "Relu": lambda x: np.maximum(x, np.zeros((), dtype=x.dtype)),
    "Sigmoid": _sigmoid,
    "Softplus": lambda x: np.logaddexp(x, np.zeros((), dtype=x.dtype)),
    "Clip": _clip,
    "Max": lambda *xs: reduce(np.maximum, xs), "Min": lambda *xs: reduce(np.minimum, xs),
    "Cast": _cast,
    "Identity": lambda x: x,
    "Quant": _quant, "IntQuant": _quant,
    "BipolarQuant": lambda x, scale: np.where(x >= 0, 1.0, -1.0).astype(x.dtype) * scale,
    "MultiThreshold": _multithreshold,
    "Transpose": lambda x, perm=None: np.transpose(x, perm),
    "MatMul": np.matmul,
    "Gemm": _gemm,
    "BatchNormalization": _batchnorm,
    "GlobalAveragePool": lambda x: np.mean(x, axis=tuple(range(2, x.ndim)), keepdims=True, dtype=np.float32),
    "ReduceMean": _reduce(lambda x, **kw: np.mean(x, dtype=x.dtype, **kw)),
    "ReduceSum": _reduce(lambda x, **kw: np.sum(x, dtype=x.dtype, **kw)),
    "ReduceMax": _reduce(np.max), "ReduceMin": _reduce(np.min),
    "Softmax": _softmax, "LogSoftmax": _log_softmax, "Hardmax": _hardmax,
    "ArgMax": _arg_extreme(np.argmax), "ArgMin": _arg_extreme(np.argmin),
    "TopK": _topk,
    "QuantizeLinear": _quantize_linear, "DequantizeLinear": _dequantize_linear,
}


def supported_ops() -> frozenset:
    """Every op type the numpy host edges can run."""
    return frozenset(OPS) | SHAPE_OPS


def _keep_float_type(value, args, op: str) -> np.ndarray:
    """ONNX ops (except Cast) return their float inputs' type: undo numpy's promotions."""
    value = np.asarray(value)
    if op != "Cast" and value.dtype.kind == "f":
        floats = [a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        if floats and value.dtype != floats[0]:
            value = value.astype(floats[0])
    return value


class HostGraph:
    """A chain of float nodes from one input tensor to one output tensor, batch first.

    ``nodes``: dicts with ``op``, ``inputs``, ``outputs``, ``attrs`` and ``opset`` (the version the
    reference runs the node with; :data:`DEFAULT_OPSET` if absent); ``constants``: name -> array;
    ``shapes``: tensor name -> shape with a leading batch of 1 (what the shape ops keep).
    """

    def __init__(self, nodes: list[dict], constants: dict, shapes: dict, input_name: str, output_name: str):
        unknown = sorted({n["op"] for n in nodes} - supported_ops())
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
            ctx.update(self._run(node, ctx))
        return ctx[self.output_name]

    def _run(self, node: dict, ctx: dict) -> dict:
        """The outputs of ``node`` (name -> array) from the tensors in ``ctx``."""
        op, outputs = node["op"], [o for o in node["outputs"] if o]
        args = [ctx[name] if name else None for name in node["inputs"]]
        if op in SHAPE_OPS:
            data = args[0]
            if op == "Flatten":
                return {outputs[0]: data.reshape(len(data), -1)}
            return {outputs[0]: data.reshape([len(data)] + list(self.shapes[outputs[0]][1:]))}
        attrs = dict(node["attrs"])
        if op in OPSET_DEPENDENT:
            attrs["opset"] = int(node.get("opset", DEFAULT_OPSET))
        while args and args[-1] is None:  # trailing optional inputs left out
            args.pop()
        with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
            result = OPS[op](*args, **attrs)  # IEEE results (inf, nan) without warnings, as in ONNX
        values = result if isinstance(result, tuple) else (result,)
        return {name: _keep_float_type(v, args, op) for name, v in zip(node["outputs"], values) if name}


def input_codes(values: np.ndarray, scale: float) -> np.ndarray:
    """The first quantizer's float output -> the integer codes streamed in, (N, elems) int32.

    Feature maps stream pixel by pixel (NHWC); a 1-D map (N, C, L) streams as the (N, C, L, 1)
    map it is in hardware. The quantizer's output is code * scale rounded once to float32, so
    dividing back and rounding recovers the code exactly.
    """
    if values.ndim == 3:
        values = values[..., None]
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
