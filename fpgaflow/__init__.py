"""fpgaflow: quantized, pruned neural networks (Brevitas/QONNX) to bit-exact streaming HLS C++."""

__version__ = "0.1.0"
