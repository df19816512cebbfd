"""What the library and the board's driver share, in numpy only: the accelerator's streams.

- :mod:`.packing`: integer codes in the AXI4-Stream words of a port (:class:`StreamLayout`);
- :mod:`.host_ops`: the host's float edges (input codes, output values, the ONNX ops they run);
- :mod:`.design`: the one design file of the host edges, its loader and the one input check.

This package imports nothing but numpy and the standard library, and nothing of fpgaflow outside
itself: every build's driver folder ships a copy of it (``DIR/driver/fpgaflow_driver/streamio``).
"""

from .design import (CONSTANTS_FILE, DESIGN_FILE, HostDesign, InputError, check_codes, check_input,
                     load_design)
from .host_ops import TOLERANCE, HostGraph, input_codes, output_values, reference_layout, supported_ops
from .packing import MAX_WORD_BITS, StreamLayout, axi_word_bits, pack, unpack

__all__ = ["CONSTANTS_FILE", "DESIGN_FILE", "HostDesign", "InputError", "check_codes", "check_input",
           "load_design", "TOLERANCE", "HostGraph", "input_codes", "output_values", "reference_layout",
           "supported_ops", "MAX_WORD_BITS", "StreamLayout", "axi_word_bits", "pack", "unpack"]
