"""Stream duplication: one stream in, two identical streams out (a tensor read by two branches)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec
from fpgaflow.layers.base import LayerKit, SpecPreserving, StreamShape, stream_schedule


@dataclass
class Duplicate(SpecPreserving, LayerKit):
    """Copies every token of a frame (``elems`` elements, ``width`` per token) to both outputs."""

    name: str
    spec: IntSpec
    elems: int
    width: int

    kind = "duplicate"

    def follow_widths(self, in_widths, reader_width):
        """As wide as the producers write, dividing the channels."""
        self.width = math.gcd(self.elems, in_widths[0] or 1)

    def stream_shape(self):
        return StreamShape(self.width, self.width, self.elems, self.elems)

    def reference(self, x):
        return np.asarray(x, dtype=np.int64)

    def cycles(self):
        return self.in_tokens

    def schedule(self):
        return stream_schedule(self.in_tokens, (1,), (1, 1))

    def pipeline_depth(self):
        """The RTL's: the output queue, then the next FIFO (measured with Verilator, tests/test_rtl_joins.py)."""
        return 2

    def resources(self):
        return {"lut": 4, "ff": 2 * self.spec.bits * self.width, "dsp": 0, "bram18": 0}
