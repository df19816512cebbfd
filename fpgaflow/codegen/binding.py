"""The typed template binding: what one layer's C++ header takes (config members, arrays, call).

Every config member carries its C type (:class:`Const`, :class:`CType`); each kernel header
documents the members it reads in a base config struct that the generated config derives from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from qonnx.core.datatype import DataType

from fpgaflow.ir import IntSpec, smallest_dtype


class Const(NamedTuple):
    """A compile-time integer of a config struct and its C type."""

    ctype: str
    value: int


def ints(**values: int) -> dict[str, Const]:
    """``int`` config constants."""
    return {k: Const("int", int(v)) for k, v in values.items()}


def wide(**values: int) -> dict[str, Const]:
    """``long long`` config constants (accumulator bounds)."""
    return {k: Const("long long", int(v)) for k, v in values.items()}


@dataclass
class CType:
    """A C++ type with its synthesis spelling and (optionally) a faster csim spelling.

    Constant arrays are stored in native integers in the C simulation (their values are
    range-checked at generation time), in exact-width ap types for synthesis.
    """

    hw: str
    csim: str | None = None


@dataclass
class CArray:
    """A constant parameter array (weights, thresholds) emitted into params.h.

    It is named ``<layer>_<role>`` and its element type is ``<layer>_config::<role>_t``.
    """

    role: str
    ctype: CType
    values: np.ndarray
    hex_words: bool = False  # values are packed unsigned words, written as 0x...ULL

    @property
    def dims(self) -> str:
        return "".join(f"[{d}]" for d in self.values.shape)


@dataclass
class Binding:
    """The parameters a layer's C++ header takes: its base config, typed members, arrays and the call."""

    header: str
    function: str
    base: str
    constants: dict[str, Const] = field(default_factory=dict)
    types: dict[str, CType] = field(default_factory=dict)
    arrays: list[CArray] = field(default_factory=list)


def native_int_type(lo: int, hi: int) -> str:
    """The smallest fixed-width C integer type holding [lo, hi] (used by the C simulation)."""
    for bits in (8, 16, 32, 64):
        if lo >= -(1 << (bits - 1)) and hi < (1 << (bits - 1)):
            return f"int{bits}_t"
    raise ValueError(f"integer range [{lo}, {hi}] exceeds 64 bits")


def ap_type(dt: DataType) -> str:
    """ap_int/ap_uint spelling of an integer or bipolar DataType."""
    if dt == DataType["BIPOLAR"] or dt == DataType["BINARY"]:
        return "ap_uint<1>"
    return f"ap_int<{dt.bitwidth()}>" if dt.signed() else f"ap_uint<{dt.bitwidth()}>"


def code_type(spec: IntSpec) -> CType:
    """The ap_int type of one element of a stream carrying ``spec``."""
    return CType(ap_type(spec.dtype))


def range_type(lo: int, hi: int) -> CType:
    """Exact-width ap type of [lo, hi] in synthesis, the smallest native int in the C simulation."""
    return CType(ap_type(smallest_dtype(lo, hi)), native_int_type(lo, hi))


def acc_ctype(bits: int) -> CType:
    """Accumulator type: exact width in hardware, a native int in the C simulation."""
    return CType(f"ap_int<{bits}>", "int32_t" if bits <= 32 else "int64_t")


def product_ctype(lo: int, hi: int) -> CType:
    """The type holding every product in [lo, hi]: exact width, int32/int64 in the C simulation."""
    dt = smallest_dtype(lo, hi)
    return CType(ap_type(dt), "int32_t" if dt.bitwidth() <= 31 else "int64_t")
