"""Imports the RTL writers of the compute kits so that they register in :data:`fpgaflow.rtl.registry.RTL_WRITERS`."""

from fpgaflow.rtl import mvau, thresholding  # noqa: F401
from fpgaflow.rtl import windows  # noqa: F401
from fpgaflow.rtl import joins, vector_unit  # noqa: F401  (duplicate, add, max, concat; vvau)
