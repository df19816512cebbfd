"""Stream width converter: re-chunks a stream from IN_W to OUT_W elements per token."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec, wire_chain
from fpgaflow.layers.base import LayerKit, SpecPreserving, StreamShape, phases, repeat
from fpgaflow.layers.resource_model import structural, width_converter_terms


@dataclass
class StreamWidthConverter(SpecPreserving, LayerKit):
    """Re-chunks ``elems`` elements per frame from ``in_w``- to ``out_w``-wide tokens.

    One token per cycle on the wider side when one width divides the other, else one element
    per cycle.
    """

    name: str
    spec: IntSpec
    elems: int
    in_w: int
    out_w: int

    kind = "width_converter"
    channel_order_free = True

    def __post_init__(self):
        if self.elems % self.in_w or self.elems % self.out_w:
            raise ValueError(f"{self.name}: widths {self.in_w}->{self.out_w} must divide {self.elems}")

    def stream_shape(self):
        return StreamShape(self.in_w, self.out_w, self.elems, self.elems)

    def reference(self, x):
        return np.asarray(x, dtype=np.int64)

    def cycles(self):
        if self.out_w % self.in_w == 0:
            return self.elems // self.in_w
        if self.in_w % self.out_w == 0:
            return self.elems // self.out_w
        return self.elems

    def schedule(self):
        if self.out_w % self.in_w == 0:  # combine: one input token per cycle, a write every parts-th
            parts = self.out_w // self.in_w
            return repeat(phases((parts - 1, (1,), (0,)), (1, (1,), (1,))), self.elems // self.out_w)
        if self.in_w % self.out_w == 0:  # split: one output token per cycle, a read every parts-th
            parts = self.in_w // self.out_w
            return repeat(phases((1, (1,), (1,)), (parts - 1, (0,), (1,))), self.elems // self.in_w)
        items = [(1, (int(i % self.in_w == 0),), (int(i % self.out_w == self.out_w - 1),)) for i in range(self.elems)]
        return phases(*items)

    def pipeline_depth(self):
        """The RTL's: the input token register, the output token, then the next FIFO."""
        return 3

    def output_slots(self):
        return 2  # out_data and the spare (fpgaflow/rtl/verilog/fpgaflow_width_converter.v)

    def resources(self):
        """The fitted structural model (fpgaflow/layers/resource_model.py)."""
        return {**structural(width_converter_terms(self)), "dsp": 0, "bram18": 0}


def remove_width_converters(layers: list) -> list:
    """The layers without their width converters, each reader wired back to the producer."""
    for conv in [l for l in layers if isinstance(l, StreamWidthConverter)]:
        for layer in layers:
            layer.inputs = tuple(conv.inputs[0] if s == conv.outputs[0] else s for s in layer.inputs)
    return [l for l in layers if not isinstance(l, StreamWidthConverter)]


def insert_width_converters(layers: list) -> list:
    """The layers with a converter wherever a stream's producer writes a different width than its
    reader reads (layers are in topological order; a single chain is the common case)."""
    if not any(l.inputs for l in layers):  # a bare list of layers: a chain
        wire_chain(layers)
    producers = {s: l for l in layers for s in l.outputs}
    out = []
    for layer in layers:
        for port, stream in enumerate(layer.inputs):
            prod = producers.get(stream)
            want = layer.input_widths()[port]
            if prod is not None and prod.out_width != want:
                conv = StreamWidthConverter(f"{prod.name}_to_{layer.name}", prod.out_spec, prod.out_elems,
                                            prod.out_width, want)
                conv.inputs, conv.outputs = (stream,), (f"{conv.name}_out",)
                layer.inputs = tuple(conv.outputs[0] if k == port else s for k, s in enumerate(layer.inputs))
                out.append(conv)
        out.append(layer)
    return out
