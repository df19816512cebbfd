"""Max pooling over the windows of a sliding-window generator.

Reads, for every output pixel, the KH*KW*C window in (ky, kx, c) order, PE channels per token,
and writes the per-channel maximum. Max pooling commutes with a quantizer of positive scale, so
it runs on the integer codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec
from fpgaflow.layers.base import Binding, CType, LayerKit, SpecPreserving, StreamShape


@dataclass
class MaxPool(SpecPreserving, LayerKit):
    """Per-channel maximum over ``window_size`` positions, for ``pixels`` output pixels."""

    name: str
    spec: IntSpec
    channels: int
    window_size: int
    pixels: int
    pe: int = 1

    kind = "maxpool"

    @property
    def pe_simd(self):
        return (self.pe, 1)

    def stream_shape(self):
        return StreamShape(self.pe, self.pe, self.pixels * self.window_size * self.channels,
                           self.pixels * self.channels)

    def reference(self, x):
        n = len(x)
        return np.asarray(x).reshape(n, self.pixels, self.window_size, self.channels).max(axis=2).reshape(n, -1)

    def binding(self):
        return Binding(header="fpgaflow/pool.h", function="fpgaflow::max_pool",
                       constants={"channels": self.channels, "window": self.window_size, "pixels": self.pixels,
                                  "pe": self.pe, "cf": self.channels // self.pe},
                       types={"elem_t": CType(self.spec.ctype())})

    def cycles(self):
        return self.in_elems // self.pe

    def pipeline_depth(self):
        return 2

    def resources(self):
        bits = self.spec.bits * self.channels
        return {"lut": self.pe * self.spec.bits * 2 + bits // 8, "ff": bits + self.pe * self.spec.bits,
                "dsp": 0, "bram18": 0}
