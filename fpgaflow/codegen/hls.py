"""Write the HLS C++ project of a hardware graph: config, parameters, top, testbench, TCL."""

from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path

import jinja2
import numpy as np

from fpgaflow import __version__
from fpgaflow.boards import Board
from fpgaflow.codegen.binding import code_type
from fpgaflow.codegen.bindings import bind
from fpgaflow.codegen.lint import lint_hls
from fpgaflow.interface import TOP
from fpgaflow.ir import HardwareGraph, Stream

log = logging.getLogger(__name__)


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


def port_view(stream: Stream) -> dict:
    """What the templates need of the accelerator's input or output stream."""
    return {"ctype": code_type(stream.spec).hw, "width": stream.width, "elems": stream.elems, "spec": stream.spec,
            "axis": stream.layout()}


def _layer_view(layer) -> dict:
    binding = bind(layer)
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
    """Render ``out_dir/hls`` for ``hg`` on ``board``: see :func:`render_hls`.

    ``fifo_depths`` (default: the graph's own ``depths``) are the sized FIFO depths.
    """
    if fifo_depths is not None:
        hg.depths = dict(fifo_depths)
    return render_hls(hg, board.part, clock_mhz, out_dir)


def render_hls(hg: HardwareGraph, part: str, clock_mhz: float, out_dir: Path) -> Path:
    """Render ``out_dir/hls`` for ``hg``: config.h, params.h, top.cpp, testbench.cpp, hls.tcl.

    The fpgaflow kernel headers are copied next to the sources so the folder builds on its own
    (with Vitis HLS, or with g++ and hls4ml's ap_types headers).
    """
    hls = Path(out_dir) / "hls"
    hls.mkdir(parents=True, exist_ok=True)
    streams = hg.streams()
    inner = [{"name": s.name, "ctype": code_type(s.spec).hw, "width": s.width, "depth": s.depth}
             for s in streams[1:-1]]
    views = [_layer_view(layer) for layer in hg.layers]
    context = {
        "version": __version__, "model": hg.name, "top": TOP, "layers": views, "streams": inner,
        "headers": sorted({v["binding"].header for v in views}), "part": part,
        "period_ns": f"{1000.0 / clock_mhz:.3f}", "input": port_view(streams[0]), "output": port_view(streams[-1]),
        # Frames between the two AXI adapters: the batch-end flags' FIFO holds one per frame.
        "frames_in_flight": len(hg.layers) + 2,
    }
    env = _environment()
    for template, target in (("config.h.j2", "config.h"), ("params.h.j2", "params.h"), ("top.cpp.j2", "top.cpp"),
                             ("testbench.cpp.j2", "testbench.cpp"), ("hls.tcl.j2", "hls.tcl")):
        (hls / target).write_text(env.get_template(template).render(**context))
    kernels = hls / "fpgaflow"
    if kernels.exists():
        shutil.rmtree(kernels)
    shutil.copytree(templates_dir() / "fpgaflow", kernels)
    problems = lint_hls(hls)
    if problems:  # the generator's fault, not the model's
        raise RuntimeError("generated HLS C++ outside the synthesizable subset:\n" + "\n".join(problems))
    log.info("wrote HLS sources to %s (lint: synthesizable subset)", hls)
    return hls


def write_hls_from_graph(graph_dir: str | Path, out_dir: str | Path) -> Path:
    """Render ``out_dir/hls`` from the hardware graph saved in ``graph_dir`` (graph.json, params.npz) alone."""
    from fpgaflow.graph_file import load_graph

    hg, doc = load_graph(graph_dir)
    return render_hls(hg, doc["part"], float(doc["clock_mhz"]), Path(out_dir))
