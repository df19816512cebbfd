"""Folding: PE and SIMD per layer so that every layer meets a cycles-per-frame target.

Like FINN's SetFolding: for each matrix-vector unit, the legal (PE, SIMD) pair with the fewest
parallel lanes whose cycles (from the layer kit: dense, or non-zeros for sparse layers) meet the
target (SIMD preferred over PE at equal cost, since SIMD widens a memory word while PE
multiplies memories). Where PE and the next layer's SIMD differ, a stream width converter is
inserted. Sparse layers first get their channels sorted by non-zero count, so that the PEs
working side by side have similar work.
"""

from __future__ import annotations

import logging

import numpy as np

from fpgaflow.boards import Board
from fpgaflow.errors import UserError
from fpgaflow.estimate.resources import design_totals, over_budget
from fpgaflow.ir import DEFAULT_FIFO_DEPTH
from fpgaflow.layers.width_converter import insert_width_converters, remove_width_converters

__all__ = ["apply_folding", "divisors", "fold_layer", "fold_to_fit", "insert_width_converters"]

log = logging.getLogger(__name__)


def divisors(n: int) -> list[int]:
    """The divisors of n, ascending."""
    return [d for d in range(1, n + 1) if n % d == 0]


def fold_layer(layer, target_cycles: int) -> tuple[int, int]:
    """The cheapest legal (PE, SIMD) of a folded kit meeting ``target_cycles``, else the fastest one."""
    options = layer.fold_options()

    def cycles(o):
        return layer.cycles_for(*o)

    meeting = [o for o in options if cycles(o) <= target_cycles]
    if meeting:
        return min(meeting, key=lambda o: (o[0] * o[1], o[0], cycles(o)))
    best = min(options, key=lambda o: (cycles(o), o[0] * o[1]))
    log.warning("%s cannot reach %d cycles per frame; fastest legal folding PE=%d SIMD=%d gives %d",
                layer.name, target_cycles, best[0], best[1], cycles(best))
    return best


def apply_folding(layers: list, target_cycles: int, fixed: dict[str, tuple[int, int]] | None = None) -> list:
    """Fold every kit with a fold space and insert width converters between layers.

    ``fixed`` maps layer names to a user's (PE, SIMD); the others fold to ``target_cycles``.
    The kits without a fold space then take the widest token their neighbours allow.
    """
    fixed = dict(fixed or {})
    layers = remove_width_converters(layers)
    foldable = {l.name: l for l in layers if l.fold_options()}
    for name, (pe, simd) in fixed.items():
        if name not in foldable:
            raise UserError(f"--folding: no layer {name}; layers: {', '.join(foldable)}")
        why = foldable[name].check_folding(pe, simd)
        if why:
            raise UserError(f"--folding: {name}: {why}")
    for layer in foldable.values():
        layer.set_folding(*(fixed.get(layer.name) or fold_layer(layer, target_cycles)))
    producers = {s: l for l in layers for s in l.outputs}
    readers = {s: l for l in layers for s in l.inputs}
    for layer in layers:  # topological order: producers are settled first
        widths = [producers[s].out_width if s in producers else None for s in layer.inputs]
        reader = readers.get(layer.outputs[0]) if layer.outputs else None
        layer.follow_widths(widths, reader.read_width() if reader is not None else None)
    return insert_width_converters(layers)


def fold_to_fit(layers: list, target_cycles: int, fixed: dict | None, board: Board) -> tuple[list, str | None]:
    """Fold for ``target_cycles``; if that does not fit ``board``, the fastest folding that does.

    Returns the layers and a note when the target had to be relaxed. A model that does not fit
    even with every layer fully folded (PE = SIMD = 1) is a user error naming its largest layers.
    """
    current = layers

    def fitting(cycles):  # refolds the latest layer list (its converters are rewired, not stacked)
        nonlocal current
        current = apply_folding(current, cycles, fixed)
        return current, not over_budget(design_totals(current, {}, DEFAULT_FIFO_DEPTH), board)

    folded, fits = fitting(target_cycles)
    if fits:
        return folded, None
    slowest = max(l.cycles_fully_folded() for l in layers)
    folded, fits = fitting(slowest)
    if not fits:
        totals = design_totals(folded, {}, DEFAULT_FIFO_DEPTH)
        big = sorted(folded, key=lambda l: -l.resources()["lut"] - 200 * l.resources()["bram18"])[:3]
        names = ", ".join(f"{l.name} (LUT {l.resources()['lut']:,}, BRAM18 {l.resources()['bram18']})" for l in big)
        raise UserError(f"the model does not fit {board.name} even fully folded ({'; '.join(over_budget(totals, board))}); "
                        f"largest layers: {names}; use a larger board (fpgaflow boards), fewer or narrower "
                        "layers, or more pruning")
    lo, hi = target_cycles, slowest  # fits at hi, not at lo
    while hi - lo > max(1, lo // 50):  # 2% resolution
        mid = (lo + hi) // 2
        if fitting(mid)[1]:
            hi = mid
        else:
            lo = mid
    folded, _ = fitting(hi)
    note = (f"folding for {target_cycles} cycles per frame does not fit {board.name}; folded for {hi} cycles per "
            "frame instead (the fastest that fits)")
    log.warning(note)
    return folded, note


def balance_sparse_channels(layers: list, stream_tensors: dict | None = None) -> None:
    """Order the output channels of each kit that asks for it (sparse layers: busiest first).

    Channels in the same neuron fold then have similar work, so no PE idles long. The
    permutation passes through kits that do not care about channel order and is absorbed by the
    next kit that can (a matrix-vector unit's weight rows); the last layer keeps its order.
    """
    readers = {s: l for l in layers for s in l.inputs}
    for layer in layers:
        order = layer.channel_order()
        if order is None:
            continue
        nxt = readers.get(layer.outputs[0])
        passed = [layer.outputs[0]]
        while nxt is not None and nxt.channel_order_free:
            passed.append(nxt.outputs[0])
            nxt = readers.get(nxt.outputs[0])
        if nxt is None or not nxt.absorb_input_order(order, len(order)):
            continue  # the output, a branch or a depthwise layer: keep the order
        for stream in passed:  # the reference tensors these streams carry, in the new channel order
            carried = (stream_tensors or {}).get(stream)
            if carried is not None:
                kept = np.arange(len(order)) if carried["channels"] is None else np.asarray(carried["channels"])
                carried["channels"] = kept[order].tolist()
        layer.permute_outputs(order)
