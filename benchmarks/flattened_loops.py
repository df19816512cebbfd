"""Cycles per frame of FINN's TFC models before and after the HLS loops were flattened (cycle model).

    python benchmarks/flattened_loops.py

Before, each MVAU ran ``v -> nf -> sf`` with code between the loops, which Vitis HLS cannot
flatten: every run of the pipelined ``sf`` loop pays its pipeline depth again, about
``vectors * NF * (SF + depth)`` cycles. Now the kernel is one counter-driven II=1 loop of
``vectors * NF * SF`` iterations, the schedule the cycle simulator runs. The figures come from the
kits' own cycle model (``cycles()`` and ``pipeline_depth()``), not from Vitis HLS or an RTL
simulation: they show what the flattening is worth if the tool schedules the loops as described.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fpgaflow.boards import load_board
from fpgaflow.build import BuildOptions, hardware_graph

MODELS = Path(__file__).resolve().parent.parent / "tests" / "models"


def nested_cycles(layer) -> int:
    """Cycles per frame of the old nested MVAU loops (other kits are unchanged)."""
    if layer.kind != "mvau" or layer.is_sparse:
        return layer.cycles()
    nf, sf = layer.mh // layer.pe, layer.mw // layer.simd
    return layer.vectors * nf * (sf + layer.pipeline_depth())


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    print(f"{'model':<10}{'target fps':>12}{'II before':>11}{'II after':>10}{'fps before':>13}{'fps after':>12}"
          f"{'ratio':>7}")
    for name in ("TFC_1W1A", "TFC_1W2A", "TFC_2W2A"):
        for fps in (100_000, 1_000_000):
            options = BuildOptions(board=load_board("pynq-z2"), out_dir=Path("unused"), target_fps=fps, csim=False)
            hg, _ = hardware_graph(MODELS / f"{name}.onnx", options)
            before = max(nested_cycles(layer) for layer in hg.layers)
            after = max(layer.cycles() for layer in hg.layers)
            clock = options.clock * 1e6
            print(f"{name:<10}{fps:>12,}{before:>11,}{after:>10,}{clock / before:>13,.0f}{clock / after:>12,.0f}"
                  f"{before / after:>7.2f}")


if __name__ == "__main__":
    main()
