"""Vector unit (depthwise convolution): each channel convolved with its own kernel.

Reads the windows of a sliding-window generator, (ky, kx, c) order with PE channels per
token, and for every output pixel writes per channel ``sum_k x[k, c] * W[k, c]``, optionally
through per-channel thresholds. Weights are MAC, ternary or shift products, as in the MVAU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec, ap_type, smallest_dtype
from fpgaflow.layers.base import Binding, CArray, CType, LayerKit, StreamShape, acc_ctype, native_int_type
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

    @property
    def window_size(self) -> int:
        return self.weights.shape[0]

    @property
    def channels(self) -> int:
        return self.weights.shape[1]

    @property
    def arith(self) -> str:
        kind = choose_arith(self.weights, self.in_spec, self.weight_spec)[0]
        return "mac" if kind in ("xnor", "shift") else kind  # one product per lane: multiply or select

    @property
    def pe_simd(self):
        return (self.pe, 1)

    def check_folding(self, pe: int, simd: int) -> str | None:
        return None if self.channels % pe == 0 else f"PE={pe} does not divide C={self.channels}"

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

    def binding(self):
        lo, hi = (-1, 1) if self.in_spec.bipolar else (self.in_spec.lo, self.in_spec.hi)
        w = self.weights  # (K, C) -> [PE][CF][K]: channel c = cf * PE + pe
        arranged = w.reshape(self.window_size, self.channels // self.pe, self.pe).transpose(2, 1, 0)
        wdt = smallest_dtype(min(int(w.min()), 0), max(int(w.max()), 0))
        prods = [a * b for a in (lo, hi) for b in (int(w.min()), int(w.max()))] + [0]
        pdt = smallest_dtype(min(prods), max(prods))
        arrays = [CArray("weights", CType(ap_type(wdt), native_int_type(int(w.min()), int(w.max()))), arranged)]
        constants = {"channels": self.channels, "window": self.window_size, "pixels": self.pixels, "pe": self.pe,
                     "cf": self.channels // self.pe, "in_bipolar": int(self.in_spec.bipolar),
                     "acc_min": self.acc_spec.lo, "acc_max": self.acc_spec.hi}
        product = "fpgaflow::mul_ternary" if self.arith == "ternary" else "fpgaflow::mul_int"
        types = {"in_t": CType(self.in_spec.ctype()), "out_t": CType(self.out_spec.ctype()),
                 "acc_t": acc_ctype(self.acc_spec.bits), "product": CType(product),
                 "product_t": CType(ap_type(pdt), "int32_t" if pdt.bitwidth() <= 31 else "int64_t"),
                 "in_store_t": CType(ap_type(smallest_dtype(min(lo, 0), hi)), native_int_type(min(lo, 0), hi))}
        if self.table is not None:
            constants.update(self.table.constants())
            constants["nf"] = self.channels // self.pe
            arrays.append(self.table.carray(self.pe))
        return Binding(header="fpgaflow/vector_unit.h", function="fpgaflow::vector_unit", constants=constants,
                       types=types, arrays=arrays)

    def resources(self):
        xbits, acc_bits = self.in_spec.bits, self.acc_spec.bits
        lut = self.pe * (xbits * 4 + acc_bits * 2) + self.weights.size * 4 // 64
        if self.table is not None:
            lut += self.pe * self.table.dtype().bitwidth() * int(np.ceil(np.log2(self.table.count + 1)))
        return {"lut": int(lut), "ff": int(lut), "dsp": 0, "bram18": 0}

    def describe(self):
        return {**super().describe(), "channels": self.channels, "window": self.window_size, "pixels": self.pixels}
