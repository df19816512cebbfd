"""RTL writers of the window kits: the sliding-window generator and max/sum pooling.

Sliding window (:class:`fpgaflow.layers.sliding_window.SlidingWindow`): a line buffer of ``rows``
input rows (one RAM of ``rows * W * CF`` tokens, row ``r`` of the frame in slot ``r % rows``, so the
fill address is one counter wrapping around the buffer), filled by a *fill* cursor from the input
and read by an *emit* cursor that walks (oy, ox, ky, kx, channel fold) with a registered read.
Which cursor may move in a cycle is decided in one place (the template's "schedule" wires), today
the kit's sequential schedule: fill the rows an output row needs, then emit its windows. Overlapped
filling and emitting (FINN's RTL sliding window) is a change of those two wires and of ``rows``.

Pooling (:class:`fpgaflow.layers.pool.Pool`): per output pixel, ``window_size * CF`` reads fold each
token into the accumulator of its channel fold (the first position starts it), then ``CF`` writes
send the accumulators, as ``window_reduce`` in ``hls_templates/fpgaflow/pool.h``.

Both run one schedule iteration per cycle; a written token is readable downstream two cycles after
its iteration (``pipeline_depth() == 2``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from fpgaflow.ir import IntSpec
from fpgaflow.rtl.registry import RtlModule, rtl_writer
from fpgaflow.rtl.thresholding import counter_bits, queue_depth, render, stream_element

log = logging.getLogger(__name__)


def bus_code(code: int, spec: IntSpec) -> int:
    """One element's bits on the bus: ``1`` for +1 and ``0`` otherwise on bipolar streams (so pad code 0,
    the lowering's "smallest" bipolar pad, is -1 as in the HLS kernel), two's complement else."""
    if spec.bipolar:
        return int(code > 0)
    return int(code) & ((1 << spec.bits) - 1)


def line_buffer_rows(layer) -> int:
    """Rows the line buffer holds: the kernel height for the sequential schedule."""
    return layer.window.kernel[0]


def window_context(layer) -> dict:
    """The sliding-window template's parameters: geometry, counter widths and the pad token."""
    w = layer.window
    (kh, kw), (sh, sw), (pt, pl, _, _) = w.kernel, w.stride, w.pads
    oh, ow = w.out_hw
    cf = w.channels // layer.simd
    rows = line_buffer_rows(layer)
    bits = layer.spec.bits
    pad = bus_code(layer.pad_code, layer.spec)
    g = {"c": w.channels, "h": w.height, "w": w.width, "kh": kh, "kw": kw, "sh": sh, "sw": sw, "pt": pt, "pl": pl,
         "oh": oh, "ow": ow, "simd": layer.simd, "cf": cf, "bits": bits, "tw": layer.simd * bits, "rows": rows,
         "rowlen": w.width * cf, "words": rows * w.width * cf,
         "pad_word": sum(pad << (i * bits) for i in range(layer.simd)),
         "base0": (-pt) % rows, "sh_mod": sh % rows}
    g.update(aw=counter_bits(g["words"]), slw=counter_bits(rows), cw=counter_bits(cf), kxw=counter_bits(kw),
             kyw=counter_bits(kh), oxw=counter_bits(ow), oyw=counter_bits(oh), fcw=counter_bits(g["rowlen"]),
             yw=max((oh - 1) * sh + kh, w.height + pt).bit_length(),
             xw=max((ow - 1) * sw + kw, w.width + pl).bit_length())
    return g


@rtl_writer("sliding_window")
def write_sliding_window(layer, rtl_dir: Path) -> RtlModule:
    """Write the sliding-window generator ``layer`` as ``rtl_dir/<name>.v``."""
    rtl_dir = Path(rtl_dir)
    g = window_context(layer)
    log.debug("%s: line buffer of %d rows x %d tokens", layer.name, g["rows"], g["rowlen"])
    verilog = render("sliding_window.v.j2", rtl_dir / f"{layer.name}.v", name=layer.name, g=g,
                     depth=queue_depth(layer))
    return RtlModule(layer.name, [verilog])


def pool_context(layer) -> dict:
    """The pool template's parameters: mode, folding and element widths (in and accumulated)."""
    x = stream_element(layer.in_spec)
    ob = layer.out_spec.bits
    return {"mode": layer.mode, "pe": layer.pe, "cf": layer.channels // layer.pe, "window": layer.window_size,
            "pixels": layer.pixels, "channels": layer.channels, "ib": x["bits"], "ob": ob, "signed": x["signed"],
            "cw": counter_bits(layer.channels // layer.pe), "kw": counter_bits(layer.window_size)}


@rtl_writer("maxpool", "sumpool")
def write_pool(layer, rtl_dir: Path) -> RtlModule:
    """Write the max or sum pooling kit ``layer`` as ``rtl_dir/<name>.v``."""
    rtl_dir = Path(rtl_dir)
    verilog = render("pool.v.j2", rtl_dir / f"{layer.name}.v", name=layer.name, g=pool_context(layer),
                     depth=queue_depth(layer))
    return RtlModule(layer.name, [verilog])
