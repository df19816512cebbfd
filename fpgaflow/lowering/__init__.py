"""Lowering by table: each ONNX op kind between the host edges becomes layer kits.

The host runs the reference's float ops up to the first activation quantizer (input edge) and
after the last layer's quantizer (output edge). In between, every tensor on the accelerator is
a stream of integer codes with a known scale:
- a MatMul or Conv becomes a matrix-vector unit (after a sliding-window generator for a Conv)
  whose following float ops (bias, BatchNorm, scaling, ReLU, the next quantizer) become exact
  per-channel thresholds (:mod:`.compute`);
- a quantizer reading a quantized tensor becomes a standalone thresholding layer (or nothing,
  when it keeps every code) (:mod:`.requantize`);
- max pooling runs on the codes; average pooling sums the codes and keeps the division in the
  scale (:mod:`.pooling`); a residual Add aligns the two scales by a shift and adds; Concat joins
  channels (:mod:`.joins`); reshapes, Pad and positive scalings keep the codes (:mod:`.shapes`);
- a tensor read by two layers is duplicated (:mod:`.graph`).
Weight quantizers are evaluated at compile time into integer codes and per-channel scales.

Each lowering registers itself in :data:`LOWERINGS` (:mod:`.registry`); the frontend's list of
supported operators is :func:`supported_ops`.
"""

# The lowering modules register their entries on import; the order of the specific lowerings of
# one op is the order here (the fallbacks of :mod:`.requantize` always come last).
from fpgaflow.lowering import compute, joins, pooling, requantize, shapes  # noqa: F401
from fpgaflow.lowering.graph import streamline
from fpgaflow.lowering.registry import LOWERINGS, Lowering, lower, lowers, supported_ops

__all__ = ["LOWERINGS", "Lowering", "lower", "lowers", "streamline", "supported_ops"]
