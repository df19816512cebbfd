"""What every layer kit provides: integer semantics, stream shapes, loop schedule, folding and resources.

How a kit is written out (HLS C++ today) lives in its backend, e.g. :mod:`fpgaflow.codegen.bindings`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import NamedTuple

import numpy as np

from fpgaflow.ir import IntSpec


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
    """One hardware layer kind: integer semantics, schedule, folding and resources.

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
    def cycles(self) -> int:
        """Initiation interval per frame in clock cycles (steady state)."""

    def pipeline_depth(self) -> int:
        """Cycles from a loop iteration's start to its written token being readable downstream."""
        return 4

    def output_slots(self) -> int:
        """Tokens the kit holds between an iteration and its output FIFO (pipeline registers and its
        output queue): a power of two of at least 4 and at least ``pipeline_depth()``, the queue the
        RTL backend builds (docs/rtl.md). The cycle simulator's room is the FIFO depth plus these."""
        return 1 << max(2, (self.pipeline_depth() - 1).bit_length())

    @abstractmethod
    def schedule(self) -> list[Phase]:
        """The loop iterations of one frame, in order, with the tokens each reads and writes (as the
        C++ header runs them, one iteration per cycle). The cycle simulator executes this."""

    @abstractmethod
    def resources(self) -> dict[str, int]:
        """First-order LUT/FF/DSP/BRAM18 estimate."""

    # ---- folding: what the optimizer may choose and what follows from it ----
    #: True for kits that pass channels through without depending on their order (a channel
    #: permutation before them can be undone after them).
    channel_order_free: bool = False

    def fold_options(self) -> list[tuple[int, int]]:
        """The legal (PE, SIMD) pairs when folding chooses this kit's parallelism; [] when it does not."""
        return []

    def check_folding(self, pe: int, simd: int) -> str | None:
        """Why (pe, simd) is not a legal folding for this kit, or None if it is."""
        return None

    def cycles_for(self, pe: int, simd: int) -> int:
        """Cycles per frame at folding (pe, simd)."""
        return self.cycles()

    def set_folding(self, pe: int, simd: int) -> None:
        """Take the folding (pe, simd) (only kits with :meth:`fold_options`)."""
        raise TypeError(f"{self.name}: a {self.kind} kit has no folding to set")

    def cycles_fully_folded(self) -> int:
        """Cycles per frame at the cheapest folding (PE = SIMD = 1; 1 for kits that are not folded)."""
        return self.cycles_for(1, 1) if self.fold_options() else 1

    def read_width(self) -> int | None:
        """The token width folding fixed on this kit's first input (None: it follows its producer)."""
        return None

    def follow_widths(self, in_widths: list[int | None], reader_width: int | None) -> None:
        """Take the widest token the neighbours allow: ``in_widths`` are the widths the producers
        write (None for the accelerator input), ``reader_width`` what the reader wants (or None)."""

    def channel_order(self) -> np.ndarray | None:
        """An output channel order that balances this kit's work (None: keep the order)."""
        return None

    def permute_outputs(self, order: np.ndarray) -> None:
        """Write output channel ``order[i]`` as channel i (only kits with a :meth:`channel_order`)."""
        raise TypeError(f"{self.name}: a {self.kind} kit cannot reorder its outputs")

    def absorb_input_order(self, order: np.ndarray, channels: int) -> bool:
        """Read inputs whose ``channels`` channels (innermost) arrive in ``order``; False if it cannot."""
        return False

    def describe(self) -> dict:
        """Shape and type facts for the report."""
        return {"in_elems": self.in_elems, "out_elems": self.out_elems,
                "in_type": str(self.in_spec.dtype.name), "out_type": str(self.out_spec.dtype.name)}


def weight_dim(axis: int, doc: str) -> property:
    """A read-only property: the size of ``self.weights`` along ``axis``."""
    return property(lambda self: self.weights.shape[axis], doc=doc)


class ChannelFolded:
    """Mixin for kits that move ``pe`` of their ``channels`` per token, as wide as the producer writes."""

    @property
    def pe_simd(self) -> tuple[int, int]:
        return (self.pe, 1)

    def follow_widths(self, in_widths, reader_width) -> None:
        """As wide as the producer writes, dividing the channels."""
        self.pe = math.gcd(self.channels, in_widths[0] or 1)


class JoinsTwo:
    """Mixin for kits that join two streams, ``a`` and ``b``: port 0 reads ``a_spec``, port 1 ``b_spec``."""

    @property
    def in_spec(self) -> IntSpec:
        return self.a_spec

    def input_specs(self) -> list[IntSpec]:
        return [self.a_spec, self.b_spec]


class SpecPreserving:
    """Mixin for kits that move codes without changing them: both sides carry ``self.spec``."""

    @property
    def in_spec(self) -> IntSpec:
        return self.spec

    @property
    def out_spec(self) -> IntSpec:
        return self.spec
