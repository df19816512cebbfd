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
import math

import numpy as np

from fpgaflow.boards import Board
from fpgaflow.errors import UserError
from fpgaflow.estimate.resources import design_totals, over_budget
from fpgaflow.ir import DEFAULT_FIFO_DEPTH, wire_chain
from fpgaflow.layers.add import AddStreams
from fpgaflow.layers.concat import ConcatStreams
from fpgaflow.layers.duplicate import Duplicate
from fpgaflow.layers.mvau import MatrixVectorUnit
from fpgaflow.layers.pool import Pool
from fpgaflow.layers.sliding_window import SlidingWindow
from fpgaflow.layers.thresholding import Thresholding
from fpgaflow.layers.vector_unit import VectorUnit
from fpgaflow.layers.width_converter import StreamWidthConverter

log = logging.getLogger(__name__)


def divisors(n: int) -> list[int]:
    """The divisors of n, ascending."""
    return [d for d in range(1, n + 1) if n % d == 0]


def fold_layer(layer: MatrixVectorUnit, target_cycles: int) -> tuple[int, int]:
    """The cheapest legal (PE, SIMD) meeting ``target_cycles``, else the fastest legal one."""
    options = [(pe, simd) for pe in divisors(layer.mh) for simd in divisors(layer.mw)
               if layer.check_folding(pe, simd) is None]

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
    """Set PE/SIMD of every matrix-vector unit and insert width converters between layers.

    ``fixed`` maps layer names to a user's (PE, SIMD); the others fold to ``target_cycles``.
    The kits without arithmetic then take the widest token their neighbours allow.
    """
    fixed = dict(fixed or {})
    layers = remove_width_converters(layers)
    foldable = {l.name: l for l in layers if isinstance(l, (MatrixVectorUnit, VectorUnit))}
    for name, (pe, simd) in fixed.items():
        if name not in foldable:
            raise UserError(f"--folding: no layer {name}; layers: {', '.join(foldable)}")
        why = foldable[name].check_folding(pe, simd)
        if why:
            raise UserError(f"--folding: {name}: {why}")
    for layer in foldable.values():
        if isinstance(layer, MatrixVectorUnit):
            layer.pe, layer.simd = fixed.get(layer.name) or fold_layer(layer, target_cycles)
        else:
            options = [pe for pe in divisors(layer.channels) if layer.cycles_for(pe) <= target_cycles]
            layer.pe = fixed.get(layer.name, (options[0] if options else layer.channels, 1))[0]
    producers = {s: l for l in layers for s in l.outputs}
    readers = {s: l for l in layers for s in l.inputs}

    def in_width(layer, port=0):  # the width its producer writes (the accelerator input: its own)
        prod = producers.get(layer.inputs[port])
        return prod.out_width if prod is not None else None

    for layer in layers:  # topological order: producers are settled first
        if isinstance(layer, SlidingWindow):
            nxt = readers.get(layer.outputs[0])
            width = nxt.simd if isinstance(nxt, MatrixVectorUnit) else nxt.pe if isinstance(nxt, VectorUnit) \
                else in_width(layer) or layer.window.channels
            layer.simd = math.gcd(layer.window.channels, width)
            if isinstance(nxt, Pool):
                nxt.pe = layer.simd
        elif isinstance(layer, Pool) and not isinstance(producers.get(layer.inputs[0]), SlidingWindow):
            layer.pe = math.gcd(layer.channels, in_width(layer) or 1)
        elif isinstance(layer, Thresholding):
            layer.pe = math.gcd(layer.channels, in_width(layer) or 1)
        elif isinstance(layer, Duplicate):
            layer.width = math.gcd(layer.elems, in_width(layer) or 1)
        elif isinstance(layer, AddStreams):
            layer.pe = math.gcd(layer.elems, in_width(layer, 0) or 1, in_width(layer, 1) or 1)
        elif isinstance(layer, ConcatStreams):
            layer.pe = math.gcd(layer.channels_a, layer.channels_b, in_width(layer, 0) or 1, in_width(layer, 1) or 1)
    return insert_width_converters(layers)


def remove_width_converters(layers: list) -> list:
    """The layers without their width converters, each reader wired back to the producer."""
    for conv in [l for l in layers if isinstance(l, StreamWidthConverter)]:
        for layer in layers:
            layer.inputs = tuple(conv.inputs[0] if s == conv.outputs[0] else s for s in layer.inputs)
    return [l for l in layers if not isinstance(l, StreamWidthConverter)]


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
    slowest = max(layer_cycles_at_minimum(l) for l in layers)
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


def layer_cycles_at_minimum(layer) -> int:
    """A layer's cycles per frame at its cheapest folding (PE = SIMD = 1 for compute layers)."""
    if isinstance(layer, MatrixVectorUnit):
        return layer.cycles_for(1, 1)
    if isinstance(layer, VectorUnit):
        return layer.cycles_for(1)
    return 1


def insert_width_converters(layers: list) -> list:
    """The layers with a converter wherever a stream's producer writes a different width than its
    reader reads (layers are in topological order; a single chain is the common case)."""
    if not any(l.inputs for l in layers):  # a bare list of layers: a chain
        wire_chain(layers)
    producers = {s: l for l in layers for s in l.outputs}
    out = []
    for layer in layers:
        for port, stream in enumerate(layer.inputs):
            prod = producers.get(stream)
            want = layer.input_widths()[port]
            if prod is not None and prod.out_width != want:
                conv = StreamWidthConverter(f"{prod.name}_to_{layer.name}", prod.out_spec, prod.out_elems,
                                            prod.out_width, want)
                conv.inputs, conv.outputs = (stream,), (f"{conv.name}_out",)
                layer.inputs = tuple(conv.outputs[0] if k == port else s for k, s in enumerate(layer.inputs))
                out.append(conv)
        out.append(layer)
    return out


def balance_sparse_channels(layers: list, stream_tensors: dict | None = None) -> None:
    """Order each sparse layer's output channels by non-zero count (busiest first).

    Channels in the same neuron fold then have similar work, so no PE idles long. The
    permutation is absorbed by the next matrix-vector unit's weight rows (channel-wise layers in
    between, sliding windows and pooling, do not care); the last layer keeps its order.
    """
    readers = {s: l for l in layers for s in l.inputs}
    for layer in layers:
        if not isinstance(layer, MatrixVectorUnit) or not layer.is_sparse:
            continue
        nxt = readers.get(layer.outputs[0])
        passed = [layer.outputs[0]]
        while isinstance(nxt, (SlidingWindow, StreamWidthConverter)) or (isinstance(nxt, Pool) and nxt.mode == "max"):
            passed.append(nxt.outputs[0])
            nxt = readers.get(nxt.outputs[0])
        if not isinstance(nxt, MatrixVectorUnit):
            continue  # the output, a branch or a depthwise layer: keep the order
        order = np.argsort(-(layer.weights != 0).sum(axis=0), kind="stable")
        for stream in passed:  # the reference tensors these streams carry, in the new channel order
            carried = (stream_tensors or {}).get(stream)
            if carried is not None:
                kept = np.arange(len(order)) if carried["channels"] is None else np.asarray(carried["channels"])
                carried["channels"] = kept[order].tolist()
        layer.weights = layer.weights[:, order]
        if layer.table is not None:
            layer.table.values = layer.table.values[order]
        # the next layer reads channels innermost: (kernel position or pixel, channel) rows
        rows = nxt.weights.reshape(-1, layer.mh, nxt.mh)
        nxt.weights = rows[:, order, :].reshape(nxt.mw, nxt.mh)
