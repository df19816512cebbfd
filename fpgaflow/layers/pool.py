"""Pooling over the windows of a sliding-window generator: per-channel maximum or sum.

Reads, for every output pixel, the ``window_size`` x C window in (position, channel) order, PE
channels per token, and writes the per-channel maximum or sum. Max pooling commutes with a
quantizer of positive scale, so it runs on the integer codes. Sum pooling is the integer part
of average pooling: the division by the window size stays in the scale (or in the thresholds of
the quantizer after it). A global pool reads the feature map directly, as one window of H*W.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec
from fpgaflow.layers.base import ChannelFolded, LayerKit, Phase, StreamShape, phases, repeat

MODES = ("max", "sum")


def window_reduce_schedule(window: int, channels: int, pe: int, pixels: int) -> list[Phase]:
    """The loops of ``window_reduce`` in pool.h (shared with the depthwise vector unit): per pixel,
    one read per (position, channel fold), then one write per channel fold."""
    cf = channels // pe
    return repeat(phases((window * cf, (1,), (0,)), (cf, (0,), (1,))), pixels)


@dataclass
class Pool(ChannelFolded, LayerKit):
    """Per-channel ``mode`` ("max" or "sum") over ``window_size`` positions, for ``pixels`` output pixels."""

    name: str
    in_spec: IntSpec
    channels: int
    window_size: int
    pixels: int
    mode: str = "max"
    pe: int = 1

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"{self.name}: pooling mode {self.mode!r} is not one of {MODES}")
        if self.mode == "sum" and self.in_spec.bipolar:
            raise ValueError(f"{self.name}: sum pooling of bipolar codes is not supported")

    @property
    def kind(self) -> str:
        return f"{self.mode}pool"

    @property
    def channel_order_free(self) -> bool:
        """Max pooling does not care about the channel order (sum pooling keeps it too, but is left alone)."""
        return self.mode == "max"

    @property
    def out_spec(self) -> IntSpec:
        if self.mode == "max":
            return self.in_spec
        return IntSpec(self.in_spec.lo * self.window_size, self.in_spec.hi * self.window_size)

    def stream_shape(self):
        return StreamShape(self.pe, self.pe, self.pixels * self.window_size * self.channels,
                           self.pixels * self.channels)

    def reference(self, x):
        n = len(x)
        windows = np.asarray(x, dtype=np.int64).reshape(n, self.pixels, self.window_size, self.channels)
        out = windows.max(axis=2) if self.mode == "max" else windows.sum(axis=2)
        return out.reshape(n, -1)

    def cycles(self):
        return (self.in_elems + self.out_elems) // self.pe  # window reads, then the results

    def schedule(self):
        return window_reduce_schedule(self.window_size, self.channels, self.pe, self.pixels)

    def pipeline_depth(self):
        """The RTL's: the accumulator word, the output queue, then the next FIFO."""
        return 3

    def resources(self):
        bits = self.out_spec.bits * self.channels
        return {"lut": self.pe * self.out_spec.bits * 2 + bits // 8, "ff": bits + self.pe * self.out_spec.bits,
                "dsp": 0, "bram18": 0}
