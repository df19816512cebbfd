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

from fpgaflow.layers.mvau_arith import Mac, Shift, index_bits
from fpgaflow.rtl.registry import RtlModule, rtl_writer
from fpgaflow.rtl.thresholding import (queue_depth, counter_bits, pack_words, render, signed_bits, stream_element,
                                       threshold_context, write_mem, write_threshold_roms)


def weight_context(layer) -> dict:
    """Stored weight bits (wb, ww per SIMD word), signedness and the shift exponent bits."""
    arith = layer.arithmetic
    wb = arith.weight_bits(layer.weights)
    lo, _ = arith.stored_range(arith.encode(layer.weights))
    return {"wb": wb, "ww": wb * layer.simd, "w_signed": layer.arith in ("mac", "ternary") and lo < 0,
            "eb": Shift.exponent_bits(layer.weights) if layer.arith == "shift" else 0,
            "mac_dsp": Mac.uses_dsp(wb, layer.in_spec.bits)}


def write_weight_roms(layer, wb: int, rtl_dir: Path) -> list[Path]:
    """One ROM per PE, word ``nf*SF + sf`` = the SIMD stored weights of that tile."""
    arranged = layer.arranged_weights()
    stored = (arranged > 0).astype(np.int64) if layer.arith == "xnor" else layer.encode_weights(arranged)
    return [write_mem(Path(rtl_dir) / f"{layer.name}_weights_{p}.mem", pack_words(stored[p], wb), wb * layer.simd)
            for p in range(layer.pe)]


def sparse_ops(layer) -> tuple[list[int | None], list[int]]:
    """The compute steps of one vector: a schedule step per op (None: an empty fold's step), fold-end flags."""
    nf_end = layer.sparse_schedule().nf_end
    ops: list[int | None] = []
    ends: list[int] = []
    start = 0
    for end in (int(e) for e in nf_end):
        steps = list(range(start, end)) or [None]
        ops += steps
        ends += [0] * (len(steps) - 1) + [1]
        start = end
    return ops, ends


def write_sparse_roms(layer, wb: int, rtl_dir: Path) -> tuple[list[Path], dict]:
    """Per PE a ROM of (index, weight) slots per op (slot s: index in bits [s*(IB+WB) +: IB], weight above),
    and the fold-end flags; the sparse template's extra parameters."""
    sched = layer.sparse_schedule()
    ib = index_bits(layer.mw)
    codes = layer.encode_weights(sched.weight) & ((1 << wb) - 1)
    slots = sched.index | (codes << ib)  # [PE][steps][SIMD]
    ops, ends = sparse_ops(layer)
    zero = np.zeros(layer.simd, dtype=np.int64)
    files = [write_mem(Path(rtl_dir) / f"{layer.name}_weights_{p}.mem",
                       pack_words([slots[p, o] if o is not None else zero for o in ops], ib + wb),
                       (ib + wb) * layer.simd) for p in range(layer.pe)]
    fold_end = write_mem(Path(rtl_dir) / f"{layer.name}_fold_end.mem", ends, 1)
    return files + [fold_end], {"ops": len(ops), "opw": counter_bits(len(ops)), "ib": ib, "ww": (ib + wb) * layer.simd,
                                "fold_end_rom": fold_end.name}


@rtl_writer("mvau")
def write_mvau(layer, rtl_dir: Path) -> RtlModule:
    """Write the matrix-vector unit ``layer`` as ``rtl_dir/<name>.v`` with its weight (and threshold) ROMs."""
    rtl_dir = Path(rtl_dir)
    lo, hi = layer.acc_bounds
    aw = signed_bits(lo, hi)
    w = weight_context(layer)
    if layer.is_sparse:
        files, sparse = write_sparse_roms(layer, w["wb"], rtl_dir)
    else:
        files, sparse = write_weight_roms(layer, w["wb"], rtl_dir), {}
    roms = [f.name for f in files]
    thr = None
    if layer.table is not None:
        thr = threshold_context(layer.table, layer.pe, aw)
        files += write_threshold_roms(layer.name, layer.table, layer.pe, rtl_dir)
    sf, nf = layer.mw // layer.simd, layer.mh // layer.pe
    template = "mvau_sparse.v.j2" if layer.is_sparse else "mvau.v.j2"
    verilog = render(template, rtl_dir / f"{layer.name}.v", name=layer.name, arith=layer.arith, mw=layer.mw,
                     mh=layer.mh, pe=layer.pe, simd=layer.simd, vectors=layer.vectors, sf=sf, nf=nf,
                     sfw=counter_bits(sf), nfw=counter_bits(nf), tilew=counter_bits(sf * nf), aw=aw,
                     cw=thr["cw"] if thr else aw, ob=layer.out_spec.bits, x=stream_element(layer.in_spec), thr=thr,
                     depth=queue_depth(layer), weight_roms=roms[:layer.pe], weight_style=layer.weight_memory()[0],
                     threshold_roms=[f.name for f in files[len(roms):]], **{**w, **sparse})
    return RtlModule(layer.name, [verilog, *files])
