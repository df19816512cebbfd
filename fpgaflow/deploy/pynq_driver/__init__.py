"""fpgaflow's PYNQ driver (numpy only): copied into each build as ``DIR/driver/fpgaflow_driver``,
with a copy of :mod:`fpgaflow.streamio` inside it (``fpgaflow_driver/streamio``)."""

from .accelerator import Accelerator, CsimBackend, PynqBackend

__all__ = ["Accelerator", "CsimBackend", "PynqBackend"]
