"""Resource estimates of a whole design: the layer kits' own estimates plus streams and glue.

Each layer kit estimates itself (``LayerKit.resources()``, FINN-style first-order models per
arithmetic variant and weight memory). Here the FIFOs between kits are added (shift-register
LUTs up to 32 deep, BRAM18 beyond 1,024 entries, LUTRAM in between), with a small per-kit
allowance for the dataflow handshake, and the total is compared with the board's budget.
"""

from __future__ import annotations

import math

from fpgaflow.boards import Board
from fpgaflow.ir import OUT_STREAM

#: Fraction of each board resource a design may use and still count as fitting.
UTILISATION_LIMIT = 0.8
GLUE_LUT, GLUE_FF = 40, 60  # per kit: start/done handshake and stream valid/ready logic
KEYS = ("lut", "ff", "dsp", "bram18")


def fifo_resources(width_bits: int, depth: int) -> dict[str, int]:
    """One stream FIFO of ``depth`` tokens of ``width_bits``."""
    if depth <= 32:  # SRL32 shift registers
        return {"lut": width_bits + 8, "ff": width_bits + 8, "dsp": 0, "bram18": 0}
    if depth <= 1024 and width_bits * depth <= 16384:  # distributed RAM (64 bits per LUT)
        return {"lut": math.ceil(width_bits * depth / 64) + 16, "ff": width_bits + 16, "dsp": 0, "bram18": 0}
    return {"lut": 24, "ff": width_bits + 16, "dsp": 0,
            "bram18": math.ceil(width_bits / 36) * math.ceil(depth / 512)}


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
