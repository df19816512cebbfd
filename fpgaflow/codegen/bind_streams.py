"""HLS bindings of the kits that move codes: sliding window, pooling, width converter, duplicate, add, concat."""

from __future__ import annotations

from fpgaflow.codegen.binding import Binding, code_type, ints


def sliding_window(layer) -> Binding:
    """``fpgaflow::sliding_window``, see fpgaflow/sliding_window.h."""
    w = layer.window
    (kh, kw), (sh, sw), (pt, pl, _, _) = w.kernel, w.stride, w.pads
    oh, ow = w.out_hw
    constants = ints(channels=w.channels, height=w.height, width=w.width, kh=kh, kw=kw, sh=sh, sw=sw, pad_top=pt,
                     pad_left=pl, out_h=oh, out_w=ow, simd=layer.simd, cf=w.channels // layer.simd,
                     pad_code=layer.pad_code)
    return Binding("fpgaflow/sliding_window.h", "fpgaflow::sliding_window", "fpgaflow::sliding_window_config",
                   constants, {"elem_t": code_type(layer.spec)})


def pool(layer) -> Binding:
    """``fpgaflow::pool`` (max or sum), see fpgaflow/pool.h."""
    constants = ints(channels=layer.channels, window=layer.window_size, pixels=layer.pixels, pe=layer.pe,
                     cf=layer.channels // layer.pe, is_max=int(layer.mode == "max"))
    return Binding("fpgaflow/pool.h", "fpgaflow::pool", "fpgaflow::pool_config", constants,
                   {"in_t": code_type(layer.in_spec), "out_t": code_type(layer.out_spec)})


def width_converter(layer) -> Binding:
    """``fpgaflow::width_converter``, see fpgaflow/width_converter.h."""
    return Binding("fpgaflow/width_converter.h", "fpgaflow::width_converter", "fpgaflow::width_converter_config",
                   ints(in_width=layer.in_w, out_width=layer.out_w, elems=layer.elems),
                   {"elem_t": code_type(layer.spec)})


def duplicate(layer) -> Binding:
    """``fpgaflow::duplicate``, see fpgaflow/duplicate.h."""
    return Binding("fpgaflow/duplicate.h", "fpgaflow::duplicate", "fpgaflow::duplicate_config",
                   ints(width=layer.width, tokens=layer.elems // layer.width), {"elem_t": code_type(layer.spec)})


def _join_types(layer) -> dict:
    return {"a_t": code_type(layer.a_spec), "b_t": code_type(layer.b_spec), "out_t": code_type(layer.out_spec)}


def _aligned_join(layer, header: str, function: str, base: str) -> Binding:
    constants = ints(pe=layer.pe, tokens=layer.elems // layer.pe, shift_a=layer.shift_a, shift_b=layer.shift_b)
    return Binding(header, function, base, constants, _join_types(layer))


def add(layer) -> Binding:
    """``fpgaflow::add_streams``, see fpgaflow/add.h."""
    return _aligned_join(layer, "fpgaflow/add.h", "fpgaflow::add_streams", "fpgaflow::add_config")


def max_join(layer) -> Binding:
    """``fpgaflow::max_streams``, see fpgaflow/max.h."""
    return _aligned_join(layer, "fpgaflow/max.h", "fpgaflow::max_streams", "fpgaflow::max_config")


def concat(layer) -> Binding:
    """``fpgaflow::concat_streams``, see fpgaflow/concat.h."""
    constants = ints(pe=layer.pe, pixels=layer.pixels, fold_a=layer.channels_a // layer.pe,
                     fold_b=layer.channels_b // layer.pe)
    return Binding("fpgaflow/concat.h", "fpgaflow::concat_streams", "fpgaflow::concat_config", constants,
                   _join_types(layer))
