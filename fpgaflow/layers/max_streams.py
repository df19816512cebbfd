"""Element-wise maximum of two streams (ONNX ``Max`` of two quantized branches), with integer alignment.

As for the residual add, the inputs' scales differ by a power of two: both are shifted to the finer
scale, where the maximum of the codes is the maximum of the values (a positive scale keeps order):
``out = max(a << shift_a, b << shift_b)``, scale ``min(s_a, s_b)``.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.layers.add import AlignedJoin


class MaxStreams(AlignedJoin):
    """``max(a << shift_a, b << shift_b)`` over ``elems`` elements, ``pe`` per token."""

    kind = "max"
    combine = staticmethod(np.maximum)
    cost_per_bit = (2, 1)  # a comparator and a select per bit; the result registered
