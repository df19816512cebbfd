"""The design file of an accelerator's host edges (``design.json``), read with numpy only.

One function of the library (``fpgaflow.interface.write_design``) writes it, with the host
constants next to it, into ``DIR/host`` (for the C simulation) and ``DIR/driver`` (for the board):
the same file twice, so the driver folder stands on its own. :func:`load_design` is its one reader
and :func:`check_input` the one check of a float input against it. The format::

    {"model": name,
     "input":  {"name", "shape" (batch first), "scale" (the first quantizer's),
                "annotated" ({"name", "min", "max"}: an integer datatype annotation, or null),
                "axis" (the accelerator's input port, StreamLayout.to_dict), "graph"},
     "output": {"name", "shape", "value_scale" (per channel), "offset" (one per element),
                "chw" (a feature map's channels, height, width, or null), "source_tensor",
                "source_bias" (where the reference has the last layer's integers), "axis", "graph"},
     "streams": {stream: {"tensor", "scale", "shape", "bipolar", "channels"}}}

A ``graph`` (the host's float nodes before the first quantizer, after the last integer layer; null
when there are none) is ``{"nodes", "constants" (tensor -> key in host_constants.npz), "shapes",
"input", "output"}``; see :class:`HostGraph` for the nodes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .host_ops import HostGraph, input_codes, output_values
from .packing import StreamLayout

DESIGN_FILE = "design.json"
CONSTANTS_FILE = "host_constants.npz"
INPUT, OUTPUT = "input", "output"


class InputError(ValueError):
    """A float input the design does not take: its shape, its type, or values its annotation forbids."""


def check_codes(x: np.ndarray, annotated: dict | None, origin: str = "input") -> None:
    """Raise :class:`InputError` unless every value of ``x`` is a code of the input's datatype
    annotation ``annotated`` (``{"name", "min", "max"}``; None: anything goes)."""
    if annotated is None:
        return
    x = np.asarray(x)
    bipolar = annotated["name"] == "BIPOLAR"
    lo, hi = annotated["min"], annotated["max"]
    ok = np.isin(x, (-1.0, 1.0)) if bipolar else (x == np.rint(x)) & (x >= lo) & (x <= hi)
    if not np.all(ok):
        bad = x[~ok].ravel()[0]
        raise InputError(f"{origin}: the model's input is annotated {annotated['name']}, but the value {bad} is not "
                         f"one of its codes ({'-1 or +1' if bipolar else f'integers {lo}..{hi}'})")


def check_input(x: np.ndarray, shape, annotated: dict | None = None, origin: str = "input") -> np.ndarray:
    """``x`` as float32 of shape (N, *shape[1:]), or an :class:`InputError` saying what is wrong.

    One sample without the batch axis, and samples of the right size in another shape, are
    reshaped; values must be numeric and, with ``annotated``, codes of that datatype.
    """
    x = np.asarray(x)
    want = tuple(shape[1:])
    if x.ndim == len(want) and x.size == int(np.prod(want)):
        x = x[None]
    if tuple(x.shape[1:]) != want:
        if x.ndim >= 1 and int(np.prod(x.shape[1:])) == int(np.prod(want)):
            x = x.reshape((len(x),) + want)
        else:
            raise InputError(f"{origin}: shape {list(x.shape)}; the model takes (N, {', '.join(map(str, want))})")
    if not np.issubdtype(x.dtype, np.number):
        raise InputError(f"{origin}: dtype {x.dtype} is not numeric")
    check_codes(x, annotated, origin)
    return x.astype(np.float32)


class HostDesign:
    """A loaded design file: the ports' layouts and the host edges in numpy.

    ``data`` is the file's content; the host constants are read from ``folder`` when a host
    graph is first needed.
    """

    def __init__(self, folder: str | Path, data: dict):
        self.folder, self.data = Path(folder), data
        self.input, self.output = data[INPUT], data[OUTPUT]
        self.in_layout = StreamLayout.from_dict(self.input["axis"])
        self.out_layout = StreamLayout.from_dict(self.output["axis"])
        self._graphs: dict | None = None

    @property
    def input_shape(self) -> list[int]:
        """The model's input shape (batch first)."""
        return list(self.input["shape"])

    @property
    def annotated(self) -> dict | None:
        """The input's integer datatype annotation (``{"name", "min", "max"}``), or None."""
        return self.input.get("annotated")

    def check_input(self, x: np.ndarray, origin: str = "input") -> np.ndarray:
        """:func:`check_input` against this design's input."""
        return check_input(x, self.input_shape, self.annotated, origin)

    def host_graph(self, side: str) -> HostGraph | None:
        """The numpy host graph of ``side`` (``"input"`` or ``"output"``), None where there is none."""
        if self._graphs is None:
            with np.load(self.folder / CONSTANTS_FILE) as npz:
                constants = dict(npz)
            self._graphs = {s: _host_graph(self.data[s]["graph"], constants) for s in (INPUT, OUTPUT)}
        return self._graphs[side]

    def codes(self, x: np.ndarray) -> np.ndarray:
        """Float input (N, *input_shape[1:]) -> the integer codes the accelerator takes, (N, elems)."""
        values = self.host_graph(INPUT)(self.check_input(x))
        return input_codes(values, self.input["scale"])

    def outputs(self, ints: np.ndarray) -> np.ndarray:
        """The accelerator's integer outputs (N, elems) -> the model's float output."""
        out = self.output
        value = output_values(ints, np.asarray(out["value_scale"]), np.asarray(out["offset"], dtype=np.int64),
                              tuple(out["chw"]) if out["chw"] else None)
        graph = self.host_graph(OUTPUT)
        if graph is not None:
            value = graph(value.reshape([len(value)] + list(graph.shapes[graph.input_name][1:])))
        return value.reshape([len(ints)] + list(out["shape"][1:]))


def load_design(folder: str | Path) -> HostDesign:
    """Read ``folder/design.json`` (a build's ``host`` or ``driver`` folder)."""
    path = Path(folder) / DESIGN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    return HostDesign(folder, json.loads(path.read_text()))


def _host_graph(data: dict | None, constants: dict) -> HostGraph | None:
    if data is None:
        return None
    return HostGraph(data["nodes"], {name: constants[key] for name, key in data["constants"].items()},
                     data["shapes"], data["input"], data["output"])
