"""Write the HLS C++ project of a hardware graph: config, parameters, top, testbench, TCL."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2
import numpy as np

from fpgaflow import __version__
from fpgaflow.boards import Board
from fpgaflow.deploy.pynq_driver.packing import StreamLayout
from fpgaflow.ir import DEFAULT_FIFO_DEPTH, IN_STREAM, OUT_STREAM, HardwareGraph, IntSpec

log = logging.getLogger(__name__)

TOP = "fpgaflow_top"


def templates_dir() -> Path:
    """The folder of C++ kernel headers and Jinja2 templates."""
    return Path(str(resources.files("fpgaflow.hls_templates")))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def c_initializer(values: np.ndarray, hex_words: bool = False) -> str:
    """A nested C brace initializer for an integer array."""
    values = np.asarray(values)
    if values.ndim == 1:
        if hex_words:
            return "{" + ",".join(f"0x{int(v):x}ULL" for v in values) + "}"
        return "{" + ",".join(map(str, values.astype(np.int64).tolist())) + "}"
    return "{" + ",\n".join(c_initializer(v, hex_words) for v in values) + "}"


@dataclass
class StreamDecl:
    name: str
    ctype: str
    width: int
    depth: int


@dataclass
class Endpoint:
    spec: IntSpec
    width: int
    elems: int

    @property
    def ctype(self) -> str:
        return self.spec.ctype()

    @property
    def axis(self) -> StreamLayout:
        """The AXI4-Stream port carrying this end's tokens."""
        return StreamLayout(self.elems, self.width, self.spec.bits, self.spec.lo, self.spec.hi, self.spec.bipolar)


def endpoints(hg: HardwareGraph) -> tuple[Endpoint, Endpoint]:
    """The accelerator's input and output streams."""
    first, last = hg.first, hg.last
    port = list(first.inputs).index(IN_STREAM)
    return (Endpoint(first.input_specs()[port], first.input_widths()[port], first.input_elems()[port]),
            Endpoint(last.out_spec, last.out_width, last.out_elems))


def _layer_view(layer) -> dict:
    binding = layer.binding()
    config = f"{layer.name}_config"
    types = [(k, type(v)(v.hw.replace("{config}", config), v.csim)) for k, v in binding.types.items()]
    types += [(f"{a.role}_t", a.ctype) for a in binding.arrays]
    for array in binding.arrays:
        array.init = c_initializer(array.values, array.hex_words)
    pe, simd = layer.pe_simd
    summary = f"{layer.in_elems} -> {layer.out_elems}, PE={pe}, SIMD={simd}"
    return {"name": layer.name, "kind": layer.kind, "arith": layer.arith, "binding": binding, "types": types,
            "summary": summary, "streams": ", ".join(list(layer.inputs) + list(layer.outputs))}


def write_hls(hg: HardwareGraph, board: Board, clock_mhz: float, out_dir: Path,
              fifo_depths: dict[str, int] | None = None) -> Path:
    """Render ``out_dir/hls`` for ``hg``: config.h, params.h, top.cpp, testbench.cpp, hls.tcl.

    The fpgaflow kernel headers are copied next to the sources so the folder builds on its own
    (with Vitis HLS, or with g++ and hls4ml's ap_types headers).
    """
    hls = Path(out_dir) / "hls"
    hls.mkdir(parents=True, exist_ok=True)
    fifo_depths = fifo_depths or {}
    layers = hg.layers
    streams = [StreamDecl(s, layer.out_spec.ctype(), layer.out_width, fifo_depths.get(s, DEFAULT_FIFO_DEPTH))
               for layer in layers for s in layer.outputs if s != OUT_STREAM]
    views = [_layer_view(layer) for layer in layers]
    source, sink = endpoints(hg)
    headers = sorted({v["binding"].header for v in views})
    context = {
        "version": __version__, "model": hg.name, "top": TOP, "layers": views, "streams": streams,
        "headers": headers, "part": board.part, "period_ns": f"{1000.0 / clock_mhz:.3f}",
        "input": source, "output": sink,
        # Frames between the two AXI adapters: the batch-end flags' FIFO holds one per frame.
        "frames_in_flight": len(layers) + 2,
    }
    env = _environment()
    for template, target in (("config.h.j2", "config.h"), ("params.h.j2", "params.h"), ("top.cpp.j2", "top.cpp"),
                             ("testbench.cpp.j2", "testbench.cpp"), ("hls.tcl.j2", "hls.tcl")):
        (hls / target).write_text(env.get_template(template).render(**context))
    kernels = hls / "fpgaflow"
    if kernels.exists():
        shutil.rmtree(kernels)
    shutil.copytree(templates_dir() / "fpgaflow", kernels)
    log.info("wrote HLS sources to %s", hls)
    return hls
