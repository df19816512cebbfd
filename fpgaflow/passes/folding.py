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

from fpgaflow.errors import UserError
from fpgaflow.layers.mvau import MatrixVectorUnit
from fpgaflow.layers.pool import MaxPool
from fpgaflow.layers.sliding_window import SlidingWindow
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
    """
    fixed = dict(fixed or {})
    mvaus = {l.name: l for l in layers if isinstance(l, MatrixVectorUnit)}
    foldable = {l.name: l for l in layers if isinstance(l, (MatrixVectorUnit, VectorUnit))}
    for name, (pe, simd) in fixed.items():
        if name not in foldable:
            raise UserError(f"--folding: no layer {name}; layers: {', '.join(foldable)}")
        why = foldable[name].check_folding(pe, simd)
        if why:
            raise UserError(f"--folding: {name}: {why}")
    for layer in mvaus.values():
        layer.pe, layer.simd = fixed.get(layer.name) or fold_layer(layer, target_cycles)
    for layer in layers:
        if isinstance(layer, VectorUnit):
            options = [pe for pe in divisors(layer.channels) if layer.cycles_for(pe) <= target_cycles]
            layer.pe = fixed.get(layer.name, (options[0] if options else layer.channels, 1))[0]
    layers = [l for l in layers if not isinstance(l, StreamWidthConverter)]
    for i, layer in enumerate(layers):  # window generators and pools follow their neighbours
        if isinstance(layer, SlidingWindow):
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            prev_width = layers[i - 1].out_width if i else layer.window.channels
            width = nxt.simd if isinstance(nxt, MatrixVectorUnit) else nxt.pe if isinstance(nxt, VectorUnit) \
                else prev_width
            layer.simd = math.gcd(layer.window.channels, width)
            if isinstance(nxt, MaxPool):
                nxt.pe = layer.simd
    return insert_width_converters(layers)


def insert_width_converters(layers: list) -> list:
    """The layer chain with a converter wherever a layer's output width differs from the next input."""
    out = []
    for prev, nxt in zip(layers, layers[1:] + [None]):
        out.append(prev)
        if nxt is not None and prev.out_width != nxt.in_width:
            out.append(StreamWidthConverter(f"{prev.name}_to_{nxt.name}", prev.out_spec, prev.out_elems,
                                            prev.out_width, nxt.in_width))
    return out


def balance_sparse_channels(layers: list) -> None:
    """Order each sparse layer's output channels by non-zero count (busiest first).

    Channels in the same neuron fold then have similar work, so no PE idles long. The
    permutation is absorbed by the next matrix-vector unit's weight rows (channel-wise layers in
    between, sliding windows and pooling, do not care); the last layer keeps its order.
    """
    mixing = [l for l in layers if isinstance(l, (MatrixVectorUnit, VectorUnit))]  # layers that own channels
    for layer, nxt in zip(mixing, mixing[1:]):
        if not isinstance(layer, MatrixVectorUnit) or not isinstance(nxt, MatrixVectorUnit) or not layer.is_sparse:
            continue
        order = np.argsort(-(layer.weights != 0).sum(axis=0), kind="stable")
        layer.weights = layer.weights[:, order]
        if layer.table is not None:
            layer.table.values = layer.table.values[order]
        # the next layer reads channels innermost: (kernel position or pixel, channel) rows
        rows = nxt.weights.reshape(-1, layer.mh, nxt.mh)
        nxt.weights = rows[:, order, :].reshape(nxt.mw, nxt.mh)
