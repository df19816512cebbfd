"""Sliding-window generator: streams the im2col vectors of a feature map (NHWC order).

For every output pixel (oy, ox) it emits the window's elements in (ky, kx, c) order, SIMD
channels per token, reading the input through a line buffer of KH rows. Padded positions carry
``pad_code`` (the code of 0.0 for convolutions, the smallest code for max pooling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fpgaflow.ir import IntSpec
from fpgaflow.layers.base import LayerKit, SpecPreserving, StreamShape, phases


@dataclass
class Window:
    """Kernel, stride and padding (top, left, bottom, right) over a C x H x W map."""

    channels: int
    height: int
    width: int
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def out_hw(self) -> tuple[int, int]:
        (kh, kw), (sh, sw), (pt, pl, pb, pr) = self.kernel, self.stride, self.pads
        return (self.height + pt + pb - kh) // sh + 1, (self.width + pl + pr - kw) // sw + 1

    @property
    def pixels(self) -> int:
        oh, ow = self.out_hw
        return oh * ow

    @property
    def window_elems(self) -> int:
        return self.kernel[0] * self.kernel[1] * self.channels

    def im2col(self, x: np.ndarray, pad_code: int) -> np.ndarray:
        """(N, H*W*C) NHWC codes -> (N, pixels * KH*KW*C) windows in (oy, ox, ky, kx, c) order."""
        n = len(x)
        (kh, kw), (sh, sw), (pt, pl, pb, pr) = self.kernel, self.stride, self.pads
        img = np.asarray(x, dtype=np.int64).reshape(n, self.height, self.width, self.channels)
        img = np.pad(img, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=pad_code)
        oh, ow = self.out_hw
        cols = np.empty((n, oh, ow, kh, kw, self.channels), dtype=np.int64)
        for ky in range(kh):
            for kx in range(kw):
                cols[:, :, :, ky, kx, :] = img[:, ky:ky + sh * oh:sh, kx:kx + sw * ow:sw, :]
        return cols.reshape(n, -1)


@dataclass
class SlidingWindow(SpecPreserving, LayerKit):
    """im2col generator for a convolution or pooling window."""

    name: str
    spec: IntSpec
    window: Window
    pad_code: int = 0
    simd: int = 1

    kind = "sliding_window"

    @property
    def pe_simd(self):
        return (1, self.simd)

    channel_order_free = True

    def follow_widths(self, in_widths, reader_width):
        """As wide as the reader reads (else as the producer writes, else every channel), dividing C."""
        self.simd = math.gcd(self.window.channels, reader_width or in_widths[0] or self.window.channels)

    def stream_shape(self):
        w = self.window
        return StreamShape(self.simd, self.simd, w.height * w.width * w.channels, w.pixels * w.window_elems)

    def reference(self, x):
        return self.window.im2col(x, self.pad_code)

    def cycles(self):
        # reads and writes are sequential in this generator
        return self.in_elems // self.simd + self.out_elems // self.simd

    def schedule(self):
        w = self.window
        (kh, kw), (sh, _), (pt, _, _, _) = w.kernel, w.stride, w.pads
        oh, ow = w.out_hw
        cf = w.channels // self.simd
        items, next_row = [], 0
        for oy in range(oh):  # read the rows this output row needs, then write its windows
            need = min(oy * sh - pt + kh, w.height)
            items.append(((need - next_row) * w.width * cf, (1,), (0,)))
            next_row = max(next_row, need)
            items.append((ow * kh * kw * cf, (0,), (1,)))
        items.append(((w.height - next_row) * w.width * cf, (1,), (0,)))
        return phases(*items)

    def pipeline_depth(self):
        """The RTL's: the line buffer read, the output queue, then the next FIFO."""
        return 3

    def resources(self):
        w = self.window
        bits = w.kernel[0] * w.width * w.channels * self.spec.bits
        bram = int(np.ceil(bits / 18432)) if bits > 8192 else 0
        lut = self.simd * self.spec.bits * 4 + (bits // 64 if not bram else 0) + 64
        return {"lut": int(lut), "ff": int(lut), "dsp": 0, "bram18": bram}
