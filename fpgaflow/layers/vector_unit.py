"""Vector unit (depthwise convolution): each channel convolved with its own kernel.

Reads the windows of a sliding-window generator, (ky, kx, c) order with PE channels per
token, and for every output pixel writes per channel ``sum_k x[k, c] * W[k, c]``, optionally
through per-channel thresholds. Weights are MAC, ternary or shift products, as in the MVAU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec
from fpgaflow.layers.base import LayerKit, StreamShape, weight_dim
from fpgaflow.layers.mvau import accumulator_bounds, choose_arith
from fpgaflow.layers.pool import window_reduce_schedule
from fpgaflow.layers.thresholding import ThresholdTable


@dataclass
class VectorUnit(LayerKit):
    """Depthwise layer: weights of shape (window positions K, channels C)."""

    name: str
    weights: np.ndarray
    in_spec: IntSpec
    weight_spec: IntSpec
    pixels: int
    table: ThresholdTable | None = None
    pe: int = 1

    kind = "vvau"

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=np.int64)

    window_size = weight_dim(0, "Window positions (rows of the weights).")
    channels = weight_dim(1, "Channels (columns of the weights).")

    @property
    def arith(self) -> str:
        kind = choose_arith(self.weights, self.in_spec, self.weight_spec)[0]
        return "mac" if kind in ("xnor", "shift") else kind  # one product per lane: multiply or select

    @property
    def pe_simd(self):
        return (self.pe, 1)

    def check_folding(self, pe: int, simd: int) -> str | None:
        return None if self.channels % pe == 0 else f"PE={pe} does not divide C={self.channels}"

    def fold_options(self):
        return [(pe, 1) for pe in range(1, self.channels + 1) if self.channels % pe == 0]

    def set_folding(self, pe, simd):
        self.pe = pe

    def read_width(self):
        return self.pe

    def stream_shape(self):
        return StreamShape(self.pe, self.pe, self.pixels * self.window_size * self.channels,
                           self.pixels * self.channels)

    @property
    def acc_spec(self) -> IntSpec:
        lo, hi = accumulator_bounds(self.weights, self.in_spec)
        return IntSpec(min(int(lo.min()), 0), max(int(hi.max()), 0))

    @property
    def out_spec(self) -> IntSpec:
        return self.table.out_spec if self.table is not None else self.acc_spec

    def reference(self, x):
        n = len(x)
        windows = np.asarray(x, dtype=np.int64).reshape(n * self.pixels, self.window_size, self.channels)
        acc = (windows * self.weights[None]).sum(axis=1)
        out = self.table.apply(acc) if self.table is not None else acc
        return out.reshape(n, -1)

    def cycles_for(self, pe: int, simd: int = 1) -> int:
        return self.pixels * (self.window_size + 1) * (self.channels // pe)  # window reads, then results

    def cycles(self):
        return self.cycles_for(self.pe)

    def schedule(self):
        return window_reduce_schedule(self.window_size, self.channels, self.pe, self.pixels)

    def pipeline_depth(self):
        return 4

    def resources(self):
        xbits, acc_bits = self.in_spec.bits, self.acc_spec.bits
        lut = self.pe * (xbits * 4 + acc_bits * 2) + self.weights.size * 4 // 64
        if self.table is not None:
            lut += self.pe * self.table.dtype().bitwidth() * int(np.ceil(np.log2(self.table.count + 1)))
        return {"lut": int(lut), "ff": int(lut), "dsp": 0, "bram18": 0}

    def describe(self):
        return {**super().describe(), "channels": self.channels, "window": self.window_size, "pixels": self.pixels}
