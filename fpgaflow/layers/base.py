"""What every layer kit provides, and the typed template binding the code generator renders."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from fpgaflow.ir import IntSpec


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
    """The parameters a layer's C++ header takes: one config struct, arrays and the call."""

    header: str
    function: str
    constants: dict[str, int] = field(default_factory=dict)
    types: dict[str, CType] = field(default_factory=dict)
    arrays: list[CArray] = field(default_factory=list)


def native_int_type(lo: int, hi: int) -> str:
    """The smallest fixed-width C integer type holding [lo, hi] (used by the C simulation)."""
    for bits in (8, 16, 32, 64):
        if lo >= -(1 << (bits - 1)) and hi < (1 << (bits - 1)):
            return f"int{bits}_t"
    raise ValueError(f"integer range [{lo}, {hi}] exceeds 64 bits")


def acc_ctype(bits: int) -> CType:
    """Accumulator type: exact width in hardware, a native int in the C simulation."""
    return CType(f"ap_int<{bits}>", "int32_t" if bits <= 32 else "int64_t")


class Phase(NamedTuple):
    """``count`` consecutive loop iterations (one per cycle) that each read ``reads[i]`` tokens from
    input port i and write ``writes[j]`` tokens to output port j."""

    count: int
    reads: tuple[int, ...]
    writes: tuple[int, ...]


def phases(*items: tuple) -> list[Phase]:
    """A loop schedule from (count, reads, writes) items: empty phases dropped, equal neighbours merged."""
    out: list[Phase] = []
    for count, reads, writes in items:
        if count <= 0:
            continue
        if out and out[-1].reads == tuple(reads) and out[-1].writes == tuple(writes):
            out[-1] = out[-1]._replace(count=out[-1].count + count)
        else:
            out.append(Phase(int(count), tuple(reads), tuple(writes)))
    return out


def repeat(schedule: list[Phase], times: int) -> list[Phase]:
    """``schedule`` run ``times`` times in a row."""
    return phases(*(schedule * times)) if times > 0 else []


def stream_schedule(tokens: int, reads: tuple[int, ...], writes: tuple[int, ...]) -> list[Phase]:
    """One iteration per token: the schedule of kits that move a token per cycle on every port."""
    return phases((tokens, reads, writes))


class StreamShape(NamedTuple):
    """Elements per token (width) and per frame (elems) of a layer's input and output."""

    in_width: int
    out_width: int
    in_elems: int
    out_elems: int


def _shape_field(name: str, doc: str) -> property:
    return property(lambda self: getattr(self.stream_shape(), name), doc=doc)


class LayerKit(ABC):
    """One hardware layer kind: integer semantics, template binding, schedule and resources.

    Streams carry tokens of ``in_width``/``out_width`` elements; a frame is ``in_tokens``
    tokens in and ``out_tokens`` tokens out.
    """

    kind: str = "layer"
    name: str
    in_spec: IntSpec
    out_spec: IntSpec
    #: Names of the streams the layer reads and writes, in port order (set by the graph builder).
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    def input_widths(self) -> list[int]:
        """Elements per token on each input port (one port unless the kit joins branches)."""
        return [self.in_width] * max(1, len(self.inputs))

    def input_specs(self) -> list[IntSpec]:
        """The codes each input port carries."""
        return [self.in_spec] * max(1, len(self.inputs))

    def input_elems(self) -> list[int]:
        """Elements per frame on each input port."""
        return [self.in_elems] * max(1, len(self.inputs))

    @property
    def arith(self) -> str:
        """The arithmetic variant (``-`` for kits that do no arithmetic)."""
        return "-"

    @property
    def pe_simd(self) -> tuple[int, int]:
        return (1, 1)

    @abstractmethod
    def stream_shape(self) -> StreamShape:
        """Token widths and elements per frame on the input and output streams."""

    in_width = _shape_field("in_width", "Elements per input token.")
    out_width = _shape_field("out_width", "Elements per output token.")
    in_elems = _shape_field("in_elems", "Elements read per frame.")
    out_elems = _shape_field("out_elems", "Elements written per frame.")

    @property
    def in_tokens(self) -> int:
        return self.in_elems // self.in_width

    @property
    def out_tokens(self) -> int:
        return self.out_elems // self.out_width

    @abstractmethod
    def reference(self, x: np.ndarray) -> np.ndarray:
        """The integer semantics in numpy: (N, in_elems) int64 -> (N, out_elems) int64."""

    @abstractmethod
    def binding(self) -> Binding:
        """The template binding rendered into the generated C++."""

    @abstractmethod
    def cycles(self) -> int:
        """Initiation interval per frame in clock cycles (steady state)."""

    def pipeline_depth(self) -> int:
        """Cycles from a loop iteration's start to its written token being readable downstream."""
        return 4

    @abstractmethod
    def schedule(self) -> list[Phase]:
        """The loop iterations of one frame, in order, with the tokens each reads and writes (as the
        C++ header runs them, one iteration per cycle). The cycle simulator executes this."""

    @abstractmethod
    def resources(self) -> dict[str, int]:
        """First-order LUT/FF/DSP/BRAM18 estimate."""

    def describe(self) -> dict:
        """Shape and type facts for the report."""
        return {"in_elems": self.in_elems, "out_elems": self.out_elems,
                "in_type": str(self.in_spec.dtype.name), "out_type": str(self.out_spec.dtype.name)}


class SpecPreserving:
    """Mixin for kits that move codes without changing them: both sides carry ``self.spec``."""

    @property
    def in_spec(self) -> IntSpec:
        return self.spec

    @property
    def out_spec(self) -> IntSpec:
        return self.spec
