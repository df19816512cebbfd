"""The tokens every stream carries, from the layer kits' integer references.

The cycle simulator moves tokens by count; their values are what the kits' numpy references
compute. Comparing these sequences with the C simulation's stream log checks, stream by
stream, that the C++ kernels write the values and the number of tokens the kits promise.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.ir import IN_STREAM, HardwareGraph


def stream_tokens(hg: HardwareGraph, codes: np.ndarray) -> dict[str, np.ndarray]:
    """Per stream, its tokens over all frames of ``codes`` (N, input elements), in order, as a
    (tokens, width) array of the values on the wire (bipolar: 1 for +1, 0 for -1)."""
    codes = np.asarray(codes, dtype=np.int64)
    values = {IN_STREAM: codes}
    widths, specs = {}, {}
    first = hg.first
    port = list(first.inputs).index(IN_STREAM)
    widths[IN_STREAM], specs[IN_STREAM] = first.input_widths()[port], first.input_specs()[port]
    for layer in hg.layers:
        result = np.asarray(layer.reference(*[values[s] for s in layer.inputs]), dtype=np.int64)
        for stream in layer.outputs:
            values[stream] = result
            widths[stream], specs[stream] = layer.out_width, layer.out_spec
    tokens = {}
    for stream, value in values.items():
        wire = (value > 0).astype(np.int64) if specs[stream].bipolar else value
        tokens[stream] = wire.reshape(-1, widths[stream])
    return tokens
