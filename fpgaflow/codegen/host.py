"""Write the host-side float edges of a design (input quantization, output dequantization)."""

from __future__ import annotations

import json
from pathlib import Path

from fpgaflow.errors import json_value

import numpy as np
import onnx

from fpgaflow.ir import HardwareGraph

DESIGN_FILE = "design.json"


def write_host(hg: HardwareGraph, out_dir: Path) -> Path:
    """Save ``out_dir/host``: the two float sub-graphs as ONNX files and design.json."""
    host = Path(out_dir) / "host"
    host.mkdir(parents=True, exist_ok=True)
    onnx.save(hg.host_in.graph.to_onnx(), str(host / "input.onnx"))
    if hg.host_out.graph is not None:
        onnx.save(hg.host_out.graph.to_onnx(), str(host / "output.onnx"))
    elif (host / "output.onnx").exists():
        (host / "output.onnx").unlink()
    first, last = hg.first, hg.last
    port = list(first.inputs).index("in")
    meta = {
        "model": hg.name,
        "input": {"name": hg.input_name, "shape": list(hg.input_shape), "scale": hg.host_in.scale,
                  "dtype": hg.host_in.dtype,
                  "lo": first.input_specs()[port].lo, "hi": first.input_specs()[port].hi,
                  "bipolar": first.input_specs()[port].bipolar, "elems": first.input_elems()[port]},
        "output": {"name": hg.output_name, "shape": list(hg.host_out.output_shape),
                   "value_scale": np.asarray(hg.host_out.value_scale, dtype=np.float64).tolist(),
                   "source_tensor": getattr(hg.host_out, "source_tensor", None),
                   "source_bias": getattr(hg.host_out, "source_bias", None),
                   "offset": np.broadcast_to(hg.host_out.offset, (last.out_elems,)).astype(np.int64).tolist(),
                   "chw": list(hg.host_out.chw) if hg.host_out.chw else None,
                   "lo": last.out_spec.lo, "hi": last.out_spec.hi, "bipolar": last.out_spec.bipolar,
                   "elems": last.out_elems},
    }
    meta["streams"] = hg.stream_tensors
    (host / DESIGN_FILE).write_text(json.dumps(meta, indent=2, default=json_value))
    return host
