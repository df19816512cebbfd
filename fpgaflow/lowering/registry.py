"""The lowering table: for each ONNX op kind, the functions that turn its node into layer kits.

A lowering is registered with :func:`lowers`; it may carry a predicate (``when``) saying which
nodes of its ops it takes (an Add of two dynamic inputs, a Mul by a positive scalar). For a node,
the first registered lowering of its op whose predicate holds runs; fallbacks (the float ops a
quantizer ends, lowered to thresholds) come after every specific lowering of the op.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from fpgaflow.errors import UserError
from fpgaflow.frontend.op_kinds import REWRITTEN


@dataclass(frozen=True)
class Lowering:
    """One entry of the table: ``fn(ctx, node)`` lowers a node of one of ``ops`` when ``when`` holds."""

    fn: Callable
    ops: tuple[str, ...]
    when: Callable | None = None
    fallback: bool = False

    def takes(self, ctx, node) -> bool:
        """Whether this lowering takes ``node``."""
        return self.when is None or bool(self.when(ctx, node))


#: ONNX op type -> its lowerings, tried in order.
LOWERINGS: dict[str, tuple[Lowering, ...]] = {}


def lowers(*ops: str, when: Callable | None = None, fallback: bool = False):
    """Register the decorated ``fn(ctx, node)`` as the lowering of ``ops`` (see :class:`Lowering`)."""
    def register(fn):
        entry = Lowering(fn, ops, when, fallback)
        for op in ops:
            entries = LOWERINGS.get(op, ())
            specific = tuple(e for e in entries if not e.fallback)
            if not fallback and len(specific) != len(entries):  # keep the fallbacks last
                LOWERINGS[op] = specific + (entry,) + entries[len(specific):]
            else:
                LOWERINGS[op] = entries + (entry,)
        return fn
    return register


def lower(ctx, node) -> None:
    """Lower ``node`` with the first lowering in the table that takes it."""
    for entry in LOWERINGS.get(node.op_type, ()):
        if entry.takes(ctx, node):
            entry.fn(ctx, node)
            ctx.done.add(node.name)
            return
    raise UserError(f"node {node.name} ({node.op_type}): not supported between quantized layers")


def supported_ops() -> frozenset[str]:
    """The op kinds fpgaflow accepts before the last layer: the table's, and the ops the frontend
    rewrites into them."""
    return frozenset(LOWERINGS) | frozenset(REWRITTEN)
