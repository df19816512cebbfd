"""Packing integer codes into the accelerator's AXI4-Stream words, and back (numpy only).

The contract is the one ``fpgaflow/axis.h`` implements in hardware: a token travels in ``words``
little-endian AXI words of ``word_bits`` bits; word ``w`` holds the token's elements
``w * per_word`` to ``(w + 1) * per_word - 1``, element ``k`` of the word in bits
``[k * elem_bits, (k + 1) * elem_bits)`` (two's complement; bipolar +1 is 1 and -1 is 0), unused
bits zero. A token that fits one word is simply its elements LSB first. A frame is its tokens in
order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

#: The widest AXI DMA stream; a wider token spans several words.
MAX_WORD_BITS = 1024


def axi_word_bits(token_bits: int) -> int:
    """TDATA width for tokens of ``token_bits``: a power of two, at least 8 and at most 1024."""
    bits = 8
    while bits < token_bits and bits < MAX_WORD_BITS:
        bits *= 2
    return bits


@dataclass(frozen=True)
class StreamLayout:
    """One AXI4-Stream port: ``elems`` codes per frame, ``width`` per token, in ``[lo, hi]``."""

    elems: int
    width: int
    elem_bits: int
    lo: int
    hi: int
    bipolar: bool = False

    @property
    def tokens(self) -> int:
        """Tokens per frame."""
        return self.elems // self.width

    @property
    def word_bits(self) -> int:
        """TDATA width in bits."""
        return axi_word_bits(self.width * self.elem_bits)

    @property
    def per_word(self) -> int:
        """Elements per AXI word (an element never straddles two words)."""
        return min(self.width, self.word_bits // self.elem_bits)

    @property
    def words(self) -> int:
        """AXI words per token."""
        return -(-self.width // self.per_word)

    @property
    def frame_bytes(self) -> int:
        """Bytes one frame takes in memory (the DMA buffer)."""
        return self.tokens * self.words * self.word_bits // 8

    def to_dict(self) -> dict:
        """The layout as JSON-ready data, with the derived word sizes for readers."""
        return {**asdict(self), "word_bits": self.word_bits, "words_per_token": self.words,
                "elems_per_word": self.per_word, "frame_bytes": self.frame_bytes}

    @classmethod
    def from_dict(cls, data: dict) -> "StreamLayout":
        """The layout :meth:`to_dict` wrote."""
        return cls(int(data["elems"]), int(data["width"]), int(data["elem_bits"]), int(data["lo"]), int(data["hi"]),
                   bool(data["bipolar"]))


def pack(codes: np.ndarray, layout: StreamLayout) -> np.ndarray:
    """(N, elems) integer codes -> (N, frame_bytes) uint8, ready for the DMA."""
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != layout.elems:
        raise ValueError(f"codes have shape {codes.shape}; the stream takes (N, {layout.elems})")
    codes = codes.astype(np.int64)
    if codes.size and (codes.min() < layout.lo or codes.max() > layout.hi or (layout.bipolar and (codes == 0).any())):
        raise ValueError(f"codes span [{codes.min()}, {codes.max()}]; the stream takes [{layout.lo}, {layout.hi}]"
                         + (" without 0 (bipolar)" if layout.bipolar else ""))
    raw = (codes > 0).astype(np.int64) if layout.bipolar else codes & ((1 << layout.elem_bits) - 1)
    n, slots = len(codes), layout.words * layout.per_word
    raw = np.pad(raw.reshape(n, layout.tokens, layout.width), ((0, 0), (0, 0), (0, slots - layout.width)))
    bits = ((raw[..., None] >> np.arange(layout.elem_bits)) & 1).astype(np.uint8)
    bits = bits.reshape(n, layout.tokens, layout.words, layout.per_word * layout.elem_bits)
    bits = np.pad(bits, ((0, 0), (0, 0), (0, 0), (0, layout.word_bits - bits.shape[-1])))
    return np.packbits(bits, axis=-1, bitorder="little").reshape(n, layout.frame_bytes)


def unpack(data: np.ndarray, layout: StreamLayout) -> np.ndarray:
    """(N, frame_bytes) uint8 (or the flat bytes of N frames) -> (N, elems) int64 codes."""
    data = np.asarray(data, dtype=np.uint8).reshape(-1, layout.frame_bytes)
    n = len(data)
    bits = np.unpackbits(data.reshape(n, layout.tokens, layout.words, -1), axis=-1, bitorder="little")
    bits = bits[..., :layout.per_word * layout.elem_bits].reshape(n, layout.tokens, -1, layout.elem_bits)
    bits = bits[:, :, :layout.width].reshape(n, layout.elems, layout.elem_bits)
    values = bits.astype(np.int64) @ (np.int64(1) << np.arange(layout.elem_bits, dtype=np.int64))
    if layout.bipolar:
        return 2 * values - 1
    if layout.lo < 0:
        values = np.where(values >= 1 << (layout.elem_bits - 1), values - (1 << layout.elem_bits), values)
    return values
