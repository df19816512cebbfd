"""Matrix-vector unit: a fully connected layer on integer codes, folded over PE and SIMD.

Arithmetic variants (``arith``), chosen from the weights and inputs:
- ``xnor``: bipolar weights and bipolar inputs, XNOR-popcount on packed words;
- ``mac``: fixed-point multiply-accumulate (bipolar weights or inputs become sign selects).
An optional :class:`ThresholdTable` turns the accumulators into the next layer's codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec, smallest_dtype
from fpgaflow.layers.base import Binding, CArray, CType, LayerKit, StreamShape, acc_ctype, native_int_type
from fpgaflow.layers.thresholding import ThresholdTable

#: XNOR words are packed into at most 64 bits per (PE, tile).
MAX_XNOR_SIMD = 64


def accumulator_bounds(weights: np.ndarray, spec: IntSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel [min, max] of sum_i x_i * W[i, c] for x_i in [spec.lo, spec.hi]."""
    lo_prod = np.minimum(weights * spec.lo, weights * spec.hi)
    hi_prod = np.maximum(weights * spec.lo, weights * spec.hi)
    return lo_prod.sum(axis=0), hi_prod.sum(axis=0)


@dataclass
class MatrixVectorUnit(LayerKit):
    """Integer y = x @ W (W of shape MW x MH), optionally followed by thresholds."""

    name: str
    weights: np.ndarray
    in_spec: IntSpec
    weight_spec: IntSpec
    table: ThresholdTable | None = None
    pe: int = 1
    simd: int = 1

    kind = "mvau"

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=np.int64)
        if self.weight_spec.bipolar and not np.all(np.abs(self.weights) == 1):
            raise ValueError(f"{self.name}: bipolar weights must be -1/+1")

    # ---- shape ----
    @property
    def mw(self) -> int:
        return self.weights.shape[0]

    @property
    def mh(self) -> int:
        return self.weights.shape[1]

    @property
    def pe_simd(self):
        return (self.pe, self.simd)

    def stream_shape(self):
        return StreamShape(self.simd, self.pe, self.mw, self.mh)

    @property
    def arith(self) -> str:
        return "xnor" if self.in_spec.bipolar and self.weight_spec.bipolar else "mac"

    def check_folding(self, pe: int, simd: int) -> str | None:
        """Why (pe, simd) is not a legal folding for this layer, or None if it is."""
        if self.mh % pe:
            return f"PE={pe} does not divide MH={self.mh}"
        if self.mw % simd:
            return f"SIMD={simd} does not divide MW={self.mw}"
        if self.arith == "xnor" and simd > MAX_XNOR_SIMD:
            return f"SIMD={simd} exceeds {MAX_XNOR_SIMD} for an XNOR layer"
        return None

    # ---- numbers ----
    @property
    def acc_bounds(self) -> tuple[int, int]:
        lo, hi = accumulator_bounds(self.weights, self.in_spec)
        return int(lo.min()), int(hi.max())

    @property
    def acc_spec(self) -> IntSpec:
        lo, hi = self.acc_bounds
        return IntSpec(min(lo, 0), max(hi, 0))

    @property
    def out_spec(self) -> IntSpec:
        return self.table.out_spec if self.table is not None else self.acc_spec

    def reference(self, x):
        acc = np.asarray(x, dtype=np.int64) @ self.weights
        return self.table.apply(acc) if self.table is not None else acc

    # ---- C++ binding ----
    def _product(self) -> str:
        if self.weight_spec.bipolar:
            return "fpgaflow::mul_bipolar_weight"
        if self.in_spec.bipolar:
            return "fpgaflow::mul_bipolar_input"
        return "fpgaflow::mul_int"

    def arranged_weights(self) -> np.ndarray:
        """Weights as [PE][NF*SF][SIMD]: weights[pe][nf*SF+sf][s] = W[sf*SIMD+s, nf*PE+pe]."""
        sf, nf = self.mw // self.simd, self.mh // self.pe
        w = self.weights.reshape(sf, self.simd, nf, self.pe)
        return w.transpose(3, 2, 0, 1).reshape(self.pe, nf * sf, self.simd)

    def _weight_array(self) -> CArray:
        arranged = self.arranged_weights()
        if self.arith == "xnor":
            bits = (arranged > 0).astype(np.uint64)
            words = (bits << np.arange(self.simd, dtype=np.uint64)).sum(axis=-1, dtype=np.uint64)
            return CArray("weights", CType(f"ap_uint<{self.simd}>", "uint64_t"), words, hex_words=True)
        if self.weight_spec.bipolar:
            return CArray("weights", CType("ap_uint<1>", "int8_t"), (arranged > 0).astype(np.int64))
        dt = smallest_dtype(int(self.weights.min()), int(self.weights.max()))
        hw = f"ap_int<{dt.bitwidth()}>" if dt.signed() else f"ap_uint<{dt.bitwidth()}>"
        return CArray("weights", CType(hw, native_int_type(int(self.weights.min()), int(self.weights.max()))),
                      arranged)

    def _product_bits(self) -> int:
        x = (-1, 1) if self.in_spec.bipolar else (self.in_spec.lo, self.in_spec.hi)
        w = (int(self.weights.min()), int(self.weights.max()))
        prods = [a * b for a in x for b in w]
        return smallest_dtype(min(prods + [0]), max(prods + [0])).bitwidth()

    def binding(self):
        acc_lo, acc_hi = self.acc_bounds
        acc_bits = self.acc_spec.dtype.bitwidth()
        if self.arith == "xnor":  # the popcount before 2p - MW needs log2(MW)+1 bits more
            acc_bits = max(acc_bits, smallest_dtype(-self.mw, self.mw).bitwidth())
        constants = {"mw": self.mw, "mh": self.mh, "pe": self.pe, "simd": self.simd,
                     "nf": self.mh // self.pe, "sf": self.mw // self.simd,
                     "acc_min": acc_lo, "acc_max": acc_hi}
        types = {"in_t": CType(self.in_spec.ctype()), "out_t": CType(self.out_spec.ctype()),
                 "acc_t": acc_ctype(acc_bits),
                 "arith": CType(f"fpgaflow::{self.arith}<{{config}}>")}
        if self.arith == "mac":
            pb = self._product_bits()
            types["product"] = CType(self._product())
            types["product_t"] = CType(f"ap_int<{pb}>", "int32_t" if pb <= 32 else "int64_t")
            lo, hi = (0, 1) if self.in_spec.bipolar else (self.in_spec.lo, self.in_spec.hi)
            types["in_store_t"] = CType(self.in_spec.ctype(), native_int_type(lo, hi))
        arrays = [self._weight_array()]
        if self.table is not None:
            constants.update(self.table.constants())
            arrays.append(self.table.carray(self.pe))
        return Binding(header="fpgaflow/mvau.h", function="fpgaflow::mvau", constants=constants, types=types,
                       arrays=arrays)

    # ---- schedule and resources ----
    def cycles(self):
        return (self.mh // self.pe) * (self.mw // self.simd)

    def pipeline_depth(self):
        return 4 + (int(np.ceil(np.log2(self.table.count + 1))) if self.table is not None else 0)

    def resources(self):
        """First-order estimate after FINN's MVAU cost model (refined by the estimate stage)."""
        wbits = 1 if self.weight_spec.bipolar else smallest_dtype(int(self.weights.min()),
                                                                   int(self.weights.max())).bitwidth()
        xbits = self.in_spec.bits
        lanes = self.pe * self.simd
        acc_bits = self.acc_spec.dtype.bitwidth()
        if self.arith == "xnor":
            lut, dsp = lanes * 2 + self.pe * acc_bits * 2, 0
        elif wbits * xbits > 16:  # wide products go to DSP48 slices
            lut, dsp = self.pe * acc_bits * 2, lanes
        else:
            lut, dsp = lanes * wbits * xbits + self.pe * acc_bits * 2, 0
        depth = self.cycles() // max(1, self.mh // self.pe) * (self.mh // self.pe)
        word_bits = self.simd * wbits
        if depth * word_bits * self.pe <= 8192 or depth < 128:  # small memories go to LUTRAM
            lut += self.pe * word_bits * max(1, depth // 64)
            bram = 0
        else:
            bram = self.pe * int(np.ceil(word_bits / 36)) * int(np.ceil(depth / 512))
        if self.table is not None:
            tbits = self.table.dtype().bitwidth()
            lut += self.pe * tbits * int(np.ceil(np.log2(self.table.count + 1)))
            lut += self.table.values.size * tbits // 64
        ff = lut  # registers track LUTs closely in pipelined datapaths
        return {"lut": int(lut), "ff": int(ff), "dsp": int(dsp), "bram18": int(bram)}

    def describe(self):
        return {**super().describe(), "mw": self.mw, "mh": self.mh,
                "thresholds": self.table.count if self.table is not None else 0}
