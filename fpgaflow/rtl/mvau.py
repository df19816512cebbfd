"""RTL writer of the matrix-vector unit (dense storage, every arithmetic variant, optional fused thresholds).

The module runs the kit's schedule (:meth:`fpgaflow.layers.mvau_arith.DenseStorage.schedule`): per input
vector NF*SF iterations, one per cycle while its input (fold 0) has a token and the output has room,
through three register stages (input word and weight ROM read; products summed into the accumulators;
thresholds into a small output queue). Weight ROM ``pe`` holds ``arranged_weights()[pe]``, one word per
tile ``nf*SF + sf``, weight ``s`` in bits ``[s*WB +: WB]`` (xnor: bit ``s`` is 1 for +1; shift: the
kit's ``nonzero | negative | exponent`` code).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.layers.mvau_arith import Shift
from fpgaflow.rtl.registry import RtlModule, rtl_writer
from fpgaflow.rtl.thresholding import (OUT_DEPTH, counter_bits, pack_words, render, signed_bits, stream_element,
                                       threshold_context, write_mem, write_threshold_roms)


def weight_context(layer) -> dict:
    """Stored weight bits (wb, ww per SIMD word), signedness and the shift exponent bits."""
    arith = layer.arithmetic
    wb = arith.weight_bits(layer.weights)
    lo, _ = arith.stored_range(arith.encode(layer.weights))
    return {"wb": wb, "ww": wb * layer.simd, "w_signed": layer.arith in ("mac", "ternary") and lo < 0,
            "eb": Shift.exponent_bits(layer.weights) if layer.arith == "shift" else 0}


def write_weight_roms(layer, wb: int, rtl_dir: Path) -> list[Path]:
    """One ROM per PE, word ``nf*SF + sf`` = the SIMD stored weights of that tile."""
    arranged = layer.arranged_weights()
    stored = (arranged > 0).astype(np.int64) if layer.arith == "xnor" else layer.encode_weights(arranged)
    return [write_mem(Path(rtl_dir) / f"{layer.name}_weights_{p}.mem", pack_words(stored[p], wb), wb * layer.simd)
            for p in range(layer.pe)]


@rtl_writer("mvau")
def write_mvau(layer, rtl_dir: Path) -> RtlModule:
    """Write the matrix-vector unit ``layer`` as ``rtl_dir/<name>.v`` with its weight (and threshold) ROMs."""
    if layer.is_sparse:
        raise UserError(f"--rtl: layer {layer.name} is a sparse MVAU, which the RTL backend does not have yet; "
                        "build without --rtl or with --sparse-threshold 1")
    rtl_dir = Path(rtl_dir)
    lo, hi = layer.acc_bounds
    aw = signed_bits(lo, hi)
    w = weight_context(layer)
    files = write_weight_roms(layer, w["wb"], rtl_dir)
    thr = None
    if layer.table is not None:
        thr = threshold_context(layer.table, layer.pe, aw)
        files += write_threshold_roms(layer.name, layer.table, layer.pe, rtl_dir)
    sf, nf = layer.mw // layer.simd, layer.mh // layer.pe
    verilog = render("mvau.v.j2", rtl_dir / f"{layer.name}.v", name=layer.name, arith=layer.arith, mw=layer.mw,
                     mh=layer.mh, pe=layer.pe, simd=layer.simd, vectors=layer.vectors, sf=sf, nf=nf,
                     sfw=counter_bits(sf), nfw=counter_bits(nf), tilew=counter_bits(sf * nf), aw=aw,
                     cw=thr["cw"] if thr else aw, ob=layer.out_spec.bits, x=stream_element(layer.in_spec), thr=thr,
                     depth=OUT_DEPTH, weight_roms=[f.name for f in files[:layer.pe]],
                     threshold_roms=[f.name for f in files[layer.pe:]], **w)
    return RtlModule(layer.name, [verilog, *files])
