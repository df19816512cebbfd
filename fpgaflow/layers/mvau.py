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

from fpgaflow.ir import IntSpec, smallest_dtype
from fpgaflow.layers.base import LayerKit, StreamShape, weight_dim
from fpgaflow.layers.memory import bram18_blocks, rom_cost, rom_style
from fpgaflow.layers.mvau_arith import (ARITHMETIC, DENSE, MAX_XNOR_SIMD, SPARSE, Arithmetic, DenseStorage,
                                        SparseSchedule, arith_options, arranged_weights, choose_arith,
                                        sparse_schedule, vector_schedule)
from fpgaflow.layers.resource_model import mvau_terms, structural
from fpgaflow.layers.thresholding import ThresholdTable, threshold_rom_cost

__all__ = ["ARITH_KINDS", "DEFAULT_SPARSE_THRESHOLD", "MAX_XNOR_SIMD", "MatrixVectorUnit", "accumulator_bounds",
           "arith_options", "choose_arith", "weight_memory"]

ARITH_KINDS = tuple(ARITHMETIC)
#: Fraction of zero weights from which a layer skips zeros by default. Below it the any-input
#: multiplexers of a sparse layer cost more LUTs than the cycles they save are worth.
DEFAULT_SPARSE_THRESHOLD = 0.75


def accumulator_bounds(weights: np.ndarray, spec: IntSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel [min, max] of sum_i x_i * W[i, c] for x_i in [spec.lo, spec.hi]."""
    lo_prod = np.minimum(weights * spec.lo, weights * spec.hi)
    hi_prod = np.maximum(weights * spec.lo, weights * spec.hi)
    return lo_prod.sum(axis=0), hi_prod.sum(axis=0)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def weight_memory(depth: int, word_bits: int, pe: int) -> tuple[str, int, int]:
    """Where the ``pe`` weight ROMs of ``depth`` words of ``word_bits`` live (``"logic"`` or
    ``"block"``, :func:`fpgaflow.layers.memory.rom_style`) and their LUT and BRAM18 cost."""
    cost = rom_cost(depth, word_bits, pe)
    return rom_style(depth, word_bits), cost["lut"], cost["bram18"]


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
    mw = weight_dim(0, "Inputs (rows of W).")
    mh = weight_dim(1, "Outputs (columns of W).")

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

    # ---- strategies ----
    @property
    def arithmetic(self) -> Arithmetic:
        """The arithmetic variant's strategy object."""
        return ARITHMETIC[self.arith]

    @property
    def storage(self) -> DenseStorage:
        """The weight storage strategy: dense, or zero-free work lists."""
        return SPARSE if self.is_sparse else DENSE

    # ---- folding ----
    def check_folding(self, pe: int, simd: int) -> str | None:
        if self.mh % pe:
            return f"PE={pe} does not divide MH={self.mh}"
        if self.mw % simd:
            return f"SIMD={simd} does not divide MW={self.mw}"
        if self.arith == "xnor" and simd > MAX_XNOR_SIMD:
            return f"SIMD={simd} exceeds {MAX_XNOR_SIMD} for an XNOR layer"
        return None

    def fold_options(self):
        return [(pe, simd) for pe in _divisors(self.mh) for simd in _divisors(self.mw)
                if self.check_folding(pe, simd) is None]

    def set_folding(self, pe, simd):
        self.pe, self.simd = pe, simd

    def read_width(self):
        return self.simd

    def channel_order(self):
        """Sparse layers: output channels busiest first, so the PEs of a fold have similar work."""
        if not self.is_sparse:
            return None
        return np.argsort(-(self.weights != 0).sum(axis=0), kind="stable")

    def permute_outputs(self, order):
        self.weights = self.weights[:, order]
        if self.table is not None:
            self.table.values = self.table.values[order]

    def absorb_input_order(self, order, channels):
        rows = self.weights.reshape(-1, channels, self.mh)  # (kernel position or pixel, channel) rows
        self.weights = rows[:, order, :].reshape(self.mw, self.mh)
        return True

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

    # ---- weights as stored ----
    def encode_weights(self, w: np.ndarray) -> np.ndarray:
        """Weight codes as the arithmetic stores them (shift: nonzero | negative | exponent)."""
        return self.arithmetic.encode(w) if self.arith == "shift" else w

    def constant_code_bits(self) -> int:
        """Bits of the stored weight code that are the same in every weight of a dense layer (the
        shift code's non-zero flag when no weight is zero); 0 for a sparse layer, whose padding
        slots hold the zero code."""
        if self.is_sparse:
            return 0
        wb = self.arithmetic.weight_bits(self.weights)
        codes = (self.weights > 0) if self.arith == "xnor" else self.encode_weights(self.weights)
        codes = np.asarray(codes, dtype=np.int64) & ((1 << wb) - 1)
        return sum(1 for b in range(wb) if len(np.unique((codes >> b) & 1)) == 1)

    def arranged_weights(self) -> np.ndarray:
        """Weights as [PE][NF*SF][SIMD]: weights[pe][nf*SF+sf][s] = W[sf*SIMD+s, nf*PE+pe]."""
        return arranged_weights(self.weights, self.pe, self.simd)

    def sparse_schedule(self) -> SparseSchedule:
        """The compressed per-PE schedule of non-zero weights (channel c = nf * PE + pe)."""
        return sparse_schedule(self.weights, self.pe, self.simd)

    def nonzeros_per_channel(self) -> np.ndarray:
        """Non-zero weights of each output channel."""
        facts = self.__dict__.setdefault("_facts", {})
        if "nnz" not in facts:
            facts["nnz"] = (self.weights != 0).sum(axis=0)
        return facts["nnz"]

    # ---- schedule and resources ----
    def cycles_for(self, pe: int, simd: int) -> int:
        """Cycles per frame at folding (pe, simd)."""
        return self.vectors * self.storage.cycles(self, pe, simd)

    def cycles(self):
        return self.cycles_for(self.pe, self.simd)

    def schedule(self):
        return vector_schedule(self.storage.schedule(self), self.vectors)

    def pipeline_depth(self):
        """The RTL's (fpgaflow/rtl/templates/mvau*.v.j2): the ROM read, the products into the
        accumulators, thresholds into the output queue, then the next FIFO (measured with Verilator,
        benchmarks/rtl_timing.py); the threshold search is in the third stage, not a stage per level."""
        return 4

    def weight_memory(self) -> tuple[str, int, int]:
        """(kind, LUT, BRAM18) of the weight memories: see :func:`weight_memory`."""
        depth, word_bits = self.storage.memory_shape(self, self.arithmetic.weight_bits(self.weights))
        return weight_memory(depth, word_bits, self.pe)

    def memory_resources(self) -> dict[str, int]:
        """LUT, FF and BRAM18 of the weight ROMs and, with a table, the threshold ROMs."""
        wb = self.arithmetic.weight_bits(self.weights)
        depth, word_bits = self.storage.memory_shape(self, wb)
        # a logic ROM's LUTs and FFs are terms of the fitted model (resource_model.mvau_terms); a
        # block ROM spends RAMB18s only on the code bits that vary (synthesis drops constant ones)
        used = self.storage.memory_shape(self, wb - self.constant_code_bits())[1]
        bram18 = self.pe * bram18_blocks(depth, used) if rom_style(depth, word_bits) == "block" else 0
        mem = {"lut": 0, "ff": 0, "bram18": bram18}
        if self.table is not None:
            thr = threshold_rom_cost(self.table, self.pe)
            mem = {k: mem[k] + thr[k] for k in mem}
        return mem

    def resources(self):
        """The ROMs plus the fitted structural model (fpgaflow/layers/resource_model.py); DSP48s for
        the products :meth:`Mac.uses_dsp` sends there."""
        mem = self.memory_resources()
        est = structural(mvau_terms(self))
        dsp = self.pe * self.simd if self.uses_dsp() else 0
        return {"lut": est["lut"] + mem["lut"], "ff": est["ff"] + mem["ff"], "dsp": dsp, "bram18": mem["bram18"]}

    def uses_dsp(self) -> bool:
        """Whether each lane's product is a DSP48 (:meth:`Mac.uses_dsp`: mac products over 16 bits)."""
        return self.arith == "mac" and self.arithmetic.uses_dsp(self.arithmetic.weight_bits(self.weights),
                                                                self.in_spec.bits)

    def describe(self):
        return {**super().describe(), "mw": self.mw, "mh": self.mh, "vectors": self.vectors, "sparse": self.is_sparse,
                "zero_fraction": round(self.zero_fraction, 4), "arith_reason": self.arith_reason,
                "thresholds": self.table.count if self.table is not None else 0,
                "weight_memory": self.weight_memory()[0]}
