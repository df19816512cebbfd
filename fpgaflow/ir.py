"""The hardware graph: host-side float edges around a chain of integer layer kits."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from qonnx.core.datatype import DataType

from fpgaflow.annotation import check_annotated
from fpgaflow.streamio import StreamLayout, input_codes, output_values, reference_layout
from fpgaflow.frontend.float_exec import FloatGraph


@dataclass(frozen=True)
class IntSpec:
    """The integer codes carried by a stream: every value lies in [lo, hi].

    Bipolar streams carry -1/+1 (one bit in hardware: 1 means +1).
    """

    lo: int
    hi: int
    bipolar: bool = False

    @property
    def dtype(self) -> DataType:
        """The narrowest qonnx DataType holding [lo, hi]."""
        if self.bipolar:
            return DataType["BIPOLAR"]
        return smallest_dtype(self.lo, self.hi)

    @property
    def bits(self) -> int:
        return self.dtype.bitwidth()


#: Stream names of the accelerator's own input and output.
IN_STREAM, OUT_STREAM = "in", "out"
#: FIFO depth of a stream before the cycle simulation sizes it.
DEFAULT_FIFO_DEPTH = 2


def smallest_dtype(lo: int, hi: int) -> DataType:
    """The narrowest INTk/UINTk DataType holding every integer in [lo, hi]."""
    lo, hi = int(lo), int(hi)
    if lo >= 0:
        return DataType[f"UINT{max(1, int(hi).bit_length())}"]
    bits = max((-lo - 1).bit_length(), hi.bit_length()) + 1
    return DataType[f"INT{bits}"]


@dataclass
class HostInput:
    """Float pre-processing on the host: the reference's own ops up to the first quantizer.

    ``codes = rint(graph(x) / scale)`` are the integers streamed into the accelerator.
    """

    graph: FloatGraph
    scale: float
    spec: IntSpec
    dtype: str | None = None  # the model input's qonnx datatype annotation (no input quantizer)

    #: Samples per evaluation: keeps the float temporaries in cache (about 2x faster).
    chunk = 512

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """int32 codes (N, features) for the float batch ``x``."""
        check_annotated(x, self.dtype)
        x = np.asarray(x).reshape([len(x)] + list(self.graph.shapes[self.graph.input_name][1:]))
        parts = [self._codes(x[i:i + self.chunk]) for i in range(0, len(x), self.chunk)]
        return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.int32)

    def _codes(self, x: np.ndarray) -> np.ndarray:
        return input_codes(self.graph(x), self.scale)  # a 1-D map (N, C, L) streams as (N, C, L, 1)


@dataclass
class HostOutput:
    """Float post-processing on the host, from the accelerator's integer outputs.

    The integers (plus ``offset``) are turned back into the reference's float tensor (``value_scale`` per
    channel, rounded once to float32 as the reference's MatMul or quantizer output), then the
    remaining float nodes (``graph``, may be None) run with the reference's arithmetic.
    """

    value_scale: np.ndarray
    graph: FloatGraph | None
    output_shape: list[int] = field(default_factory=list)
    offset: np.ndarray | int = 0  # added to the integers first (constants of removed neurons)
    chw: tuple[int, int, int] | None = None  # a feature map: the integers arrive NHWC

    def to_reference_layout(self, ints: np.ndarray) -> np.ndarray:
        """The accelerator's integers in the reference's layout (NCHW maps back from NHWC)."""
        return reference_layout(ints, self.chw)

    def __call__(self, ints: np.ndarray) -> np.ndarray:
        value = output_values(ints, self.value_scale, self.offset, self.chw)
        if self.graph is not None:
            value = self.graph(value.reshape([len(value)] + self.graph.shapes[self.graph.input_name][1:]))
        return value.reshape([len(ints)] + list(self.output_shape[1:]))




def wire_chain(layers: list) -> list:
    """Connect ``layers`` one after the other, from the accelerator input to its output."""
    for i, layer in enumerate(layers):
        layer.inputs = (IN_STREAM,) if i == 0 else (layers[i - 1].outputs[0],)
        layer.outputs = (OUT_STREAM,) if i == len(layers) - 1 else (f"{layer.name}_out",)
    return layers


@dataclass
class Stream:
    """One FIFO of the accelerator: who writes it, who reads it, what it carries and how deep it is.

    ``producer`` / ``consumer`` are layer names (None: the accelerator's input / output port), and
    ``producer_port`` / ``consumer_port`` the index of the stream in the producer's ``outputs`` and
    the consumer's ``inputs``.
    """

    name: str
    producer: str | None
    producer_port: int
    consumer: str | None
    consumer_port: int
    spec: IntSpec
    width: int
    elems: int
    depth: int = DEFAULT_FIFO_DEPTH

    def layout(self) -> StreamLayout:
        """The stream as an AXI4-Stream port packs it (the accelerator's input and output)."""
        return StreamLayout(self.elems, self.width, self.spec.bits, self.spec.lo, self.spec.hi, self.spec.bipolar)


@dataclass
class HardwareGraph:
    """What the accelerator computes: host input edge, integer layers, host output edge.

    ``layers`` are in topological order; each names the streams it reads (``inputs``) and writes
    (``outputs``). The accelerator reads stream ``in`` and writes stream ``out``; a chain of layers
    is the common case, branches (residual connections) are duplications and joins.
    """

    name: str
    input_name: str
    input_shape: list[int]
    output_name: str
    host_in: HostInput | None
    layers: list
    host_out: HostOutput | None
    notes: list[str] = field(default_factory=list)
    #: stream -> the reference tensor it carries: tensor, scale, shape, bipolar, channels (kept ones)
    stream_tensors: dict[str, dict] = field(default_factory=dict)
    #: FIFO depth per stream, once the cycle simulation has sized them (else DEFAULT_FIFO_DEPTH).
    depths: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        if not any(layer.inputs for layer in self.layers):
            wire_chain(self.layers)

    def producer(self, stream: str):
        """The layer writing ``stream`` (None for the accelerator input)."""
        return next((layer for layer in self.layers if stream in layer.outputs), None)

    def consumers(self, stream: str) -> list:
        """The layers reading ``stream``."""
        return [layer for layer in self.layers if stream in layer.inputs]

    @property
    def first(self):
        """The layer reading the accelerator input."""
        return self.consumers(IN_STREAM)[0]

    @property
    def last(self):
        """The layer writing the accelerator output."""
        return self.producer(OUT_STREAM)

    def streams(self) -> list[Stream]:
        """Every stream: the accelerator input, the streams between layers (in layer order), the output."""
        first, last = self.first, self.last
        port = list(first.inputs).index(IN_STREAM)
        found = [Stream(IN_STREAM, None, 0, first.name, port, first.input_specs()[port], first.input_widths()[port],
                        first.input_elems()[port], self.depths.get(IN_STREAM, DEFAULT_FIFO_DEPTH))]
        for layer in self.layers:
            for out_port, stream in enumerate(layer.outputs):
                if stream == OUT_STREAM:
                    continue
                reader = next(iter(self.consumers(stream)), None)
                found.append(Stream(stream, layer.name, out_port, reader.name if reader else None,
                                    list(reader.inputs).index(stream) if reader else 0, layer.out_spec,
                                    layer.out_width, layer.out_elems, self.depths.get(stream, DEFAULT_FIFO_DEPTH)))
        found.append(Stream(OUT_STREAM, last.name, list(last.outputs).index(OUT_STREAM), None, 0, last.out_spec,
                            last.out_width, last.out_elems, self.depths.get(OUT_STREAM, DEFAULT_FIFO_DEPTH)))
        return found

    @property
    def source(self) -> Stream:
        """The accelerator's input stream."""
        return self.streams()[0]

    @property
    def sink(self) -> Stream:
        """The accelerator's output stream."""
        return self.streams()[-1]

    def reference(self, x: np.ndarray) -> np.ndarray:
        """The integer model in numpy: codes in, the last layer's integers out."""
        values = {IN_STREAM: self.host_in(x)}
        for layer in self.layers:
            result = layer.reference(*[values[s] for s in layer.inputs])
            for stream in layer.outputs:
                values[stream] = result
        return values[OUT_STREAM]
