"""Channel concatenation of two streams of equal scale (NHWC: per pixel, A's channels then B's)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec
from fpgaflow.layers.base import JoinsTwo, LayerKit, StreamShape, phases, repeat


@dataclass
class ConcatStreams(JoinsTwo, LayerKit):
    """Per pixel, ``channels_a`` elements from input A then ``channels_b`` from B, ``pe`` per token."""

    name: str
    a_spec: IntSpec
    b_spec: IntSpec
    channels_a: int
    channels_b: int
    pixels: int
    pe: int = 1

    kind = "concat"

    def __post_init__(self):
        if self.a_spec.bipolar != self.b_spec.bipolar:
            raise ValueError(f"{self.name}: cannot concatenate bipolar and integer streams")

    def input_elems(self):
        return [self.pixels * self.channels_a, self.pixels * self.channels_b]

    @property
    def out_spec(self) -> IntSpec:
        return IntSpec(min(self.a_spec.lo, self.b_spec.lo), max(self.a_spec.hi, self.b_spec.hi), self.a_spec.bipolar)

    @property
    def pe_simd(self):
        return (self.pe, 1)

    def follow_widths(self, in_widths, reader_width):
        """As wide as the producers write, dividing the channels."""
        self.pe = math.gcd(self.channels_a, self.channels_b, in_widths[0] or 1, in_widths[1] or 1)

    def stream_shape(self):
        elems = self.pixels * (self.channels_a + self.channels_b)
        return StreamShape(self.pe, self.pe, elems, elems)

    def reference(self, a, b):
        n = len(a)
        a = np.asarray(a, dtype=np.int64).reshape(n, self.pixels, self.channels_a)
        b = np.asarray(b, dtype=np.int64).reshape(n, self.pixels, self.channels_b)
        return np.concatenate([a, b], axis=2).reshape(n, -1)

    def cycles(self):
        return self.out_elems // self.pe

    def schedule(self):
        pixel = phases((self.channels_a // self.pe, (1, 0), (1,)), (self.channels_b // self.pe, (0, 1), (1,)))
        return repeat(pixel, self.pixels)

    def pipeline_depth(self):
        """The RTL's: the output queue, then the next FIFO (measured with Verilator, tests/test_rtl_joins.py)."""
        return 2

    def resources(self):
        bits = self.out_spec.bits * self.pe
        return {"lut": bits, "ff": bits, "dsp": 0, "bram18": 0}
