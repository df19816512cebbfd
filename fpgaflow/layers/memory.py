"""Where a kit's constant memories (weight and threshold ROMs, one per PE) live, and what they cost.

A ROM is either logic (LUT6s and the slice's F7/F8 multiplexers, as synthesis builds any small
ROM) or block RAM (RAMB18 in the aspect ratio that takes the fewest blocks). The kit decides by
cost (:func:`rom_style`); the RTL backend writes the decision as a ``rom_style`` attribute, so the
estimate and the synthesised netlist agree on it by construction. The LUT cost of a logic ROM is
measured with Yosys 0.70 ``synth_xilinx -family xc7`` on ROMs of random words (the weight ROMs
of the MVAUs ``benchmarks/kit_resources.py`` synthesises); see docs/resources.md.
"""

from __future__ import annotations

import math

#: (width, depth) of the RAMB18E1 aspect ratios.
BRAM18_SHAPES = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))
#: A logic ROM is chosen while it costs at most this many LUTs per BRAM18 it saves: the LUT/BRAM18
#: ratio of the xc7z020 (53,200 / 280), so neither resource is spent faster than the other.
LUTS_PER_BRAM18 = 190
#: Words of a logic ROM above which a LUT6 per output bit no longer suffices: F7/F8 multiplexers
#: join 2 and 4 LUT6s up to 256 words; beyond that ABC's multiplexer trees cost one LUT per
#: ``DEEP_WORDS_PER_LUT`` words and bit (Yosys 0.70: 9.4-11.6 at 512, 22 at 1K, 41-42 at 2K).
DEEP_WORDS_PER_LUT = 46.5
#: Beyond ``DEEP_WORDS`` words ABC's trees grow faster: about 320 LUTs per bit at 4K words
#: (benchmarks/kit_resources.py: the 4096-word 1- and 2-bit weight ROMs of the 64x64 PE=SIMD=1 MVAUs).
DEEP_WORDS, DEEPER_WORDS_PER_LUT = 2048, 12.8


def bram18_blocks(depth: int, width: int) -> int:
    """RAMB18s of one ROM of ``depth`` words of ``width`` bits, in its cheapest aspect ratio."""
    return min(math.ceil(width / w) * math.ceil(depth / d) for w, d in BRAM18_SHAPES)


def logic_rom_luts(depth: int, width: int) -> int:
    """LUTs of one ROM built from logic (random contents: no minimisation assumed)."""
    if depth <= 4:  # an address bit or two: folded into the output register's logic
        return math.ceil(width * (depth - 1) / 8)
    if depth <= 256:
        return width * max(1, math.ceil(depth / 64))
    if depth <= DEEP_WORDS:
        return math.ceil(width * depth / DEEP_WORDS_PER_LUT)
    return math.ceil(width * depth / DEEPER_WORDS_PER_LUT)


def rom_style(depth: int, width: int) -> str:
    """``"logic"`` or ``"block"``: logic while its LUTs cost no more than the BRAM18s it saves."""
    return "logic" if logic_rom_luts(depth, width) <= LUTS_PER_BRAM18 * bram18_blocks(depth, width) else "block"


def rom_cost(depth: int, width: int, count: int = 1) -> dict[str, int]:
    """LUT, FF and BRAM18 of ``count`` ROMs of ``depth`` x ``width`` with a registered read port
    (the register is the BRAM's own output register for block ROMs)."""
    if depth <= 0 or width <= 0:
        return {"lut": 0, "ff": 0, "bram18": 0}
    if rom_style(depth, width) == "block":
        return {"lut": 0, "ff": 0, "bram18": count * bram18_blocks(depth, width)}
    return {"lut": count * logic_rom_luts(depth, width), "ff": count * width, "bram18": 0}
