"""Structural LUT/FF model of the RTL kits, with coefficients fitted to Yosys.

Each kit's LUT and FF count is the cost of its memories (weight and threshold ROMs:
:mod:`fpgaflow.layers.memory`, measured separately) plus a weighted sum of structural *terms*:
quantities read off the RTL (fpgaflow/rtl/templates) such as the bits of the accumulators, the
adder-tree inputs of a lane, the bits the output queue holds or the inputs a sparse lane can
gather from. The weights (``resource_coefficients.json``) are fitted by non-negative least squares on
relative error over the grid of ``benchmarks/kit_resources.py`` (Yosys 0.70 ``synth_xilinx -family
xc7``, unrouted) with ``benchmarks/fit_resources.py``; docs/resources.md gives the fit and its
validation on shapes off the grid. DSP and BRAM18 are not fitted: they follow from the kit's
decisions (``Mac.uses_dsp``, ``rom_style``) exactly.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

from fpgaflow.layers.memory import logic_rom_luts, rom_style

COEFFICIENTS = Path(__file__).with_name("resource_coefficients.json")
#: A registered logic ROM of at most this many words keeps its address in flip-flops (Yosys 0.70
#: retimes the read register to the narrower side); a deeper one keeps the data word.
ADDRESS_REGISTER_MAX_WORDS = 8


def _counter_bits(n: int) -> int:
    return max(1, (int(n) - 1).bit_length())


def _signed_bits(lo: int, hi: int) -> int:
    lo, hi = min(int(lo), 0), max(int(hi), 0)
    return max((-lo - 1).bit_length(), hi.bit_length()) + 1


def rom_register_terms(prefix: str, count: int, depth: int, width: int) -> dict[str, float]:
    """The read register of ``count`` registered logic ROMs: the address bits up to
    ``ADDRESS_REGISTER_MAX_WORDS`` words, the data word beyond."""
    if depth <= ADDRESS_REGISTER_MAX_WORDS:
        return {f"{prefix}addr": count * _counter_bits(depth)}
    return {f"{prefix}word": count * width}


def threshold_bits(table) -> int:
    """Bits of one stored threshold (two's complement, as the RTL stores them)."""
    return _signed_bits(int(table.values.min()), int(table.values.max()))


def threshold_terms(table, pe: int, value_bits: int, host: str) -> dict[str, float]:
    """Terms of a threshold search (thresholding_common.v.j2): per PE a compare of ``value_bits``
    per search step, the selection of each step's threshold out of the table word, and the logic
    threshold ROMs (sorted thresholds are not random words: their cost is fitted, not taken from
    :func:`logic_rom_luts` alone). ``host`` names the kit, whose weights are its own."""
    nt = table.count
    tb = threshold_bits(table)
    cw = max(tb, value_bits)
    steps = nt.bit_length()
    depth, width = table.values.shape[0] // pe, nt * tb
    logic = rom_style(depth, width) == "logic"
    terms = {"compare": pe * steps * cw, "select": pe * max(0, nt - 1) * tb, "steps": pe * steps}
    if logic:
        terms.update({"rom_luts": pe * logic_rom_luts(depth, width), "rom_total": pe * depth * width,
                      **rom_register_terms("rom_", pe, depth, width)})
    return {f"{host}_thr:{name}": value for name, value in terms.items()}


def mvau_terms(layer) -> dict[str, float]:
    """Terms of a matrix-vector unit (mvau.v.j2, mvau_sparse.v.j2)."""
    xb, pe, simd = layer.in_spec.bits, layer.pe, layer.simd
    lanes = pe * simd
    sf, nf = layer.mw // simd, layer.mh // pe
    arith = layer.arithmetic
    wb = arith.weight_bits(layer.weights)
    aw = _signed_bits(*layer.acc_bounds)
    if layer.arith == "xnor":
        term_bits, mult = 1, 0
    elif layer.arith == "ternary":
        term_bits, mult = xb + 1, xb + 1
    elif layer.arith == "shift":
        eb = arith.exponent_bits(layer.weights)
        term_bits, mult = xb + (1 << eb), (xb + (1 << eb)) * eb
    else:
        term_bits, mult = xb + wb, 0 if layer.uses_dsp() else wb * xb
    dsp = layer.uses_dsp()
    a = "mac_dsp" if dsp else layer.arith
    held = ":dsp" if dsp else ""  # a DSP48 takes the input and accumulator registers into its A and P registers
    terms = {"const": 1.0, f"lane_bits:{a}": lanes * term_bits, f"mult_bits:{a}": lanes * mult,
             f"tree:{a}": pe * max(0, simd - 1) * (term_bits + math.log2(simd) / 2),
             f"acc_bits{held}": pe * aw, "queue_bits": pe * layer.out_spec.bits, "pe": pe}
    if layer.is_sparse:
        ops = layer.cycles_for(pe, simd) - sf
        # each lane selects one of the MW buffered inputs by the index in its ROM word: a full
        # multiplexer when the word is registered, far less when the ROM is shallow enough for its
        # address to be the register (index and weight are then functions of the step counter,
        # and the products shrink too)
        retimed = ops <= ADDRESS_REGISTER_MAX_WORDS
        if retimed:
            for name in (f"lane_bits:{a}", f"mult_bits:{a}"):
                terms[f"{name}:retimed"] = terms.pop(name)
        terms.update({"counter_bits": _counter_bits(sf) + _counter_bits(ops) + _counter_bits(nf),
                      "gather:" + ("retimed" if retimed else "indexed"): lanes * xb * layer.mw,
                      "gather:retimed_steps": lanes * xb * layer.mw * ops if retimed else 0,
                      "buffer_ff": layer.mw * xb, "step_rom": math.ceil(ops / 64)})
    else:
        terms.update({"counter_bits": _counter_bits(sf) + _counter_bits(nf) + _counter_bits(sf * nf),
                      f"x1_bits{held}": simd * xb, "in_buffer": simd * xb * math.ceil(sf / 64) if sf > 1 else 0,
                      "in_mux": simd * xb if sf > 1 else 0})
    depth, width = layer.storage.memory_shape(layer, wb)
    if rom_style(depth, width) == "logic":
        # a ROM of one LUT6 per bit (up to 64 words) merges with the products it feeds; a deeper one does not
        terms.update({"wrom_luts:" + ("shallow" if depth <= 64 else "deep"): pe * logic_rom_luts(depth, width),
                      **rom_register_terms("wrom_", pe, depth, width)})
    if layer.table is not None:
        terms.update(threshold_terms(layer.table, pe, aw, "mvau"))
    return terms


def thresholding_terms(layer) -> dict[str, float]:
    """Terms of the standalone thresholding kit (thresholding.v.j2)."""
    xb = layer.in_spec.bits
    nf = layer.channels // layer.pe
    return {"thresholding:const": 1.0, "counter_bits": _counter_bits(nf), "x1_bits": layer.pe * xb,
            "queue_bits": layer.pe * layer.table.out_spec.bits, "pe": layer.pe,
            **threshold_terms(layer.table, layer.pe, xb + 1, "thresholding")}


def width_converter_terms(layer) -> dict[str, float]:
    """Terms of the width converter (fpgaflow_width_converter.v): the input token, the output
    token with its spare slot, and the chunk multiplexers."""
    eb = layer.spec.bits
    if layer.out_w % layer.in_w == 0:
        chunk = layer.in_w
    elif layer.in_w % layer.out_w == 0:
        chunk = layer.out_w
    else:
        chunk = 1
    xn, yn = layer.in_w // chunk, layer.out_w // chunk
    return {"const": 1.0, "dwc_in_bits": layer.in_w * eb, "dwc_out_bits": layer.out_w * eb,
            "dwc_select": chunk * eb * ((xn if xn > 1 else 0) + (yn if yn > 1 else 0)),
            "counter_bits": _counter_bits(xn) + _counter_bits(yn)}


@cache
def coefficients() -> dict[str, dict[str, float]]:
    """The fitted weights: {"lut": {term: weight}, "ff": {...}} (read once from the JSON file)."""
    return json.loads(COEFFICIENTS.read_text())["coefficients"]


def structural(terms: dict[str, float]) -> dict[str, int]:
    """LUT and FF of ``terms`` under the fitted weights (memories not included)."""
    weights = coefficients()
    return {k: int(round(sum(weights[k].get(name, 0.0) * value for name, value in terms.items())))
            for k in ("lut", "ff")}
