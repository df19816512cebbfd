"""Element-wise addition of two streams (a residual connection), with integer alignment.

The two inputs carry codes of scales ``s_a`` and ``s_b`` whose ratio is a power of two; the kit
shifts the coarser one left so both count units of the finer scale, and adds:
``out = (a << shift_a) + (b << shift_b)``, scale ``min(s_a, s_b)``. :class:`AlignedJoin` is what
every such shift-aligned element-wise join shares (the element-wise Max is another).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec
from fpgaflow.layers.base import JoinsTwo, LayerKit, StreamShape, stream_schedule


@dataclass
class AlignedJoin(JoinsTwo, LayerKit):
    """``op(a << shift_a, b << shift_b)`` element by element over ``elems`` elements, ``pe`` per token."""

    name: str
    a_spec: IntSpec
    b_spec: IntSpec
    shift_a: int
    shift_b: int
    elems: int
    pe: int = 1

    def __post_init__(self):
        if self.a_spec.bipolar or self.b_spec.bipolar:
            raise ValueError(f"{self.name}: a {self.kind} of bipolar streams is not supported")

    @staticmethod
    def combine(a, b):
        """The element-wise op on aligned codes; non-decreasing in both arguments."""
        raise NotImplementedError

    @property
    def out_spec(self) -> IntSpec:
        """The op of the aligned lower bounds and of the upper bounds (the op is monotone)."""
        lo = self.combine(self.a_spec.lo << self.shift_a, self.b_spec.lo << self.shift_b)
        hi = self.combine(self.a_spec.hi << self.shift_a, self.b_spec.hi << self.shift_b)
        return IntSpec(int(lo), int(hi))

    def reference(self, a, b):
        return self.combine(np.asarray(a, dtype=np.int64) << self.shift_a, np.asarray(b, dtype=np.int64) << self.shift_b)

    @property
    def pe_simd(self):
        return (self.pe, 1)

    def follow_widths(self, in_widths, reader_width):
        """As wide as the producers write, dividing the elements."""
        self.pe = math.gcd(self.elems, in_widths[0] or 1, in_widths[1] or 1)

    def stream_shape(self):
        return StreamShape(self.pe, self.pe, self.elems, self.elems)

    def cycles(self):
        return self.elems // self.pe

    def schedule(self):
        return stream_schedule(self.elems // self.pe, (1, 1), (1,))

    def pipeline_depth(self):
        return 2

    #: (LUT, FF) per output bit and lane.
    cost_per_bit = (1, 2)

    def resources(self):
        """First-order estimate: ``cost_per_bit`` per output bit and lane."""
        bits = self.out_spec.bits
        return {"lut": self.pe * bits * self.cost_per_bit[0], "ff": self.pe * bits * self.cost_per_bit[1], "dsp": 0,
                "bram18": 0}


class AddStreams(AlignedJoin):
    """``(a << shift_a) + (b << shift_b)`` over ``elems`` elements, ``pe`` per token."""

    kind = "add"
    combine = staticmethod(np.add)
