"""RTL writer of the standalone multi-threshold kit, and the ROM and template helpers the MVAU shares.

A threshold ROM per PE holds, at address ``nf``, the NT sorted thresholds of channel ``nf*PE + pe``
(threshold ``k`` in bits ``[k*TB +: TB]``, two's complement); the code is found by the HLS kernel's
binary search (``hls_templates/fpgaflow/thresholding.h``).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import numpy as np

from fpgaflow.ir import IntSpec
from fpgaflow.layers.memory import rom_style
from fpgaflow.rtl.registry import RtlModule, rtl_writer

TEMPLATES = Path(__file__).parent / "templates"
def queue_depth(layer) -> int:
    """The output queue's depth: the kit's ``output_slots()``, the tokens the cycle simulator lets it
    hold in flight and finished beyond its output FIFO, so the RTL waits exactly where the model does."""
    return layer.output_slots()


def signed_bits(lo: int, hi: int) -> int:
    """Bits of the narrowest two's complement type holding [min(lo, 0), max(hi, 0)]."""
    lo, hi = min(int(lo), 0), max(int(hi), 0)
    return max((-lo - 1).bit_length(), hi.bit_length()) + 1


def counter_bits(n: int) -> int:
    """Bits of a counter over 0 .. n-1 (at least 1)."""
    return max(1, (int(n) - 1).bit_length())


def pack_words(elements: np.ndarray, bits: int) -> list[int]:
    """Rows of integer elements -> one word per row, element ``i`` in bits ``[i*bits +: bits]``."""
    mask = (1 << bits) - 1
    return [sum((int(e) & mask) << (i * bits) for i, e in enumerate(row)) for row in np.asarray(elements)]


def write_mem(path: Path, words: list[int], width: int) -> Path:
    """A ``$readmemh`` file: one hex word of ``width`` bits per line."""
    digits = max(1, -(-width // 4))
    Path(path).write_text("".join(f"{w:0{digits}x}\n" for w in words))
    return Path(path)


def render(template: str, path: Path, **context) -> Path:
    """Render ``templates/<template>`` into ``path``."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    Path(path).write_text(env.get_template(template).render(**context))
    return Path(path)


def stream_element(spec: IntSpec) -> dict:
    """How a stream's element is read: bits, and the decode to a signed integer."""
    return {"bits": spec.bits, "bipolar": bool(spec.bipolar), "signed": (not spec.bipolar) and spec.lo < 0}


def threshold_context(table, pe: int, value_bits: int) -> dict:
    """The template's threshold parameters: counts, widths, search steps and the output code."""
    nt = table.count
    tb = signed_bits(int(table.values.min()), int(table.values.max()))
    ob = table.out_spec.bits
    steps, step = [], 1 << (nt.bit_length() - 1)
    while step:
        steps.append(step)
        step >>= 1
    return {"nt": nt, "tb": tb, "cw": max(tb, value_bits), "ob": ob, "steps": steps, "cnt_bits": nt.bit_length(),
            "out_bipolar": bool(table.out_spec.bipolar), "out_step": table.step,
            "out_lo": int(table.out_spec.lo) % (1 << ob), "nf": table.values.shape[0] // pe,
            "style": rom_style(table.values.shape[0] // pe, nt * tb)}


def write_threshold_roms(name: str, table, pe: int, rtl_dir: Path) -> list[Path]:
    """One ROM per PE: word ``nf`` = the thresholds of channel ``nf*PE + pe``."""
    tb = signed_bits(int(table.values.min()), int(table.values.max()))
    values = table.values.reshape(-1, pe, table.count)  # [nf][pe][k]
    return [write_mem(Path(rtl_dir) / f"{name}_thresholds_{p}.mem", pack_words(values[:, p, :], tb),
                      tb * table.count) for p in range(pe)]


@rtl_writer("thresholding")
def write_thresholding(layer, rtl_dir: Path) -> RtlModule:
    """Write the standalone thresholding kit ``layer`` as ``rtl_dir/<name>.v`` and its threshold ROMs."""
    rtl_dir = Path(rtl_dir)
    x = stream_element(layer.in_spec)
    thr = threshold_context(layer.table, layer.pe, x["bits"] + 1)
    mems = write_threshold_roms(layer.name, layer.table, layer.pe, rtl_dir)
    verilog = render("thresholding.v.j2", rtl_dir / f"{layer.name}.v", name=layer.name, pe=layer.pe,
                     pixels=layer.pixels, channels=layer.channels, x=x, thr=thr, depth=queue_depth(layer),
                     nfw=counter_bits(thr["nf"]), roms=[m.name for m in mems])
    return RtlModule(layer.name, [verilog, *mems])
