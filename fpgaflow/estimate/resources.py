"""Resource estimates of a whole design: the layer kits' own estimates plus streams and glue.

Each layer kit estimates itself (``LayerKit.resources()``: its memories plus a structural model
fitted to Yosys, fpgaflow/layers/resource_model.py). Here the FIFOs between kits are added, as
the RTL builds them (fpgaflow/rtl/verilog/fpgaflow_fifo.v: shift registers up to
``SRL_MAX_DEPTH`` tokens, a block RAM with a two-token output buffer beyond), with a small
per-kit allowance for the dataflow handshake, and the total is compared with the board's budget.
"""

from __future__ import annotations

import math

from fpgaflow.boards import Board
from fpgaflow.ir import OUT_STREAM
from fpgaflow.layers.memory import bram18_blocks
from fpgaflow.sim.pipeline import SRL_MAX_DEPTH

#: Fraction of each board resource a design may use and still count as fitting.
UTILISATION_LIMIT = 0.8
GLUE_LUT, GLUE_FF = 40, 60  # per kit: start/done handshake and stream valid/ready logic
KEYS = ("lut", "ff", "dsp", "bram18")


def fifo_resources(width_bits: int, depth: int) -> dict[str, int]:
    """One stream FIFO of ``depth`` tokens of ``width_bits``, as fpgaflow_fifo.v builds it.

    Fitted to Yosys 0.70 ``synth_xilinx -family xc7`` (unrouted) on the FIFO alone, widths 8 to
    300 and depths 2 to 2048 (docs/resources.md, "FIFOs"): up to 2 tokens the shift register
    stays in flip-flops; up to ``SRL_MAX_DEPTH`` it is one SRL per bit (no FFs but the count);
    deeper, block RAM whose read register is the RAMB18's own, plus the two-token output buffer
    and the pointers and counts. ``benchmarks/fifo_resources.py`` prints the comparison."""
    count_bits = max(1, math.ceil(math.log2(depth + 1)))
    if depth <= 2:
        return {"lut": width_bits + 4 if depth == 2 else 3, "ff": width_bits * depth + count_bits,
                "dsp": 0, "bram18": 0}
    if depth <= SRL_MAX_DEPTH:
        return {"lut": width_bits + count_bits + 4, "ff": count_bits, "dsp": 0, "bram18": 0}
    addr_bits = max(1, math.ceil(math.log2(depth)))
    wrap = 0 if depth & (depth - 1) == 0 else addr_bits + 4  # pointers wrap at DEPTH - 1, not at a power of two
    return {"lut": width_bits + 2 * addr_bits + 15 + wrap, "ff": 2 * width_bits + 4 * addr_bits + 5, "dsp": 0,
            "bram18": bram18_blocks(depth, width_bits)}


def stream_rows(layers, depths: dict[str, int], default_depth: int) -> list[dict]:
    """One row per internal stream: name, width, depth and its FIFO's resources."""
    rows = []
    for layer in layers:
        for stream in layer.outputs:
            if stream == OUT_STREAM:
                continue
            bits = layer.out_width * layer.out_spec.bits
            depth = depths.get(stream, default_depth)
            rows.append({"name": stream, "width_bits": bits, "depth": depth, **fifo_resources(bits, depth)})
    return rows


def design_totals(layers, depths: dict[str, int], default_depth: int) -> dict[str, int]:
    """LUT/FF/DSP/BRAM18 of the layers, their FIFOs and the glue."""
    totals = {k: 0 for k in KEYS}
    for layer in layers:
        res = layer.resources()
        for k in KEYS:
            totals[k] += int(res[k])
        totals["lut"] += GLUE_LUT
        totals["ff"] += GLUE_FF
    for row in stream_rows(layers, depths, default_depth):
        for k in KEYS:
            totals[k] += row[k]
    return totals


def budget(board: Board, limit: float = UTILISATION_LIMIT) -> dict[str, int]:
    """The resources a design may use on ``board``."""
    return {k: int(limit * board.resources[k]) for k in KEYS}


def over_budget(totals: dict[str, int], board: Board, limit: float = UTILISATION_LIMIT) -> list[str]:
    """The resources where ``totals`` exceed the budget, as 'LUT 61,000 > 42,560' strings."""
    allowed = budget(board, limit)
    return [f"{k.upper()} {totals[k]:,} > {allowed[k]:,}" for k in KEYS if totals[k] > allowed[k]]
