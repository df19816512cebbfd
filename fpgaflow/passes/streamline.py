"""Streamline a cleaned QONNX network into integer layer kits between two host-side float edges.

The host runs the reference's float ops up to the first activation quantizer (input edge) and
after the last layer's quantizer (output edge). In between, every tensor on the accelerator is
a stream of integer codes with a known scale:
- a MatMul or Conv becomes a matrix-vector unit (after a sliding-window generator for a Conv)
  whose following float ops (bias, BatchNorm, scaling, ReLU, the next quantizer) become exact
  per-channel thresholds;
- a quantizer reading a quantized tensor becomes a standalone thresholding layer (or nothing,
  when it keeps every code);
- max pooling runs on the codes; average pooling sums the codes and keeps the division in the
  scale; a residual Add aligns the two scales by a shift and adds; Concat joins channels;
- a tensor read by two layers is duplicated.
Weight quantizers are evaluated at compile time into integer codes and per-channel scales.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from fpgaflow.errors import UserError
from fpgaflow.frontend.float_exec import FloatGraph
from fpgaflow.frontend.load import ELEMENTWISE, QUANTIZERS
from fpgaflow.ir import IN_STREAM, OUT_STREAM, HardwareGraph, HostInput, HostOutput, IntSpec
from fpgaflow.layers.add import AddStreams
from fpgaflow.layers.concat import ConcatStreams
from fpgaflow.layers.duplicate import Duplicate
from fpgaflow.layers.mvau import MatrixVectorUnit, accumulator_bounds
from fpgaflow.layers.pool import Pool
from fpgaflow.layers.sliding_window import SlidingWindow
from fpgaflow.layers.thresholding import Thresholding
from fpgaflow.layers.vector_unit import VectorUnit
from fpgaflow.passes.input_edge import input_edge, static_tensors
from fpgaflow.passes.quant_params import (
    activation_source,
    c_identifier,
    constant,
    int_list,
    node_attr,
    node_window,
    weight_codes,
)
from fpgaflow.passes.thresholds import ActivationChain, derive_thresholds

log = logging.getLogger(__name__)

COMPUTE = ("MatMul", "Conv")
AVERAGE_POOLS = ("AveragePool", "GlobalAveragePool", "ReduceMean")
_EW = set(ELEMENTWISE) | set(QUANTIZERS)
_EXACT_FLOAT_BITS = 24  # integers up to 2**24 times a power of two are exact in float32


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


def _is_pow2(x: float) -> bool:
    return x > 0 and math.frexp(x)[0] == 0.5


def _map_graph(model, nodes, src, dst) -> FloatGraph:
    """A float chain over (1, C, H, W) maps, evaluated per channel on (K, C, 1, 1) inputs."""
    graph = FloatGraph.from_model(model, nodes, src, dst)
    for name, shape in graph.shapes.items():
        if len(shape) == 4:
            graph.shapes[name] = [1, shape[1], 1, 1]
    return graph


class _Builder:
    """Walks the dynamic nodes in topological order and emits layer kits with their streams."""

    def __init__(self, model: ModelWrapper, static: set[str], stop: set[str]):
        self.model = model
        self.static = static
        self.stop = stop  # names of nodes that belong to the host output edge
        self.layers: list = []
        self.tensors: dict[str, QTensor] = {}
        self.done: set[str] = set()
        self.last_compute = ""

    # -- helpers --------------------------------------------------------------------------
    def dynamic_inputs(self, node) -> list[str]:
        return [i for i in node.input if i and i not in self.static]

    def consumers(self, tensor: str) -> list:
        return self.model.find_consumers(tensor) or []

    def layer_name(self, node, suffix: str = "") -> str:
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
        tensor = tensor or self.dynamic_inputs(node)[0]
        t = self.tensors.get(tensor)
        if t is None:  # not produced on the accelerator: explain through the quantizer walk
            activation_source(self.model, tensor, f"{node.name} ({node.op_type})")
            raise UserError(f"node {node.name} ({node.op_type}): its input '{tensor}' is not on the accelerator")
        if t.pad is not None and node.op_type not in ("Conv", "MaxPool", "AveragePool"):
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
            if node.name in self.stop or node.op_type not in _EW or len(self.dynamic_inputs(node)) != 1:
                return chain
            chain.append(node)
            t = node.output[0]

    def thresholds(self, ew, src: str, value_scale, acc_lo, acc_hi, where: str):
        """Thresholds for the float chain ``ew`` (ending in a quantizer) read from ``src``."""
        quant_out = ew[-1].output[0]
        out_scale, out_spec, qnode = activation_source(self.model, quant_out, where)
        act = ActivationChain(_map_graph(self.model, ew, src, quant_out), value_scale, out_scale, out_spec,
                              where=f"{where} -> {qnode.name}")
        table, negate = derive_thresholds(act, acc_lo, acc_hi)
        for n in ew:
            self.done.add(n.name)
        return table, negate, quant_out, out_scale

    # -- node kinds ----------------------------------------------------------------------
    def visit(self, node) -> None:
        op = node.op_type
        dyn = self.dynamic_inputs(node)
        if op in COMPUTE:
            self.compute(node)
        elif op == "Add" and len(dyn) == 2:
            self.residual_add(node)
        elif op == "Concat":
            self.concat(node)
        elif op in ("Reshape", "Flatten", "Identity"):
            t = self.input_of(node)
            self.tensors[node.output[0]] = replace(t, shape=self.model.get_tensor_shape(node.output[0]))
        elif op == "Transpose":
            self.transpose(node)
        elif op == "Pad":
            self.pad(node)
        elif op == "MaxPool":
            self.max_pool(node)
        elif op in AVERAGE_POOLS:
            self.average_pool(node)
        elif op == "Mul" and self.positive_scalar(node) is not None:
            t = self.input_of(node)
            self.tensors[node.output[0]] = replace(t, scale=t.scale * self.positive_scalar(node))
        elif op in _EW:
            self.requantize(node)
        else:
            raise UserError(f"node {node.name} ({op}): not supported between quantized layers")
        self.done.add(node.name)

    def positive_scalar(self, node) -> float | None:
        const = [np.asarray(constant(self.model, i)) for i in node.input if constant(self.model, i) is not None]
        if len(const) == 1 and const[0].size == 1 and float(const[0].ravel()[0]) > 0:
            return float(const[0].ravel()[0])
        return None

    def compute(self, node) -> None:
        t = self.input_of(node)
        _check_compute_input(self.model, node)
        lname = self.layer_name(node)
        x_scale = float(np.asarray(t.scale).ravel()[0]) if np.ndim(t.scale) else t.scale
        if np.ndim(t.scale) and not np.all(np.asarray(t.scale) == x_scale):
            raise UserError(f"node {node.name} ({node.op_type}): its input has per-channel scales")
        stream = t.stream
        if node.op_type == "MatMul":
            weights, w_scale, w_spec = weight_codes(self.model, node, out_axis=1)
            if weights.shape[0] != self.model.get_tensor_shape(node.input[0])[1]:
                raise UserError(f"node {node.name} (MatMul): weight rows {weights.shape[0]} do not match the "
                                "input size")
            perm = self.flatten_permutation(node.input[0])
            if perm is not None:
                weights = weights[perm]
            vectors = 1
        else:
            weights, w_scale, w_spec, vectors, window_layer = self.conv_weights(node, lname, t)
            if window_layer.window.kernel != (1, 1) or window_layer.window.stride != (1, 1) \
                    or any(window_layer.window.pads) or vectors < 0:
                stream = self.add(window_layer, [stream])  # a pointwise conv reads the map as it streams
        value_scale = x_scale * w_scale
        ew = self.ew_chain(node.output[0])
        qpos = [i for i, n in enumerate(ew) if n.op_type in QUANTIZERS]
        table = None
        if qpos:
            acc_lo, acc_hi = accumulator_bounds(weights, t.spec)
            table, negate, quant_out, out_scale = self.thresholds(ew[:qpos[-1] + 1], node.output[0], value_scale,
                                                                  acc_lo, acc_hi, f"node {node.name}")
            weights = weights * np.where(negate, -1, 1)[None, :]
            log.info("%s: %d thresholds per channel, %d channels negated", lname, table.count, int(negate.sum()))
        if vectors < 0:
            layer = VectorUnit(lname, weights, t.spec, w_spec, -vectors, table)
        else:
            layer = MatrixVectorUnit(lname, weights, t.spec, w_spec, table, vectors=vectors)
        stream = self.add(layer, [stream])
        if qpos:
            self.tensors[quant_out] = QTensor(stream, out_scale, layer.out_spec, self.model.get_tensor_shape(quant_out))
        elif node.name != self.last_compute:
            raise UserError(f"node {node.name} ({node.op_type}): its output is not quantized before the next layer; "
                            "put an activation quantizer (e.g. Brevitas QuantReLU or QuantIdentity) after it")
        else:  # the network's last layer, read by the host
            self.tensors[node.output[0]] = QTensor(stream, value_scale, layer.out_spec,
                                                   self.model.get_tensor_shape(node.output[0]))

    def conv_weights(self, node, lname, t: QTensor):
        """Weights (window elements x channels) and the vectors per frame of a Conv (negative: the
        pixels of a depthwise Conv, whose weights are (window positions, channels)), and its
        sliding-window generator."""
        model = self.model
        group = int(node_attr(node, "group", 1) or 1)
        cin = model.get_tensor_shape(node.input[0])[1]
        cout = model.get_tensor_shape(node.output[0])[1]
        depthwise = group > 1 and group == cin == cout
        if group != 1 and not depthwise:
            raise UserError(f"node {node.name} (Conv): grouped convolution (group={group}, {cin} -> {cout} "
                            "channels) is not supported; use group=1 or depthwise (group = in = out channels)")
        window = self.window(node, "convolution", t)
        if any(window.pads) and (t.spec.bipolar or not t.spec.lo <= 0 <= t.spec.hi):
            raise UserError(f"node {node.name} (Conv): zero padding needs inputs that can be 0, but they are "
                            f"{'bipolar' if t.spec.bipolar else f'in [{t.spec.lo}, {t.spec.hi}]'}")
        if t.pad is not None and t.pad[4] != 0:
            raise UserError(f"node {node.name} (Conv): the Pad before it pads with a non-zero value")
        codes, w_scale, w_spec = weight_codes(model, node, out_axis=0)
        cout, cin_g, kh, kw = codes.shape
        swg = SlidingWindow(f"{lname}_window", t.spec, window, pad_code=0)
        if depthwise:  # (C, 1, KH, KW) -> (window position, channel)
            return codes.transpose(2, 3, 1, 0).reshape(kh * kw, cout), w_scale, w_spec, -window.pixels, swg
        return codes.transpose(2, 3, 1, 0).reshape(kh * kw * cin_g, cout), w_scale, w_spec, window.pixels, swg

    def window(self, node, kind: str, t: QTensor):
        if t.pad is None:
            return node_window(self.model, node, kind)
        return node_window(self.model, node, kind, in_shape=t.shape, extra_pads=t.pad[:4])

    def flatten_permutation(self, tensor: str) -> np.ndarray | None:
        """Row order for a dense layer whose input is an NCHW map flattened on the accelerator (NHWC)."""
        t = tensor
        while True:
            prod = self.model.find_producer(t)
            if prod is None or prod.op_type not in ("Reshape", "Flatten", "Identity", "Mul", "Transpose"):
                return None
            src = self.dynamic_inputs(prod)[0]
            shape = self.model.get_tensor_shape(src)
            if prod.op_type == "Transpose" or getattr(self.model.find_producer(src), "op_type", "") == "Transpose":
                return None  # flattened after an NCHW -> NHWC transpose: already in stream order
            if shape is not None and len(shape) == 4 and src in self.tensors:
                _, c, h, w = shape
                return np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()
            t = src

    def transpose(self, node) -> None:
        t = self.input_of(node)
        perm = int_list(node, "perm", [])
        if len(t.shape) != 4 or perm != [0, 2, 3, 1]:
            raise UserError(f"node {node.name} (Transpose): only NCHW -> NHWC (perm [0, 2, 3, 1]) before a "
                            f"flatten is supported on the accelerator, not perm {perm}")
        readers = self.consumers(node.output[0])
        if not all(r.op_type in ("Reshape", "Flatten") for r in readers):
            raise UserError(f"node {node.name} (Transpose): must be followed by Reshape/Flatten to a vector")
        self.tensors[node.output[0]] = replace(t, shape=self.model.get_tensor_shape(node.output[0]))

    def pad(self, node) -> None:
        t = self.input_of(node)
        mode = node_attr(node, "mode", "constant") or "constant"
        pads = node_attr(node, "pads") or (constant(self.model, node.input[1]) if len(node.input) > 1 else None)
        if mode != "constant" or pads is None or len(t.shape) != 4:
            raise UserError(f"node {node.name} (Pad): only constant padding of an NCHW map with constant pads "
                            "is supported")
        pads = [int(p) for p in np.asarray(pads).ravel()]
        if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)) or min(pads) < 0:
            raise UserError(f"node {node.name} (Pad): pads {pads}: only non-negative padding of H and W is supported")
        value_in = node.input[2] if len(node.input) > 2 and node.input[2] else None
        value = float(np.asarray(constant(self.model, value_in)).ravel()[0]) if value_in else 0.0
        code = value / t.scale
        if code != int(code) or not t.spec.lo <= code <= t.spec.hi or t.spec.bipolar:
            raise UserError(f"node {node.name} (Pad): pad value {value} is not a code of its input quantizer")
        if t.pad is not None:
            raise UserError(f"node {node.name} (Pad): two Pad nodes in a row are not supported")
        self.tensors[node.output[0]] = replace(t, pad=(pads[2], pads[3], pads[6], pads[7], int(code)))

    def max_pool(self, node) -> None:
        t = self.input_of(node)
        window = self.window(node, "pooling", t)
        lname = self.layer_name(node)
        own = int_list(node, "pads", [0, 0, 0, 0])
        pad = 0 if t.spec.bipolar else t.spec.lo  # the smallest code never wins a maximum
        if t.pad is not None:
            if any(own) and t.pad[4] != pad:
                raise UserError(f"node {node.name} (MaxPool): its own pads and the Pad before it pad differently")
            pad = t.pad[4]
        stream = self.add(SlidingWindow(f"{lname}_window", t.spec, window, pad_code=pad), [t.stream])
        stream = self.add(Pool(lname, t.spec, window.channels, window.kernel[0] * window.kernel[1], window.pixels),
                          [stream])
        self.tensors[node.output[0]] = QTensor(stream, t.scale, t.spec, self.model.get_tensor_shape(node.output[0]))

    def average_pool(self, node) -> None:
        """Sum pooling on the codes; the mean is the sum at scale/size, exact for power-of-two sizes."""
        t = self.input_of(node)
        model, op = self.model, node.op_type
        if len(t.shape) != 4:
            raise UserError(f"node {node.name} ({op}): needs an NCHW input")
        _, c, h, w = t.shape
        out_shape = model.get_tensor_shape(node.output[0])
        lname = self.layer_name(node)
        if op == "AveragePool":
            window = self.window(node, "pooling", t)
            if any(window.pads) and not node_attr(node, "count_include_pad", 0) and t.pad is None:
                raise UserError(f"node {node.name} (AveragePool): padding with count_include_pad=0 divides border "
                                "windows differently; use count_include_pad=1 or no padding")
            if t.pad is not None and t.pad[4] != 0:
                raise UserError(f"node {node.name} (AveragePool): the Pad before it pads with a non-zero value")
            size = window.kernel[0] * window.kernel[1]
            stream = self.add(SlidingWindow(f"{lname}_window", t.spec, window, pad_code=0), [t.stream])
            pool = Pool(lname, t.spec, c, size, window.pixels, mode="sum")
        else:
            axes = node_attr(node, "axes")
            if axes is None and len(node.input) > 1 and node.input[1]:
                axes = constant(model, node.input[1])
            if op == "ReduceMean" and sorted(int(a) % 4 for a in np.asarray(axes).ravel()) != [2, 3]:
                raise UserError(f"node {node.name} (ReduceMean): only the mean over H and W (axes [2, 3]) is "
                                "supported")
            size, stream = h * w, t.stream
            pool = Pool(lname, t.spec, c, size, 1, mode="sum")
        scale = float(t.scale) if not np.ndim(t.scale) else None
        if scale is None or not _is_pow2(scale) or not _is_pow2(size) or t.spec.bipolar:
            raise UserError(f"node {node.name} ({op}): an average over {size} values of scale {t.scale} is not "
                            "exact in integers; it needs a power-of-two window size and a power-of-two input "
                            "scale (e.g. Brevitas' Uint8ActPerTensorFixedPoint quantizer before it)")
        if max(abs(pool.out_spec.lo), abs(pool.out_spec.hi)) >= 1 << _EXACT_FLOAT_BITS:
            raise UserError(f"node {node.name} ({op}): the window sum exceeds float32's exact integers")
        stream = self.add(pool, [stream])
        self.tensors[node.output[0]] = QTensor(stream, scale / size, pool.out_spec, out_shape)

    def residual_add(self, node) -> None:
        a_name, b_name = self.dynamic_inputs(node)
        a, b = self.input_of(node, a_name), self.input_of(node, b_name)
        if list(a.shape) != list(b.shape):
            raise UserError(f"node {node.name} (Add): inputs of shapes {a.shape} and {b.shape}; broadcasting "
                            "is not supported")
        scales = [float(s) if not np.ndim(s) else None for s in (a.scale, b.scale)]
        if None in scales or not all(_is_pow2(s) for s in scales) or a.spec.bipolar or b.spec.bipolar:
            raise UserError(f"node {node.name} (Add): adding inputs of scales {a.scale} and {b.scale} is exact in "
                            "integers only for power-of-two scales; quantize both inputs with power-of-two scales "
                            "(e.g. one shared Brevitas QuantIdentity with Int8ActPerTensorFixedPoint)")
        fine = min(scales)
        shift_a, shift_b = (int(round(math.log2(s / fine))) for s in scales)
        layer = AddStreams(self.layer_name(node), a.spec, b.spec, shift_a, shift_b, int(np.prod(a.shape[1:])))
        if max(abs(layer.out_spec.lo), abs(layer.out_spec.hi)) >= 1 << _EXACT_FLOAT_BITS:
            raise UserError(f"node {node.name} (Add): the sum exceeds float32's exact integers")
        stream = self.add(layer, [a.stream, b.stream])
        self.tensors[node.output[0]] = QTensor(stream, fine, layer.out_spec, self.model.get_tensor_shape(node.output[0]))

    def concat(self, node) -> None:
        names = [i for i in node.input if i]
        if len(self.dynamic_inputs(node)) != len(names):
            raise UserError(f"node {node.name} (Concat): concatenating constants is not supported")
        parts = [self.input_of(node, n) for n in names]
        rank = len(parts[0].shape)
        if int(node_attr(node, "axis", 1)) % rank != 1:
            raise UserError(f"node {node.name} (Concat): only concatenation along channels (axis 1) is supported")
        if any(p.scale != parts[0].scale for p in parts):
            raise UserError(f"node {node.name} (Concat): inputs have different scales "
                            f"({', '.join(str(p.scale) for p in parts)}); quantize them with one shared quantizer")
        pixels = int(np.prod(parts[0].shape[2:])) if rank == 4 else 1
        acc = parts[0]
        for k, part in enumerate(parts[1:]):
            layer = ConcatStreams(self.layer_name(node, f"_{k}" if len(parts) > 2 else ""), acc.spec, part.spec,
                                  int(acc.shape[1]), int(part.shape[1]), pixels)
            stream = self.add(layer, [acc.stream, part.stream])
            shape = [1, int(acc.shape[1]) + int(part.shape[1])] + list(acc.shape[2:])
            acc = QTensor(stream, acc.scale, layer.out_spec, shape)
        self.tensors[node.output[0]] = replace(acc, shape=self.model.get_tensor_shape(node.output[0]))

    def requantize(self, node) -> None:
        """Float ops and a quantizer on a quantized tensor: a standalone thresholding layer."""
        t = self.input_of(node)
        src = self.dynamic_inputs(node)[0]
        ew = [node] + self.ew_chain(node.output[0])
        qpos = [i for i, n in enumerate(ew) if n.op_type in QUANTIZERS]
        if not qpos:
            raise UserError(f"node {node.name} ({node.op_type}): float ops between layers need an activation "
                            "quantizer after them (e.g. Brevitas QuantIdentity or QuantReLU)")
        if t.spec.bipolar:
            raise UserError(f"node {node.name} ({node.op_type}): re-quantizing bipolar values is not supported")
        channels = int(t.shape[1])
        lo, hi = np.full(channels, t.spec.lo), np.full(channels, t.spec.hi)
        table, negate, quant_out, out_scale = self.thresholds(ew[:qpos[-1] + 1], src, np.full(channels, t.scale),
                                                              lo, hi, f"node {node.name}")
        shape = self.model.get_tensor_shape(quant_out)
        codes = np.arange(t.spec.lo, t.spec.hi + 1)
        mapped = table.apply(np.repeat(codes[:, None], channels, axis=1) * np.where(negate, -1, 1)[None, :])
        if not negate.any() and np.array_equal(mapped, np.repeat(codes[:, None], channels, axis=1)):
            log.info("%s: re-quantization keeps every code; no layer needed", node.name)
            self.tensors[quant_out] = QTensor(t.stream, out_scale, t.spec, shape)
            return
        if negate.any():
            raise UserError(f"node {node.name} ({node.op_type}): a decreasing activation between layers is "
                            "not supported")
        pixels = int(np.prod(t.shape[2:])) if len(t.shape) == 4 else 1
        layer = Thresholding(self.layer_name(node), t.spec, table, pixels=pixels)
        self.tensors[quant_out] = QTensor(self.add(layer, [t.stream]), out_scale, layer.out_spec, shape)


def _check_compute_input(model, node):
    if constant(model, node.input[0]) is not None:
        raise UserError(f"node {node.name} ({node.op_type}): the activation must be its first input")
    shape = model.get_tensor_shape(node.input[0])
    rank = 2 if node.op_type == "MatMul" else 4
    if shape is None or len(shape) != rank or shape[0] != 1:
        what = "(1, features); flatten before it" if rank == 2 else "(1, C, H, W)"
        raise UserError(f"node {node.name} ({node.op_type}): input shape {shape}; fpgaflow needs {what}")


def _host_output_nodes(model, builder: _Builder, last) -> tuple[str, list]:
    """The tensor the host reads (the last layer's quantizer output, or its raw output) and the
    float nodes from it to the graph output."""
    ew = builder.ew_chain(last.output[0])
    qpos = [i for i, n in enumerate(ew) if n.op_type in QUANTIZERS]
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


def streamline(model: ModelWrapper, name: str) -> HardwareGraph:
    """Turn a cleaned-up QONNX network into a :class:`HardwareGraph` of integer layers."""
    static = static_tensors(model)
    dynamic = [n for n in model.graph.node if not all(i in static for i in n.input if i)]
    computes = [n for n in dynamic if n.op_type in COMPUTE]
    if not computes:
        raise UserError(f"{name}: the model has no MatMul/Gemm/Conv layer; nothing to accelerate")
    input_name, output_name = model.graph.input[0].name, model.graph.output[0].name
    first = computes[0]
    _check_compute_input(model, first)
    edge = input_edge(model, first)
    host_in = HostInput(edge.graph, edge.scale, edge.spec, dtype=edge.dtype)

    builder = _Builder(model, static, stop=set())
    src, tail = _host_output_nodes(model, builder, computes[-1])
    builder.stop = {n.name for n in tail}
    builder.last_compute = computes[-1].name
    builder.tensors[edge.boundary] = QTensor(IN_STREAM, edge.scale, edge.spec, model.get_tensor_shape(edge.boundary))
    builder.done = {n.name for n in edge.nodes}
    for node in dynamic:
        if node.name in builder.done or node.name in builder.stop:
            continue
        builder.visit(node)
    t = builder.tensors.get(src)
    if t is None:
        raise UserError(f"{name}: the graph after {computes[-1].name} does not lead to the output as a chain")
    producer = next(layer for layer in builder.layers if t.stream in layer.outputs)
    others = [layer.name for layer in builder.layers if t.stream in layer.inputs]
    if others:
        raise UserError(f"{name}: the last layer's output {src} is also read by {', '.join(others)}")
    producer.outputs = tuple(OUT_STREAM if s == t.stream else s for s in producer.outputs)
    stream_tensors = _stream_tensors(builder, t.stream)
    channels = producer.out_elems // (int(np.prod(t.shape[2:])) if len(t.shape) == 4 else 1)
    vscale = np.broadcast_to(np.asarray(t.scale, dtype=np.float64), (channels,)).copy()
    graph = _host_tail_graph(model, src, output_name) if tail else None
    host_out = HostOutput(vscale, graph, model.get_tensor_shape(output_name),
                          chw=tuple(t.shape[1:]) if len(t.shape) == 4 else None)
    host_out.source_tensor = src
    host_out.source_bias = _leading_bias(model, tail, src)
    layers = _insert_duplicates(builder.layers)
    return HardwareGraph(name=name, input_name=input_name, input_shape=host_model_input_shape(model),
                         output_name=output_name, host_in=host_in, layers=layers, host_out=host_out,
                         stream_tensors=stream_tensors)


def host_model_input_shape(model) -> list[int]:
    """The model input's shape as the user's model declares it (before any rewrite)."""
    host_model = getattr(model, "host_model", model)
    return host_model.get_tensor_shape(host_model.graph.input[0].name)


def _stream_tensors(builder: _Builder, out_stream: str) -> dict[str, dict]:
    """Per accelerator stream, the reference tensor it carries: its first quantized tensor."""
    specs = {IN_STREAM: None}
    for layer in builder.layers:
        for stream in layer.outputs:
            specs[stream] = layer.out_spec
    found = {}
    for tensor, qt in builder.tensors.items():
        if qt.stream in found or qt.stream not in specs:
            continue
        spec = qt.spec if specs[qt.stream] is None else specs[qt.stream]
        scale = np.asarray(qt.scale, dtype=np.float64)
        found[qt.stream] = {"tensor": tensor, "scale": scale.tolist(), "shape": [int(d) for d in qt.shape],
                            "bipolar": bool(spec.bipolar), "channels": None}
    if out_stream in found:
        found[OUT_STREAM] = found.pop(out_stream)
    return found
