"""The HLS backend's table: one binding function per layer kit kind."""

from __future__ import annotations

from typing import Callable

from fpgaflow.codegen import bind_compute, bind_streams
from fpgaflow.codegen.binding import Binding

#: kit kind -> the function that binds a kit of that kind to its C++ header.
BINDERS: dict[str, Callable[[object], Binding]] = {
    "mvau": bind_compute.mvau,
    "vvau": bind_compute.vector_unit,
    "thresholding": bind_compute.thresholding,
    "sliding_window": bind_streams.sliding_window,
    "maxpool": bind_streams.pool,
    "sumpool": bind_streams.pool,
    "width_converter": bind_streams.width_converter,
    "duplicate": bind_streams.duplicate,
    "add": bind_streams.add,
    "max": bind_streams.max_join,
    "concat": bind_streams.concat,
}


def bind(layer) -> Binding:
    """The HLS binding of ``layer`` (its kind must be in :data:`BINDERS`)."""
    binder = BINDERS.get(layer.kind)
    if binder is None:
        raise NotImplementedError(f"{layer.name}: the HLS backend has no kernel for a {layer.kind} kit")
    return binder(layer)
