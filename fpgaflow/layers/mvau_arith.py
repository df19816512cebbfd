"""The matrix-vector unit's strategies: how it multiplies (arithmetic) and how it stores weights.

An arithmetic variant owns its weight encoding, the bits of a stored weight, the exactness rule
that admits it and whether it needs DSPs (LUT and FF: fpgaflow/layers/resource_model.py); a
storage strategy owns the weight memory layout, the loop schedule and the cycles. The kit
(:class:`fpgaflow.layers.mvau.MatrixVectorUnit`) combines one of each; the backends read the same
objects to write their code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec, smallest_dtype
from fpgaflow.layers.base import Phase, phases, repeat

#: XNOR words are packed into at most 64 bits per (PE, tile).
MAX_XNOR_SIMD = 64


def _is_pow2(values: np.ndarray) -> bool:
    return bool(np.all((values & (values - 1)) == 0))


def _nonzero_magnitudes(weights: np.ndarray) -> np.ndarray:
    return np.abs(weights[weights != 0])


def code_bits(lo: int, hi: int) -> int:
    """Bits of the narrowest integer type holding [min(lo, 0), max(hi, 0)]."""
    return smallest_dtype(min(lo, 0), max(hi, 0)).bitwidth()


class Arithmetic:
    """How a matrix-vector unit multiplies: one instance per variant in :data:`ARITHMETIC`."""

    name = ""
    #: Why this variant computes a layer exactly, for the report.
    reason_text = ""

    def why_not(self, weights: np.ndarray, in_spec: IntSpec, weight_spec: IntSpec) -> str | None:
        """None if this variant computes ``weights`` on ``in_spec`` inputs exactly, else why not."""
        return None

    def reason(self, weights: np.ndarray) -> str:
        """The report's reason for choosing this variant."""
        return self.reason_text

    def encode(self, weights: np.ndarray) -> np.ndarray:
        """Weight codes as this variant stores them."""
        return weights

    def stored_range(self, weights: np.ndarray) -> tuple[int, int]:
        """[lo, hi] of a stored (encoded) weight, zero included."""
        return min(int(weights.min()), 0), max(int(weights.max()), 0)

    def weight_bits(self, weights: np.ndarray) -> int:
        """Bits of one stored weight."""
        return code_bits(*self.stored_range(weights))


class Xnor(Arithmetic):
    """Bipolar weights and inputs: XNOR-popcount on packed SIMD-bit words."""

    name = "xnor"
    reason_text = "bipolar weights and inputs: XNOR-popcount"

    def why_not(self, weights, in_spec, weight_spec):
        return None if in_spec.bipolar and weight_spec.bipolar else "needs bipolar (+-1) weights and inputs"

    def weight_bits(self, weights):
        return 1


    @staticmethod
    def pack(arranged: np.ndarray) -> np.ndarray:
        """[PE][TILES][SIMD] +-1 weights -> [PE][TILES] words, bit s = (weight s is +1)."""
        bits = (arranged > 0).astype(np.uint64)
        return (bits << np.arange(arranged.shape[-1], dtype=np.uint64)).sum(axis=-1, dtype=np.uint64)


class Ternary(Arithmetic):
    """Weights in {-1, 0, +1}: adds and subtracts only."""

    name = "ternary"
    reason_text = "weights in {-1, 0, +1}: adds and subtracts only"

    def why_not(self, weights, in_spec, weight_spec):
        return None if np.all(_nonzero_magnitudes(weights) <= 1) else "needs weights in {-1, 0, +1}"


class Shift(Arithmetic):
    """Every non-zero weight is +-2^k: stored as (non-zero, negative, k), shifts and adds."""

    name = "shift"

    def why_not(self, weights, in_spec, weight_spec):
        return None if _is_pow2(_nonzero_magnitudes(weights)) else "needs every non-zero weight to be a power of two"

    def reason(self, weights):
        k = int(np.log2(_nonzero_magnitudes(weights).max()))
        return f"non-zero weights are +-2^k, k <= {k}: shifts and adds, no multiplier"

    @staticmethod
    def exponent_bits(weights: np.ndarray) -> int:
        """Bits of the exponent k."""
        nz = _nonzero_magnitudes(weights)
        return max(1, int(np.log2(nz.max())).bit_length()) if nz.size else 1

    def encode(self, weights):
        eb = self.exponent_bits(weights)
        mag = np.abs(weights)
        exp = np.where(mag > 0, np.log2(np.maximum(mag, 1)).astype(np.int64), 0)
        return np.where(weights != 0, (1 << (eb + 1)) | ((weights < 0).astype(np.int64) << eb) | exp, 0)

    def stored_range(self, weights):
        return 0, (1 << self.weight_bits(weights)) - 1

    def weight_bits(self, weights):
        return self.exponent_bits(weights) + 2


class Mac(Arithmetic):
    """General integer weights: multiply-accumulate (DSP48 slices for wide products)."""

    name = "mac"
    reason_text = "general integer weights: multiply-accumulate"

    @staticmethod
    def uses_dsp(wbits: int, xbits: int) -> bool:
        """Products of more than 16 weight x input bits go to DSP48 slices, narrower ones to LUTs
        (the RTL writes those as shifted adds, so synthesis cannot map them to DSPs either)."""
        return wbits * xbits > 16


#: The arithmetic variants, cheapest first: the first exact one is chosen.
ARITHMETIC: dict[str, Arithmetic] = {a.name: a for a in (Xnor(), Ternary(), Shift(), Mac())}


def arith_options(weights: np.ndarray, in_spec: IntSpec, weight_spec: IntSpec) -> dict[str, str | None]:
    """For each arithmetic kind: None if it computes this layer exactly, else why not."""
    return {name: a.why_not(weights, in_spec, weight_spec) for name, a in ARITHMETIC.items()}


def choose_arith(weights: np.ndarray, in_spec: IntSpec, weight_spec: IntSpec) -> tuple[str, str]:
    """The cheapest exact arithmetic for these weights, and why."""
    for name, arith in ARITHMETIC.items():
        if arith.why_not(weights, in_spec, weight_spec) is None:
            return name, arith.reason(weights)
    raise AssertionError("mac is always exact")


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


def arranged_weights(weights: np.ndarray, pe: int, simd: int) -> np.ndarray:
    """Weights as [PE][NF*SF][SIMD]: out[pe][nf*SF+sf][s] = W[sf*SIMD+s, nf*PE+pe]."""
    mw, mh = weights.shape
    sf, nf = mw // simd, mh // pe
    return weights.reshape(sf, simd, nf, pe).transpose(3, 2, 0, 1).reshape(pe, nf * sf, simd)


def sparse_schedule(weights: np.ndarray, pe: int, simd: int) -> SparseSchedule:
    """The compressed per-PE schedule of non-zero weights (channel c = nf * PE + pe)."""
    mh = weights.shape[1]
    nf = mh // pe
    nnz = (weights != 0).sum(axis=0)
    steps = (-(-nnz // simd)).reshape(nf, pe).max(axis=1)
    index = np.zeros((pe, max(int(steps.sum()), 1), simd), dtype=np.int64)
    weight = np.zeros_like(index)
    start = 0
    for f in range(nf):
        for p in range(pe):
            rows = np.flatnonzero(weights[:, f * pe + p])
            slots = slice(start * simd, start * simd + len(rows))
            index[p].reshape(-1)[slots] = rows
            weight[p].reshape(-1)[slots] = weights[rows, f * pe + p]
        start += int(steps[f])
    return SparseSchedule(index, weight, np.cumsum(steps))


def sparse_steps(nnz: np.ndarray, pe: int, simd: int) -> int:
    """Total compute steps of a sparse layer: per neuron fold, the busiest PE's ceil(nnz/SIMD)."""
    per_channel = -(-nnz // simd)
    return int(np.maximum(per_channel.reshape(-1, pe).max(axis=1), 1).sum())


def index_bits(mw: int) -> int:
    """Bits of a sparse layer's input index."""
    return max(1, (mw - 1).bit_length())


class DenseStorage:
    """Every weight stored, [PE][NF*SF] words of SIMD weights; the input vector is kept for the folds."""

    sparse = False

    def cycles(self, kit, pe: int, simd: int) -> int:
        """Cycles per input vector."""
        return (kit.mh // pe) * (kit.mw // simd)

    def schedule(self, kit) -> list[Phase]:
        """One vector: the first fold reads the input into the buffer, the others reuse it."""
        sf, nf = kit.mw // kit.simd, kit.mh // kit.pe
        return phases((sf - 1, (1,), (0,)), (1, (1,), (1,)), *[(sf - 1, (0,), (0,)), (1, (0,), (1,))] * (nf - 1))

    def memory_shape(self, kit, wbits: int) -> tuple[int, int]:
        """(words per PE, bits per word) of the weight memory."""
        return (kit.mh // kit.pe) * (kit.mw // kit.simd), kit.simd * wbits


class SparseStorage(DenseStorage):
    """Only the non-zeros, as per-PE (input index, weight) work lists (:func:`sparse_schedule`)."""

    sparse = True

    def cycles(self, kit, pe, simd):
        return kit.mw // simd + sparse_steps(kit.nonzeros_per_channel(), pe, simd)

    def schedule(self, kit):
        """Read the vector, then each fold's steps (an empty fold still writes once)."""
        sf = kit.mw // kit.simd
        steps = np.diff(np.concatenate([[0], kit.sparse_schedule().nf_end]))
        folds = [((s - 1, (0,), (0,)), (1, (0,), (1,))) if s else ((1, (0,), (1,)),) for s in steps]
        return phases((sf, (1,), (0,)), *(p for fold in folds for p in fold))

    def memory_shape(self, kit, wbits):
        depth = self.cycles(kit, kit.pe, kit.simd) - kit.mw // kit.simd  # compute steps
        return depth, kit.simd * (wbits + index_bits(kit.mw))


DENSE, SPARSE = DenseStorage(), SparseStorage()


def vector_schedule(one: list[Phase], vectors: int) -> list[Phase]:
    """A vector's schedule repeated for every input vector of a frame."""
    return repeat(one, vectors)
