"""fpgaflow's PYNQ driver (numpy only): copied into each build as ``DIR/driver/fpgaflow_driver``."""

from .accelerator import Accelerator, CsimBackend, PynqBackend

__all__ = ["Accelerator", "CsimBackend", "PynqBackend"]
