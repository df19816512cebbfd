"""The layer kits: integer semantics, stream shapes, loop schedules, folding and resources.

:data:`KIT_TYPES` names every kit class and the value types their fields hold, so a saved
hardware graph (``DIR/graph.json``) can be read back without knowing any kit in particular.
"""

from fpgaflow.ir import IntSpec
from fpgaflow.layers.add import AddStreams
from fpgaflow.layers.concat import ConcatStreams
from fpgaflow.layers.duplicate import Duplicate
from fpgaflow.layers.max_streams import MaxStreams
from fpgaflow.layers.mvau import MatrixVectorUnit
from fpgaflow.layers.pool import Pool
from fpgaflow.layers.sliding_window import SlidingWindow, Window
from fpgaflow.layers.thresholding import ThresholdTable, Thresholding
from fpgaflow.layers.vector_unit import VectorUnit
from fpgaflow.layers.width_converter import StreamWidthConverter

#: class name -> class, for every dataclass a kit's fields may hold (kits included).
KIT_TYPES = {cls.__name__: cls for cls in (
    IntSpec, ThresholdTable, Window, MatrixVectorUnit, VectorUnit, Thresholding, SlidingWindow, Pool,
    StreamWidthConverter, Duplicate, AddStreams, MaxStreams, ConcatStreams)}
