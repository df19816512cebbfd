"""Multi-threshold activation: integer accumulators to quantized activation codes.

Channel ``c`` outputs ``out_lo + step * #{k : acc >= T[c, k]}``; thresholds are sorted per
channel, so the count is found by binary search (log2 comparators per output in hardware).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec, smallest_dtype
from fpgaflow.layers.base import ChannelFolded, LayerKit, StreamShape, stream_schedule
from fpgaflow.layers.memory import rom_cost
from fpgaflow.layers.resource_model import structural, threshold_bits, thresholding_terms


@dataclass
class ThresholdTable:
    """Per-channel sorted integer thresholds and the code each count maps to."""

    values: np.ndarray  # (C, NT) int64, non-decreasing along axis 1
    out_spec: IntSpec

    @property
    def step(self) -> int:
        return 2 if self.out_spec.bipolar else 1

    @property
    def count(self) -> int:
        return self.values.shape[1]

    def apply(self, acc: np.ndarray) -> np.ndarray:
        """Codes for accumulators ``acc`` of shape (N, C)."""
        counts = np.zeros(acc.shape, dtype=np.int64)
        for k in range(self.count):
            counts += acc >= self.values[:, k][None, :]
        return self.out_spec.lo + self.step * counts

    def dtype(self):
        return smallest_dtype(int(self.values.min()), int(self.values.max()))


def threshold_rom_cost(table: ThresholdTable, pe: int) -> dict[str, int]:
    """LUT, FF and BRAM18 of the ``pe`` threshold ROMs of ``table`` (a word of the thresholds of a
    channel; channels c = nf * PE + pe), as the RTL places them (:func:`fpgaflow.layers.memory.rom_style`).
    Only BRAM18 is counted here: sorted thresholds are far from random words, so the LUTs and FFs of
    a logic threshold ROM are terms of the fitted model (``threshold_terms``)."""
    cost = rom_cost(table.values.shape[0] // pe, table.count * threshold_bits(table), pe)
    return {"lut": 0, "ff": 0, "bram18": cost["bram18"]}


@dataclass
class Thresholding(ChannelFolded, LayerKit):
    """A standalone multi-threshold layer reading accumulators, PE channels per token, for
    ``pixels`` pixels of a feature map (1 for a vector)."""

    name: str
    in_spec: IntSpec
    table: ThresholdTable
    pe: int = 1
    pixels: int = 1

    kind = "thresholding"

    @property
    def out_spec(self) -> IntSpec:
        return self.table.out_spec

    @property
    def channels(self) -> int:
        return self.table.values.shape[0]

    def stream_shape(self):
        elems = self.pixels * self.channels
        return StreamShape(self.pe, self.pe, elems, elems)

    def reference(self, x):
        n = len(x)
        acc = np.asarray(x, dtype=np.int64).reshape(n * self.pixels, self.channels)
        return self.table.apply(acc).reshape(n, -1)

    def cycles(self):
        return self.in_elems // self.pe

    def schedule(self):
        return stream_schedule(self.in_elems // self.pe, (1,), (1,))

    def pipeline_depth(self):
        """The RTL's (fpgaflow/rtl/templates/thresholding.v.j2): the token and its thresholds, the
        search into the output queue, then the next FIFO."""
        return 3

    def memory_resources(self) -> dict[str, int]:
        """LUT, FF and BRAM18 of the threshold ROMs (one per PE, a word of all thresholds per channel)."""
        return threshold_rom_cost(self.table, self.pe)

    def resources(self):
        """The threshold ROMs plus the fitted structural model (fpgaflow/layers/resource_model.py)."""
        mem = self.memory_resources()
        est = structural(thresholding_terms(self))
        return {"lut": est["lut"] + mem["lut"], "ff": est["ff"] + mem["ff"], "dsp": 0, "bram18": mem["bram18"]}
