"""HLS bindings of the kits that compute: matrix-vector unit, vector unit, thresholding."""

from __future__ import annotations

import numpy as np

from fpgaflow.codegen.binding import (Binding, CArray, CType, acc_ctype, code_type, ints, native_int_type,
                                      product_ctype, range_type, wide)
from fpgaflow.ir import smallest_dtype
from fpgaflow.layers.mvau_arith import Shift, Xnor, index_bits

#: The C++ product policy of each multiplying arithmetic (see fpgaflow/mvau.h).
PRODUCT_POLICY = {"ternary": "fpgaflow::mul_ternary", "mac": "fpgaflow::mul_int", "shift": "fpgaflow::mul_shift<{bits}>"}


def threshold_parts(table, pe: int) -> tuple[dict, CArray]:
    """A threshold table's config constants and its array [PE][NF][NT] (channel c = nf * PE + pe)."""
    c, nt = table.values.shape
    arranged = table.values.reshape(c // pe, pe, nt).transpose(1, 0, 2)
    carray = CArray("thresholds", range_type(int(table.values.min()), int(table.values.max())), arranged)
    constants = ints(num_thresholds=table.count, out_lo=table.out_spec.lo, out_step=table.step,
                     out_bipolar=int(table.out_spec.bipolar))
    return constants, carray


def _input_range(spec) -> tuple[int, int]:
    return (-1, 1) if spec.bipolar else (spec.lo, spec.hi)


def _product_types(x: tuple[int, int], w: tuple[int, int], policy: str, store: tuple[int, int]) -> dict[str, CType]:
    """The product policy, the type holding every product of inputs in ``x`` and weights in ``w``, and
    the type of an input stored in ``store``."""
    prods = [a * b for a in x for b in w] + [0]
    return {"product": CType(policy), "product_t": product_ctype(min(prods), max(prods)),
            "in_store_t": range_type(*store)}


def _mvau_weight_arrays(layer) -> list[CArray]:
    arith = layer.arithmetic
    if isinstance(arith, Xnor):
        return [CArray("weights", CType(f"ap_uint<{layer.simd}>", "uint64_t"), arith.pack(layer.arranged_weights()),
                       hex_words=True)]
    wtype = range_type(*arith.stored_range(layer.weights))
    if not layer.is_sparse:
        return [CArray("weights", wtype, layer.encode_weights(layer.arranged_weights()))]
    sched = layer.sparse_schedule()
    return [CArray("weights", wtype, layer.encode_weights(sched.weight)),
            CArray("index", CType(f"ap_uint<{index_bits(layer.mw)}>", native_int_type(0, layer.mw)), sched.index),
            CArray("nf_end", CType("unsigned", "unsigned"), sched.nf_end)]


def mvau(layer) -> Binding:
    """``fpgaflow::mvau`` (dense) or ``fpgaflow::mvau_sparse`` (work lists), see fpgaflow/mvau.h."""
    acc_lo, acc_hi = layer.acc_bounds
    acc_bits = layer.acc_spec.dtype.bitwidth()
    xnor = isinstance(layer.arithmetic, Xnor)
    if xnor:  # the popcount before 2p - MW needs log2(MW)+1 bits more
        acc_bits = max(acc_bits, smallest_dtype(-layer.mw, layer.mw).bitwidth())
    constants = {**ints(mw=layer.mw, mh=layer.mh, pe=layer.pe, simd=layer.simd, vectors=layer.vectors,
                        nf=layer.mh // layer.pe, sf=layer.mw // layer.simd, in_bipolar=int(layer.in_spec.bipolar)),
                 **wide(acc_min=acc_lo, acc_max=acc_hi)}
    types = {"in_t": code_type(layer.in_spec), "out_t": code_type(layer.out_spec), "acc_t": acc_ctype(acc_bits)}
    if xnor:
        types["arith"] = CType("fpgaflow::xnor<{config}>")
    else:
        types["arith"] = CType("fpgaflow::mac<{config}>")
        bits = Shift.exponent_bits(layer.weights)
        policy = PRODUCT_POLICY[layer.arith].format(bits=bits)
        x = _input_range(layer.in_spec)
        types.update(_product_types(x, (int(layer.weights.min()), int(layer.weights.max())), policy, x))
    arrays = _mvau_weight_arrays(layer)
    if layer.is_sparse:
        folds = np.diff(np.concatenate([[0], layer.sparse_schedule().nf_end]))
        constants.update(ints(steps=arrays[0].values.shape[1], iters=layer.mw // layer.simd + int(np.maximum(folds, 1).sum())))
    if layer.table is not None:
        table_constants, table_array = threshold_parts(layer.table, layer.pe)
        constants.update(table_constants)
        arrays.append(table_array)
    sparse = "_sparse" if layer.is_sparse else ""
    return Binding("fpgaflow/mvau.h", f"fpgaflow::mvau{sparse}", f"fpgaflow::mvau{sparse}_config", constants, types,
                   arrays)


def vector_unit(layer) -> Binding:
    """``fpgaflow::vector_unit`` (depthwise), see fpgaflow/vector_unit.h."""
    lo, hi = _input_range(layer.in_spec)
    w = layer.weights  # (K, C) -> [PE][CF][K]: channel c = cf * PE + pe
    arranged = w.reshape(layer.window_size, layer.channels // layer.pe, layer.pe).transpose(2, 1, 0)
    arrays = [CArray("weights", range_type(min(int(w.min()), 0), max(int(w.max()), 0)), arranged)]
    constants = {**ints(channels=layer.channels, window=layer.window_size, pixels=layer.pixels, pe=layer.pe,
                        cf=layer.channels // layer.pe, in_bipolar=int(layer.in_spec.bipolar)),
                 **wide(acc_min=layer.acc_spec.lo, acc_max=layer.acc_spec.hi)}
    policy = PRODUCT_POLICY["ternary" if layer.arith == "ternary" else "mac"]
    types = {"in_t": code_type(layer.in_spec), "out_t": code_type(layer.out_spec),
             "acc_t": acc_ctype(layer.acc_spec.bits),
             **_product_types((lo, hi), (int(w.min()), int(w.max())), policy, (min(lo, 0), hi))}
    if layer.table is not None:
        table_constants, table_array = threshold_parts(layer.table, layer.pe)
        constants.update(table_constants)
        constants.update(ints(nf=layer.channels // layer.pe))
        arrays.append(table_array)
    return Binding("fpgaflow/vector_unit.h", "fpgaflow::vector_unit", "fpgaflow::vector_unit_config", constants,
                   types, arrays)


def thresholding(layer) -> Binding:
    """``fpgaflow::thresholding``, see fpgaflow/thresholding.h."""
    table_constants, table_array = threshold_parts(layer.table, layer.pe)
    constants = {**ints(channels=layer.channels, pe=layer.pe, nf=layer.channels // layer.pe, pixels=layer.pixels),
                 **table_constants}
    return Binding("fpgaflow/thresholding.h", "fpgaflow::thresholding", "fpgaflow::thresholding_config", constants,
                   {"in_t": code_type(layer.in_spec), "out_t": code_type(layer.out_spec)}, [table_array])
