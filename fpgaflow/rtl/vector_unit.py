"""RTL writer of the vector unit (depthwise convolution): MAC or ternary products, optional fused thresholds.

The module runs the kit's schedule (:func:`fpgaflow.layers.pool.window_reduce_schedule`): per output
pixel K*CF read iterations, one per cycle while the input has a token, then CF write iterations,
one per cycle while the output has room. Three register stages (the input token and its weights;
the products into the accumulator memory, one word of PE accumulators per channel fold; the
thresholds into the output queue) make a token written in cycle t readable after the next FIFO
at t + 4 (``pipeline_depth()``). Weight ROM ``pe`` holds at word ``k*CF + cf`` the weight of window
position k of channel ``cf*PE + pe`` (logic or block RAM as
:func:`fpgaflow.layers.memory.rom_style` decides). MAC products are shifted adds in LUTs (the kit's estimate
counts no DSP).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fpgaflow.layers.memory import rom_style
from fpgaflow.rtl.registry import RtlModule, rtl_writer
from fpgaflow.rtl.thresholding import (counter_bits, pack_words, queue_depth, render, signed_bits, stream_element,
                                       threshold_context, write_mem, write_threshold_roms)


def weight_bits(weights: np.ndarray) -> tuple[int, bool]:
    """Bits of a stored weight and whether it is two's complement (any weight negative)."""
    lo, hi = int(weights.min()), int(weights.max())
    if lo < 0:
        return signed_bits(lo, hi), True
    return max(1, hi.bit_length()), False


def write_vvau_weight_roms(layer, wb: int, rtl_dir: Path) -> list[Path]:
    """One ROM per PE, word ``k*CF + cf`` = the weight of position k of channel ``cf*PE + pe``."""
    cf = layer.channels // layer.pe
    arranged = layer.weights.reshape(layer.window_size * cf, layer.pe)  # [k*CF + cf][pe]
    return [write_mem(Path(rtl_dir) / f"{layer.name}_weights_{p}.mem", pack_words(arranged[:, p:p + 1], wb), wb)
            for p in range(layer.pe)]


@rtl_writer("vvau")
def write_vector_unit(layer, rtl_dir: Path) -> RtlModule:
    """Write the vector unit ``layer`` as ``rtl_dir/<name>.v`` with its weight (and threshold) ROMs."""
    rtl_dir = Path(rtl_dir)
    aw = signed_bits(layer.acc_spec.lo, layer.acc_spec.hi)
    wb, w_signed = weight_bits(layer.weights)
    files = write_vvau_weight_roms(layer, wb, rtl_dir)
    thr = None
    if layer.table is not None:
        thr = threshold_context(layer.table, layer.pe, aw)
        files += write_threshold_roms(layer.name, layer.table, layer.pe, rtl_dir)
    cf = layer.channels // layer.pe
    verilog = render("vector_unit.v.j2", rtl_dir / f"{layer.name}.v", name=layer.name, arith=layer.arith,
                     channels=layer.channels, window=layer.window_size, pixels=layer.pixels, pe=layer.pe, cf=cf,
                     cfw=counter_bits(cf), rdw=counter_bits(layer.window_size * cf), x=stream_element(layer.in_spec),
                     wb=wb, w_signed=w_signed, aw=aw, cw=thr["cw"] if thr else aw, ob=layer.out_spec.bits, thr=thr,
                     depth=queue_depth(layer), weight_roms=[f.name for f in files[:layer.pe]],
                     weight_style=rom_style(layer.window_size * cf, wb),
                     threshold_roms=[f.name for f in files[layer.pe:]])
    return RtlModule(layer.name, [verilog, *files])
