"""Matrix-vector unit: a fully connected layer on integer codes, folded over PE and SIMD.

The arithmetic (``arith``) is chosen per layer from its integer weights:
- ``xnor``: bipolar weights and bipolar inputs, XNOR-popcount on packed words;
- ``ternary``: weights in {-1, 0, +1}: adds and subtracts only;
- ``shift``: every non-zero weight is +-2^k: shifts and adds, no multiplier;
- ``mac``: general fixed-point multiply-accumulate.
Independently, a layer with enough zero weights is ``sparse``: zeros are removed at generation
time and each PE walks a compressed schedule of (input index, weight) pairs, so cycles and
weight memory scale with the non-zeros. An optional :class:`ThresholdTable` turns the
accumulators into the next layer's codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qonnx.core.datatype import DataType

from fpgaflow.ir import IntSpec, ap_type, smallest_dtype
from fpgaflow.layers.base import (Binding, CArray, CType, LayerKit, StreamShape, acc_ctype, native_int_type, phases,
                                  repeat)
from fpgaflow.layers.thresholding import ThresholdTable

#: XNOR words are packed into at most 64 bits per (PE, tile).
MAX_XNOR_SIMD = 64
ARITH_KINDS = ("xnor", "ternary", "shift", "mac")
#: Fraction of zero weights from which a layer skips zeros by default. Below it the any-input
#: multiplexers of a sparse layer cost more LUTs than the cycles they save are worth.
DEFAULT_SPARSE_THRESHOLD = 0.75


def accumulator_bounds(weights: np.ndarray, spec: IntSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel [min, max] of sum_i x_i * W[i, c] for x_i in [spec.lo, spec.hi]."""
    lo_prod = np.minimum(weights * spec.lo, weights * spec.hi)
    hi_prod = np.maximum(weights * spec.lo, weights * spec.hi)
    return lo_prod.sum(axis=0), hi_prod.sum(axis=0)


def _is_pow2(values: np.ndarray) -> bool:
    return bool(np.all((values & (values - 1)) == 0))


def arith_options(weights: np.ndarray, in_spec: IntSpec, weight_spec: IntSpec) -> dict[str, str | None]:
    """For each arithmetic kind: None if it computes this layer exactly, else why not."""
    nz = np.abs(weights[weights != 0])
    both_bipolar = in_spec.bipolar and weight_spec.bipolar
    return {
        "xnor": None if both_bipolar else "needs bipolar (+-1) weights and inputs",
        "ternary": None if np.all(nz <= 1) else "needs weights in {-1, 0, +1}",
        "shift": None if _is_pow2(nz) else "needs every non-zero weight to be a power of two",
        "mac": None,
    }


def choose_arith(weights: np.ndarray, in_spec: IntSpec, weight_spec: IntSpec) -> tuple[str, str]:
    """The cheapest exact arithmetic for these weights, and why."""
    options = arith_options(weights, in_spec, weight_spec)
    nz = np.abs(weights[weights != 0])
    if options["xnor"] is None:
        return "xnor", "bipolar weights and inputs: XNOR-popcount"
    if options["ternary"] is None:
        return "ternary", "weights in {-1, 0, +1}: adds and subtracts only"
    if options["shift"] is None:
        return "shift", f"non-zero weights are +-2^k, k <= {int(np.log2(nz.max()))}: shifts and adds, no multiplier"
    return "mac", "general integer weights: multiply-accumulate"


@dataclass
class SparseSchedule:
    """Zero-free per-PE work lists: step t of PE p multiplies input index[p, t, s] by weight[p, t, s].

    Neuron fold nf runs steps nf_end[nf-1] .. nf_end[nf]-1; padding slots have weight 0.
    """

    index: np.ndarray
    weight: np.ndarray
    nf_end: np.ndarray

    @property
    def steps(self) -> int:
        return int(self.nf_end[-1]) if len(self.nf_end) else 0


def weight_memory(depth: int, word_bits: int, pe: int) -> tuple[str, int, int]:
    """Where a PE's weight words live, and its LUT and BRAM18 cost over ``pe`` PEs.

    A handful of words is logic (constants folded into the datapath); shallow or small
    memories are LUTRAM (64 bits per LUT); the rest BRAM18, in the aspect ratio that fits the word
    (16K x 1, 8K x 2, 4K x 4, 2K x 9, 1K x 18 or 512 x 36), as FINN's estimate does.
    """
    if depth <= 4:
        return "logic", pe * word_bits * depth // 4, 0
    if depth < 128 or depth * word_bits * pe <= 8192:
        return "lutram", pe * word_bits * max(1, depth // 64), 0
    for width, words in ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512)):
        if word_bits <= width or width == 36:
            per_pe = int(np.ceil(word_bits / width)) * int(np.ceil(depth / words))
            return "bram", 0, pe * per_pe
    raise AssertionError("unreachable")


def sparse_steps(nnz: np.ndarray, pe: int, simd: int) -> int:
    """Total compute steps of a sparse layer: per neuron fold, the busiest PE's ceil(nnz/SIMD)."""
    per_channel = -(-nnz // simd)
    return int(np.maximum(per_channel.reshape(-1, pe).max(axis=1), 1).sum())


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
    arith_kind: str | None = None  # None: chosen from the weights
    sparse: bool | None = None  # None: sparse when the zero fraction reaches sparse_threshold
    sparse_threshold: float = DEFAULT_SPARSE_THRESHOLD
    vectors: int = 1  # input vectors per frame (output pixels of a convolution)

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
        return StreamShape(self.simd, self.pe, self.vectors * self.mw, self.vectors * self.mh)

    # ---- arithmetic ----
    @property
    def arith(self) -> str:
        return self.arith_kind or self._choice()[0]

    def __setattr__(self, name, value):
        if name == "weights":  # the cached facts about the weights are stale
            self.__dict__.pop("_facts", None)
        super().__setattr__(name, value)

    def _choice(self) -> tuple[str, str]:
        facts = self.__dict__.setdefault("_facts", {})
        if "choice" not in facts:
            facts["choice"] = choose_arith(self.weights, self.in_spec, self.weight_spec)
        return facts["choice"]

    @property
    def zero_fraction(self) -> float:
        facts = self.__dict__.setdefault("_facts", {})
        if "zeros" not in facts:
            facts["zeros"] = float(np.mean(self.weights == 0))
        return facts["zeros"]

    @property
    def is_sparse(self) -> bool:
        if self.arith == "xnor":
            return False
        return self.sparse if self.sparse is not None else self.zero_fraction >= self.sparse_threshold

    @property
    def arith_reason(self) -> str:
        kind, reason = self._choice()
        if self.arith_kind and self.arith_kind != kind:
            reason = f"set by --arith (would choose {kind})"
        if self.is_sparse:
            reason += f"; {self.zero_fraction:.0%} zero weights skipped"
        return reason

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
        n = len(x)
        acc = np.asarray(x, dtype=np.int64).reshape(n * self.vectors, self.mw) @ self.weights
        out = self.table.apply(acc) if self.table is not None else acc
        return out.reshape(n, -1)

    # ---- weight encodings ----
    def _shift_bits(self) -> int:
        nz = np.abs(self.weights[self.weights != 0])
        return max(1, int(np.log2(nz.max())).bit_length()) if nz.size else 1

    def encode_weights(self, w: np.ndarray) -> np.ndarray:
        """Weight codes as the arithmetic stores them (shift: nonzero | negative | exponent)."""
        if self.arith != "shift":
            return w
        eb = self._shift_bits()
        mag = np.abs(w)
        exp = np.where(mag > 0, np.log2(np.maximum(mag, 1)).astype(np.int64), 0)
        return np.where(w != 0, (1 << (eb + 1)) | ((w < 0).astype(np.int64) << eb) | exp, 0)

    def _weight_ctype(self) -> CType:
        if self.arith == "shift":
            bits = self._shift_bits() + 2
            return CType(f"ap_uint<{bits}>", native_int_type(0, (1 << bits) - 1))
        lo, hi = int(self.weights.min()), int(self.weights.max())
        dt = smallest_dtype(min(lo, 0), max(hi, 0))
        hw = f"ap_int<{dt.bitwidth()}>" if dt.signed() else f"ap_uint<{dt.bitwidth()}>"
        return CType(hw, native_int_type(min(lo, 0), max(hi, 0)))

    def arranged_weights(self) -> np.ndarray:
        """Weights as [PE][NF*SF][SIMD]: weights[pe][nf*SF+sf][s] = W[sf*SIMD+s, nf*PE+pe]."""
        sf, nf = self.mw // self.simd, self.mh // self.pe
        w = self.weights.reshape(sf, self.simd, nf, self.pe)
        return w.transpose(3, 2, 0, 1).reshape(self.pe, nf * sf, self.simd)

    def sparse_schedule(self) -> SparseSchedule:
        """The compressed per-PE schedule of non-zero weights (channel c = nf * PE + pe)."""
        nf = self.mh // self.pe
        nnz = (self.weights != 0).sum(axis=0)
        steps = (-(-nnz // self.simd)).reshape(nf, self.pe).max(axis=1)
        total = int(steps.sum())
        index = np.zeros((self.pe, max(total, 1), self.simd), dtype=np.int64)
        weight = np.zeros_like(index)
        start = 0
        for f in range(nf):
            for p in range(self.pe):
                rows = np.flatnonzero(self.weights[:, f * self.pe + p])
                slots = slice(start * self.simd, start * self.simd + len(rows))
                index[p].reshape(-1)[slots] = rows
                weight[p].reshape(-1)[slots] = self.weights[rows, f * self.pe + p]
            start += int(steps[f])
        return SparseSchedule(index, weight, np.cumsum(steps))

    def _weight_arrays(self) -> list[CArray]:
        if self.arith == "xnor":
            bits = (self.arranged_weights() > 0).astype(np.uint64)
            words = (bits << np.arange(self.simd, dtype=np.uint64)).sum(axis=-1, dtype=np.uint64)
            return [CArray("weights", CType(f"ap_uint<{self.simd}>", "uint64_t"), words, hex_words=True)]
        if not self.is_sparse:
            return [CArray("weights", self._weight_ctype(), self.encode_weights(self.arranged_weights()))]
        sched = self.sparse_schedule()
        ibits = max(1, (self.mw - 1).bit_length())
        return [CArray("weights", self._weight_ctype(), self.encode_weights(sched.weight)),
                CArray("index", CType(f"ap_uint<{ibits}>", native_int_type(0, self.mw)), sched.index),
                CArray("nf_end", CType("unsigned", "unsigned"), sched.nf_end)]

    def _product(self) -> tuple[str, DataType]:
        """Product policy and the narrowest type holding every product."""
        x = (-1, 1) if self.in_spec.bipolar else (self.in_spec.lo, self.in_spec.hi)
        w = (int(self.weights.min()), int(self.weights.max()))
        prods = [a * b for a in x for b in w] + [0]
        dtype = smallest_dtype(min(prods), max(prods))
        policy = {"ternary": "fpgaflow::mul_ternary", "mac": "fpgaflow::mul_int",
                  "shift": f"fpgaflow::mul_shift<{self._shift_bits()}>"}[self.arith]
        return policy, dtype

    def binding(self):
        acc_lo, acc_hi = self.acc_bounds
        acc_bits = self.acc_spec.dtype.bitwidth()
        if self.arith == "xnor":  # the popcount before 2p - MW needs log2(MW)+1 bits more
            acc_bits = max(acc_bits, smallest_dtype(-self.mw, self.mw).bitwidth())
        constants = {"mw": self.mw, "mh": self.mh, "pe": self.pe, "simd": self.simd, "vectors": self.vectors,
                     "nf": self.mh // self.pe, "sf": self.mw // self.simd, "in_bipolar": int(self.in_spec.bipolar),
                     "acc_min": acc_lo, "acc_max": acc_hi}
        types = {"in_t": CType(self.in_spec.ctype()), "out_t": CType(self.out_spec.ctype()),
                 "acc_t": acc_ctype(acc_bits)}
        if self.arith == "xnor":
            types["arith"] = CType("fpgaflow::xnor<{config}>")
        else:
            policy, pdt = self._product()
            lo, hi = (-1, 1) if self.in_spec.bipolar else (self.in_spec.lo, self.in_spec.hi)
            types["arith"] = CType("fpgaflow::mac<{config}>")
            types["product"] = CType(policy)
            types["product_t"] = CType(ap_type(pdt), "int32_t" if pdt.bitwidth() <= 31 else "int64_t")
            types["in_store_t"] = CType(f"ap_int<{smallest_dtype(lo, hi).bitwidth()}>" if lo < 0
                                        else f"ap_uint<{max(1, hi.bit_length())}>", native_int_type(lo, hi))
        arrays = self._weight_arrays()
        if self.is_sparse:
            constants["steps"] = arrays[0].values.shape[1]
        if self.table is not None:
            constants.update(self.table.constants())
            arrays.append(self.table.carray(self.pe))
        function = "fpgaflow::mvau_sparse" if self.is_sparse else "fpgaflow::mvau"
        return Binding(header="fpgaflow/mvau.h", function=function, constants=constants, types=types, arrays=arrays)

    # ---- schedule and resources ----
    def cycles_for(self, pe: int, simd: int) -> int:
        """Cycles per frame at folding (pe, simd)."""
        if self.is_sparse:
            facts = self.__dict__.setdefault("_facts", {})
            if "nnz" not in facts:
                facts["nnz"] = (self.weights != 0).sum(axis=0)
            nnz = facts["nnz"]
            return self.vectors * (self.mw // simd + sparse_steps(nnz, pe, simd))
        return self.vectors * (self.mh // pe) * (self.mw // simd)

    def cycles(self):
        return self.cycles_for(self.pe, self.simd)

    def schedule(self):
        sf, nf = self.mw // self.simd, self.mh // self.pe
        if self.is_sparse:  # read the vector, then each fold's steps (an empty fold still writes once)
            ends = self.sparse_schedule().nf_end
            steps = np.diff(np.concatenate([[0], ends]))
            folds = [((s - 1, (0,), (0,)), (1, (0,), (1,))) if s else ((1, (0,), (1,)),) for s in steps]
            one = phases((sf, (1,), (0,)), *(p for fold in folds for p in fold))
        else:  # the first fold reads the input into the buffer, the others reuse it
            first = [(sf - 1, (1,), (0,)), (1, (1,), (1,))]
            rest = [(sf - 1, (0,), (0,)), (1, (0,), (1,))] * (nf - 1)
            one = phases(*first, *rest)
        return repeat(one, self.vectors)

    def pipeline_depth(self):
        return 4 + (int(np.ceil(np.log2(self.table.count + 1))) if self.table is not None else 0)

    def _weight_bits(self) -> int:
        """Bits of one stored weight (its code, or its shift encoding)."""
        if self.arith == "xnor":
            return 1
        if self.arith == "shift":
            return self._shift_bits() + 2
        return int(self._weight_ctype().hw.split("<")[1].rstrip(">"))

    def weight_memory(self) -> tuple[str, int, int]:
        """(kind, LUT, BRAM18) of the weight memories: see :func:`weight_memory`."""
        wbits = self._weight_bits()
        if self.is_sparse:
            depth = self.cycles() // self.vectors - self.mw // self.simd  # compute steps
            wbits += max(1, (self.mw - 1).bit_length())  # the input index
        else:
            depth = (self.mh // self.pe) * (self.mw // self.simd)
        return weight_memory(depth, self.simd * wbits, self.pe)

    def resources(self):
        """First-order estimate after FINN's MVAU cost model, per arithmetic variant."""
        wbits = self._weight_bits()
        xbits = self.in_spec.bits
        lanes = self.pe * self.simd
        acc_bits = self.acc_spec.dtype.bitwidth()
        dsp = 0
        if self.arith == "xnor":
            lut = lanes * 4 + self.pe * acc_bits * 2  # XNOR + popcount tree, calibrated on BNN-PYNQ LFC (docs/resources.md)
        elif self.arith == "ternary":
            lut = lanes * (xbits + 2) + self.pe * acc_bits * 2
        elif self.arith == "shift":
            lut = lanes * (xbits + 2) * max(1, self._shift_bits()) + self.pe * acc_bits * 2
        elif wbits * xbits > 16:  # wide products go to DSP48 slices
            lut, dsp = self.pe * acc_bits * 2, lanes
        else:
            lut = lanes * wbits * xbits + self.pe * acc_bits * 2
        if self.is_sparse:
            lut += lanes * xbits * max(1, self.mw // 3)  # any-input multiplexers
        _, mem_lut, bram = self.weight_memory()
        lut += mem_lut
        if self.table is not None:
            tbits = self.table.dtype().bitwidth()
            lut += self.pe * tbits * int(np.ceil(np.log2(self.table.count + 1)))
            lut += self.table.values.size * tbits // 64
        return {"lut": int(lut), "ff": int(lut), "dsp": int(dsp), "bram18": int(bram)}

    def describe(self):
        return {**super().describe(), "mw": self.mw, "mh": self.mh, "vectors": self.vectors, "sparse": self.is_sparse,
                "zero_fraction": round(self.zero_fraction, 4), "arith_reason": self.arith_reason,
                "thresholds": self.table.count if self.table is not None else 0,
                "weight_memory": self.weight_memory()[0]}
