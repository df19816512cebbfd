"""The saved hardware graph: ``DIR/graph.json`` (kits, streams, endpoints, target) and ``DIR/params.npz``.

Every kit is a dataclass; it is written as its class name and fields, arrays going to the npz
file under ``<layer>.<field>`` keys. :func:`load_graph` reads the pair back into a
:class:`HardwareGraph` whose layers are the same kits (without the host edges, which live in
``DIR/host/``), so every later stage and backend can start from the saved artefact alone.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from fpgaflow import __version__
from fpgaflow.errors import UserError
from fpgaflow.ir import HardwareGraph
from fpgaflow.layers import KIT_TYPES

GRAPH_FILE, PARAMS_FILE = "graph.json", "params.npz"
FORMAT = 1


def _encode(value, arrays: dict, key: str):
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"array": key}
    if dataclasses.is_dataclass(value):
        fields = {f.name: _encode(getattr(value, f.name), arrays, f"{key}.{f.name}")
                  for f in dataclasses.fields(value) if f.init}
        return {"type": type(value).__name__, "fields": fields}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, arrays, f"{key}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode(value, arrays):
    if not isinstance(value, dict):
        return value
    if "array" in value:
        return arrays[value["array"]]
    if "tuple" in value:
        return tuple(_decode(v, arrays) for v in value["tuple"])
    cls = KIT_TYPES[value["type"]]
    return cls(**{k: _decode(v, arrays) for k, v in value["fields"].items()})


def graph_document(hg: HardwareGraph, part: str, clock_mhz: float) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON document and the named arrays of ``hg`` built for ``part`` at ``clock_mhz``."""
    arrays: dict[str, np.ndarray] = {}
    layers = [{"kit": _encode(layer, arrays, layer.name), "inputs": list(layer.inputs),
               "outputs": list(layer.outputs)} for layer in hg.layers]
    streams = [dataclasses.asdict(s) for s in hg.streams()]
    doc = {"format": FORMAT, "fpgaflow": __version__, "name": hg.name, "part": part, "clock_mhz": clock_mhz,
           "input": {"name": hg.input_name, "shape": list(hg.input_shape)}, "output": hg.output_name,
           "layers": layers, "streams": streams, "notes": list(hg.notes)}
    return doc, arrays


def save_graph(hg: HardwareGraph, out_dir: Path, part: str, clock_mhz: float) -> Path:
    """Write ``out_dir/graph.json`` and ``out_dir/params.npz``; return the JSON path."""
    doc, arrays = graph_document(hg, part, clock_mhz)
    out_dir = Path(out_dir)
    np.savez_compressed(out_dir / PARAMS_FILE, **arrays)
    path = out_dir / GRAPH_FILE
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path


def load_graph(build_dir: str | Path) -> tuple[HardwareGraph, dict]:
    """The hardware graph saved in ``build_dir`` (layers, streams and FIFO depths) and its document."""
    build_dir = Path(build_dir)
    path = build_dir / GRAPH_FILE
    if not path.is_file():
        raise UserError(f"{build_dir}: no {GRAPH_FILE}; run fpgaflow build first")
    doc = json.loads(path.read_text())
    if doc.get("format") != FORMAT:
        raise UserError(f"{path}: written by fpgaflow {doc.get('fpgaflow')} in another format; rebuild it")
    with np.load(build_dir / PARAMS_FILE) as npz:
        arrays = {k: npz[k] for k in npz.files}
    layers = []
    for entry in doc["layers"]:
        layer = _decode(entry["kit"], arrays)
        layer.inputs, layer.outputs = tuple(entry["inputs"]), tuple(entry["outputs"])
        layers.append(layer)
    hg = HardwareGraph(name=doc["name"], input_name=doc["input"]["name"], input_shape=doc["input"]["shape"],
                       output_name=doc["output"], host_in=None, layers=layers, host_out=None,
                       notes=list(doc["notes"]), depths={s["name"]: s["depth"] for s in doc["streams"]})
    return hg, doc
