"""Write the host-side float edges of a design (input quantization, output dequantization)."""

from __future__ import annotations

from pathlib import Path

import onnx

from fpgaflow.interface import write_design
from fpgaflow.ir import HardwareGraph


def write_host(hg: HardwareGraph, out_dir: Path) -> Path:
    """Save ``out_dir/host``: the two float sub-graphs as ONNX files (what the C simulation runs
    on the host) and the design file (:func:`fpgaflow.interface.write_design`)."""
    host = Path(out_dir) / "host"
    host.mkdir(parents=True, exist_ok=True)
    onnx.save(hg.host_in.graph.to_onnx(), str(host / "input.onnx"))
    if hg.host_out.graph is not None:
        onnx.save(hg.host_out.graph.to_onnx(), str(host / "output.onnx"))
    elif (host / "output.onnx").exists():
        (host / "output.onnx").unlink()
    write_design(hg, host)
    return host
