"""Streamline a cleaned QONNX network into integer layer kits: see :mod:`fpgaflow.lowering`."""

from fpgaflow.lowering.graph import host_model_input_shape, streamline  # noqa: F401
