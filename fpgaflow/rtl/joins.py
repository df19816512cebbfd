"""RTL writers of the kits that fork and join streams: duplication, the shift-aligned add and max, concat.

Each runs its kit's schedule, one loop iteration per cycle: the iteration takes its input token(s)
and writes the result straight into an output queue (``templates/joins_common.v.j2``) whose valid
and data are registers, so a token taken in cycle t is in the next kit's FIFO at t + 1 and
readable there at t + 2: ``pipeline_depth() == 2``. A queue of ``queue_depth()`` tokens (at least
the kit's pipeline depth) gives the kit at least the room the cycle simulator gives it.
"""

from __future__ import annotations

from pathlib import Path

from fpgaflow.rtl.registry import RtlModule, rtl_writer
from fpgaflow.rtl.thresholding import counter_bits, queue_depth, render, signed_bits, stream_element


@rtl_writer("duplicate")
def write_duplicate(layer, rtl_dir: Path) -> RtlModule:
    """Write the duplication kit ``layer`` (ports ``in``, ``out0``, ``out1``) as ``rtl_dir/<name>.v``."""
    path = render("duplicate.v.j2", Path(rtl_dir) / f"{layer.name}.v", name=layer.name, width=layer.width,
                  bits=layer.spec.bits, tokens=layer.in_tokens, depth=queue_depth(layer))
    return RtlModule(layer.name, [path])


def join_bits(layer) -> int:
    """Bits of the two's complement integers an aligned join computes in: both shifted inputs and the result."""
    a, b, out = layer.a_spec, layer.b_spec, layer.out_spec
    lo = min(a.lo << layer.shift_a, b.lo << layer.shift_b, out.lo)
    hi = max(a.hi << layer.shift_a, b.hi << layer.shift_b, out.hi)
    return signed_bits(lo, hi)


@rtl_writer("add", "max")
def write_aligned_join(layer, rtl_dir: Path) -> RtlModule:
    """Write the residual add or element-wise max ``layer`` (ports ``in0``, ``in1``, ``out``) as
    ``rtl_dir/<name>.v``: ``op(a << shift_a, b << shift_b)`` per element."""
    path = render("aligned_join.v.j2", Path(rtl_dir) / f"{layer.name}.v", name=layer.name, op=layer.kind,
                  pe=layer.pe, tokens=layer.elems // layer.pe, a=stream_element(layer.a_spec),
                  b=stream_element(layer.b_spec), shift_a=layer.shift_a, shift_b=layer.shift_b,
                  ob=layer.out_spec.bits, cw=join_bits(layer), depth=queue_depth(layer))
    return RtlModule(layer.name, [path])


@rtl_writer("concat")
def write_concat(layer, rtl_dir: Path) -> RtlModule:
    """Write the channel concatenation ``layer`` (ports ``in0``, ``in1``, ``out``) as ``rtl_dir/<name>.v``."""
    a, b, ob = stream_element(layer.a_spec), stream_element(layer.b_spec), layer.out_spec.bits
    fold_a, fold_b = layer.channels_a // layer.pe, layer.channels_b // layer.pe
    path = render("concat.v.j2", Path(rtl_dir) / f"{layer.name}.v", name=layer.name, pe=layer.pe,
                  pixels=layer.pixels, fold_a=fold_a, fold_b=fold_b, cntw=counter_bits(fold_a + fold_b), a=a, b=b,
                  ob=ob, bipolar=bool(layer.out_spec.bipolar), vw=max(ob, a["bits"], b["bits"]) + 1,
                  depth=queue_depth(layer))
    return RtlModule(layer.name, [path])
