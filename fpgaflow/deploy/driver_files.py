"""Write ``DIR/driver``: the PYNQ driver package and the design it drives."""

from __future__ import annotations

import json
import logging
import shutil
from importlib import resources
from pathlib import Path

from fpgaflow.errors import json_value

import numpy as np
import onnx

from fpgaflow.deploy import pynq_driver
from fpgaflow.deploy.pynq_driver.accelerator import CONSTANTS_FILE, DESIGN_FILE
from fpgaflow.deploy.pynq_driver.host_ops import supported_ops
from fpgaflow.frontend.float_exec import FloatGraph, node_opset
from fpgaflow.ir import HardwareGraph

log = logging.getLogger(__name__)

PACKAGE = "fpgaflow_driver"
#: The deployment notebook (notebooks/ in the repository), copied into every driver folder.
NOTEBOOK = "2_deploy_on_pynq.ipynb"


def _attribute(attr: onnx.AttributeProto):
    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, (list, tuple)):
        return [v.decode() if isinstance(v, bytes) else v for v in value]
    return value


def node_data(node: onnx.NodeProto, opset: int) -> dict:
    """One node as the driver's JSON description: op, inputs, outputs, attributes and the opset the
    reference runs it with (Softmax-like ops depend on it)."""
    return {"op": node.op_type, "inputs": list(node.input), "outputs": list(node.output),
            "attrs": {a.name: _attribute(a) for a in node.attribute if a.name != "out_dtype"}, "opset": opset}


def host_graph_data(graph: FloatGraph | None, prefix: str, constants: dict) -> dict | None:
    """``graph`` as the driver's JSON description; its constants go into ``constants`` under ``prefix``."""
    if graph is None:
        return None
    keys = {}
    for name, value in graph.constants.items():
        keys[name] = f"{prefix}{len(keys)}"
        constants[keys[name]] = np.asarray(value)
    nodes = [node_data(n, node_opset(graph.opsets, n)) for n in graph.nodes]
    return {"nodes": nodes, "constants": keys, "shapes": graph.shapes, "input": graph.input_name,
            "output": graph.output_name}


def annotation(dtype: str | None) -> dict | None:
    """The input's integer datatype annotation for the driver: name and code range, or None."""
    if dtype is None:
        return None
    from qonnx.core.datatype import DataType

    dt = DataType[dtype]
    return {"name": dt.name, "min": int(dt.min()), "max": int(dt.max())}


def unsupported_host_ops(hg: HardwareGraph) -> list[str]:
    """Host-side ops the numpy driver cannot run (the board would need onnxruntime for them)."""
    graphs = [g for g in (hg.host_in.graph, hg.host_out.graph) if g is not None]
    return sorted({n.op_type for g in graphs for n in g.nodes} - supported_ops())


def write_driver(hg: HardwareGraph, out_dir: Path, layouts: tuple) -> Path:
    """Write ``out_dir/driver``: the ``fpgaflow_driver`` package, design.json, the host constants
    and the deployment notebook.

    ``layouts``: the input and output :class:`StreamLayout` of the AXI4-Stream ports.
    """
    driver = Path(out_dir) / "driver"
    driver.mkdir(parents=True, exist_ok=True)
    package = driver / PACKAGE
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(Path(pynq_driver.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    constants: dict = {}
    host_out = hg.host_out
    design = {
        "model": hg.name,
        "input": {"shape": list(hg.input_shape), "scale": float(hg.host_in.scale), "axis": layouts[0].to_dict(),
                  "graph": host_graph_data(hg.host_in.graph, "input_", constants),
                  "annotated": annotation(hg.host_in.dtype)},
        "output": {"shape": list(host_out.output_shape),
                   "value_scale": np.asarray(host_out.value_scale, dtype=np.float64).tolist(),
                   "offset": np.broadcast_to(host_out.offset, (layouts[1].elems,)).astype(np.int64).tolist(),
                   "chw": list(host_out.chw) if host_out.chw else None, "axis": layouts[1].to_dict(),
                   "graph": host_graph_data(host_out.graph, "output_", constants)},
    }
    (driver / DESIGN_FILE).write_text(json.dumps(design, indent=1, default=json_value))
    np.savez(driver / CONSTANTS_FILE, **constants)
    shutil.copyfile(Path(str(resources.files("fpgaflow.notebooks"))) / NOTEBOOK, driver / "deploy_on_pynq.ipynb")
    missing = unsupported_host_ops(hg)
    if missing:
        log.warning("the driver's numpy host edges cannot run %s", ", ".join(missing))
    log.info("wrote the PYNQ driver to %s", driver)
    return driver
