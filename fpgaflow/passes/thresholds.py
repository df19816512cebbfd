"""Exact integer thresholds for the float ops between a MatMul and the next quantizer.

The accumulator ``acc`` of channel ``c`` reaches the reference as the float32 value
``float32(acc * value_scale[c])`` (the MatMul output); the reference then runs its float ops
(bias, BatchNorm, scaling, ReLU, the quantizer). Those ops are evaluated here with the
reference's own arithmetic (:class:`FloatGraph`) on candidate accumulators, and a binary search
over the whole accumulator range finds, per channel and output level, the smallest accumulator
that reaches the level. Channels whose activation falls as the accumulator rises are negated
(the caller flips their weights) so that every comparison is ``acc >= T``.
"""

from __future__ import annotations

import logging

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.frontend.float_exec import FloatGraph
from fpgaflow.ir import IntSpec
from fpgaflow.layers.thresholding import ThresholdTable

log = logging.getLogger(__name__)


class ActivationChain:
    """accumulator -> output code, through the reference's float ops."""

    def __init__(self, graph: FloatGraph, value_scale: np.ndarray, out_scale: float, out_spec: IntSpec, where: str):
        self.graph = graph
        self.value_scale = np.asarray(value_scale, dtype=np.float64)
        self.out_scale = float(out_scale)
        self.out_spec = out_spec
        self.where = where

    def codes(self, acc: np.ndarray) -> np.ndarray:
        """Output codes for integer accumulators of shape (K, C)."""
        value = (acc.astype(np.float64) * self.value_scale).astype(np.float32)
        rank = len(self.graph.shapes[self.graph.input_name])
        value = value.reshape(acc.shape + (1,) * (rank - 2))  # (K, C, 1, 1) for feature maps
        out = self.graph(value).reshape(acc.shape).astype(np.float64) / self.out_scale
        codes = np.rint(out)
        if not np.allclose(codes, out, rtol=0, atol=1e-3):
            raise UserError(f"{self.where}: the activation output is not a multiple of its quantizer scale; "
                            "only scaling by constants may follow the quantizer")
        return codes.astype(np.int64)


def derive_thresholds(chain: ActivationChain, acc_lo: np.ndarray, acc_hi: np.ndarray,
                      samples: int = 2048, seed: int = 0) -> tuple[ThresholdTable, np.ndarray]:
    """Thresholds (on possibly negated accumulators) and the per-channel negation mask.

    ``acc_lo``/``acc_hi`` bound each channel's accumulator. The result is checked against the
    chain on every threshold edge and on ``samples`` random accumulators per channel.
    """
    acc_lo = np.asarray(acc_lo, dtype=np.int64)
    acc_hi = np.asarray(acc_hi, dtype=np.int64)
    spec = chain.out_spec
    step = 2 if spec.bipolar else 1
    levels = np.arange(spec.lo + step, spec.hi + 1, step, dtype=np.int64)  # code >= level <=> count
    ends = chain.codes(np.stack([acc_lo, acc_hi]))
    negate = ends[0] > ends[1]
    # search variable a: acc = a, or acc = -a for negated channels
    a_lo = np.where(negate, -acc_hi, acc_lo)
    a_hi = np.where(negate, -acc_lo, acc_hi)
    sign = np.where(negate, -1, 1)

    def codes_of(a):
        return chain.codes(a * sign[None, :])

    lo = np.broadcast_to(a_lo, (len(levels), len(a_lo))).copy()
    hi = np.broadcast_to(a_hi + 1, lo.shape).copy()
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        reached = codes_of(mid) >= levels[:, None]
        active = lo < hi
        hi = np.where(active & reached, mid, hi)
        lo = np.where(active & ~reached, mid + 1, lo)
    table = ThresholdTable(np.ascontiguousarray(lo.T), spec)
    _verify(table, codes_of, a_lo, a_hi, samples, seed, chain.where)
    return table, negate


def _verify(table, codes_of, a_lo, a_hi, samples, seed, where):
    rng = np.random.default_rng(seed)
    span = (a_hi - a_lo + 1).astype(np.float64)
    probes = [a_lo + np.floor(rng.random((samples, len(a_lo))) * span).astype(np.int64)]
    edges = table.values.T  # (NT, C)
    probes += [np.clip(edges, a_lo, a_hi), np.clip(edges - 1, a_lo, a_hi), a_lo[None, :], a_hi[None, :]]
    probe = np.concatenate(probes)
    got = table.apply(probe)
    want = codes_of(probe)
    bad = np.argwhere(got != want)
    if len(bad):
        k, c = bad[0]
        raise UserError(f"{where}: the activation is not monotonic in the accumulator (channel {c}, "
                        f"accumulator {probe[k, c]}); it cannot be turned into thresholds")
