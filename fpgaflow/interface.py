"""The accelerator's interface to the host: its top's name, its two AXI4-Stream ports, and the one
design file of its host edges.

The HLS code (``codegen``) and the board scripts and driver (``deploy``) both take these from here,
so neither imports the other. :func:`write_design` writes the design file that
:func:`fpgaflow.streamio.load_design` reads (the format is described there).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx

from fpgaflow.annotation import annotation
from fpgaflow.errors import json_value
from fpgaflow.frontend.float_exec import FloatGraph, node_opset
from fpgaflow.ir import HardwareGraph
from fpgaflow.streamio import CONSTANTS_FILE, DESIGN_FILE, StreamLayout

#: The HLS top function, and so the name of the IP Vitis HLS exports.
TOP = "fpgaflow_top"


def port_layouts(hg: HardwareGraph) -> tuple[StreamLayout, StreamLayout]:
    """The accelerator's input and output AXI4-Stream ports (see :meth:`fpgaflow.ir.Stream.layout`)."""
    return hg.source.layout(), hg.sink.layout()


def stream_word_bits(hg: HardwareGraph) -> tuple[int, int]:
    """TDATA widths of the accelerator's AXI4-Stream input and output, as the HLS top packs them.

    Each is :func:`fpgaflow.streamio.axi_word_bits` of a token's bits: elements per token times
    element bits, of the first layer's input and of the last layer's output.
    """
    source, sink = port_layouts(hg)
    return source.word_bits, sink.word_bits


def _attribute(attr: onnx.AttributeProto):
    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, (list, tuple)):
        return [v.decode() if isinstance(v, bytes) else v for v in value]
    return value


def node_data(node: onnx.NodeProto, opset: int) -> dict:
    """One node as the design file describes it: op, inputs, outputs, attributes and the opset the
    reference runs it with (Softmax-like ops depend on it)."""
    return {"op": node.op_type, "inputs": list(node.input), "outputs": list(node.output),
            "attrs": {a.name: _attribute(a) for a in node.attribute if a.name != "out_dtype"}, "opset": opset}


def host_graph_data(graph: FloatGraph | None, prefix: str, constants: dict) -> dict | None:
    """``graph`` as the design file describes it; its constants go into ``constants`` under ``prefix``."""
    if graph is None:
        return None
    keys = {}
    for name, value in graph.constants.items():
        keys[name] = f"{prefix}{len(keys)}"
        constants[keys[name]] = np.asarray(value)
    nodes = [node_data(n, node_opset(graph.opsets, n)) for n in graph.nodes]
    return {"nodes": nodes, "constants": keys, "shapes": graph.shapes, "input": graph.input_name,
            "output": graph.output_name}


def design_data(hg: HardwareGraph, layouts: tuple[StreamLayout, StreamLayout], constants: dict) -> dict:
    """The design file's content for ``hg`` with the ports ``layouts``; the host graphs' constants
    go into ``constants``."""
    host_in, host_out = hg.host_in, hg.host_out
    return {
        "model": hg.name,
        "input": {"name": hg.input_name, "shape": list(hg.input_shape), "scale": float(host_in.scale),
                  "annotated": annotation(host_in.dtype), "axis": layouts[0].to_dict(),
                  "graph": host_graph_data(host_in.graph, "input_", constants)},
        "output": {"name": hg.output_name, "shape": list(host_out.output_shape),
                   "value_scale": np.asarray(host_out.value_scale, dtype=np.float64).tolist(),
                   "offset": np.broadcast_to(host_out.offset, (layouts[1].elems,)).astype(np.int64).tolist(),
                   "chw": list(host_out.chw) if host_out.chw else None,
                   "source_tensor": getattr(host_out, "source_tensor", None),
                   "source_bias": getattr(host_out, "source_bias", None), "axis": layouts[1].to_dict(),
                   "graph": host_graph_data(host_out.graph, "output_", constants)},
        "streams": hg.stream_tensors,
    }


def write_design(hg: HardwareGraph, folder: Path, layouts: tuple[StreamLayout, StreamLayout] | None = None) -> Path:
    """Write ``folder/design.json`` and its host constants for ``hg``; return the design file's path.

    ``layouts``: the ports, by default :func:`port_layouts` of ``hg``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    constants: dict = {}
    data = design_data(hg, layouts or port_layouts(hg), constants)
    path = folder / DESIGN_FILE
    path.write_text(json.dumps(data, indent=1, default=json_value))
    np.savez(folder / CONSTANTS_FILE, **constants)
    return path
