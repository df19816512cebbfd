"""The RTL backend's writer: every layer's module, the building blocks and ``fpgaflow_top.v`` into DIR/rtl/.

``fpgaflow_top`` has the HLS top's AXI4-Stream ports (``s_axis``/``m_axis``, the word packing of
``hls_templates/fpgaflow/axis.h``): the input adapter, one ``fpgaflow_fifo`` per stream of the graph
at the graph's depth (the accelerator input and output streams included, as in the cycle
simulator), the layers wired by their streams, the output adapter, and the batch-end flag FIFO
that carries each frame's TLAST beside the pipeline.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from pathlib import Path

from fpgaflow.ir import DEFAULT_FIFO_DEPTH, HardwareGraph
from fpgaflow.rtl import streams as _streams  # noqa: F401  (registers the stream kits' writers)
from fpgaflow.rtl.registry import write_layer
from fpgaflow.rtl.streams import VERILOG_DIR

TOP = "fpgaflow_top"
TOP_FILE = f"{TOP}.v"
#: DIR/rtl/sources.txt: the Verilog files of the design, one per line, the top last.
SOURCES_FILE = "sources.txt"
#: The define that gives the top its probe ports, bit i for stream i (``HardwareGraph.streams()``
#: order): ``probe_push`` (a token enters the FIFO), ``probe_full`` (the producer's token waits for
#: room) and ``probe_starve`` (the consumer waits for a token); the RTL simulation's per-stream timing.
PROBES = "FPGAFLOW_PROBES"
#: The clock and active-low reset, with the interface attributes that let Vivado's module reference
#: (board/block_design_rtl.tcl) tie both AXI4-Stream ports to the clock; Yosys and Verilator ignore them.
CLOCK_RESET_PORTS = (
    '    (* X_INTERFACE_INFO = "xilinx.com:signal:clock:1.0 clk CLK", '
    'X_INTERFACE_PARAMETER = "ASSOCIATED_BUSIF s_axis:m_axis, ASSOCIATED_RESET rst_n" *)',
    "    input  wire clk,",
    '    (* X_INTERFACE_INFO = "xilinx.com:signal:reset:1.0 rst_n RST", X_INTERFACE_PARAMETER = "POLARITY ACTIVE_LOW" *)',
    "    input  wire rst_n,",
)
#: Frames whose batch-end flag may wait beside the pipeline (frames inside it at once).
FLAG_DEPTH = 32


def load_kit_writers() -> None:
    """Register the compute kits' writers (``fpgaflow.rtl.kits``), where that module exists."""
    if importlib.util.find_spec("fpgaflow.rtl.kits") is not None:
        importlib.import_module("fpgaflow.rtl.kits")


def write_rtl(hg: HardwareGraph, rtl_dir: str | Path) -> Path:
    """Write ``hg``'s Verilog into ``rtl_dir``: one module per layer, the building blocks, the top;
    returns the top's path. A kit without an RTL writer is a UserError naming the layer."""
    load_kit_writers()
    rtl_dir = Path(rtl_dir)
    rtl_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for layer in hg.layers:
        files += write_layer(layer, rtl_dir).files
    for block in sorted(VERILOG_DIR.glob("*.v")):
        files.append(Path(shutil.copy(block, rtl_dir / block.name)))
    top = rtl_dir / TOP_FILE
    top.write_text(top_verilog(hg))
    files.append(top)
    names = list(dict.fromkeys(f.name for f in files if f.suffix == ".v"))
    (rtl_dir / SOURCES_FILE).write_text("".join(f"{n}\n" for n in names))
    return top


def write_rtl_from_graph(build_dir: str | Path) -> Path:
    """Write ``build_dir/rtl/`` from the saved hardware graph (``build_dir/graph.json``)."""
    from fpgaflow.graph_file import load_graph

    hg, _ = load_graph(build_dir)
    return write_rtl(hg, Path(build_dir) / "rtl")


def rtl_sources(rtl_dir: str | Path) -> list[Path]:
    """The design's Verilog files as :func:`write_rtl` listed them."""
    rtl_dir = Path(rtl_dir)
    return [rtl_dir / n for n in (rtl_dir / SOURCES_FILE).read_text().split()]


def port_name(direction: str, index: int, count: int) -> str:
    """A layer's stream port prefix (docs/rtl.md): ``in``/``out``, or ``in0``, ``in1``, ... for several."""
    return direction if count == 1 else f"{direction}{index}"


def _connect(port: str, wire: str) -> list[str]:
    return [f".{port}_{sig}({wire}_{sig})" for sig in ("data", "valid", "ready")]


def _instance(module: str, name: str, params: dict[str, int], conns: list[str]) -> list[str]:
    binding = f" #({', '.join(f'.{k}({int(v)})' for k, v in params.items())})" if params else ""
    body = ",\n        ".join([".clk(clk)", ".rst_n(rst_n)", *conns])
    return [f"    {module}{binding} {name} (\n        {body}\n    );"]


def _adapter_params(layout) -> dict[str, int]:
    return {"WORD_BITS": layout.word_bits, "WORDS": layout.words, "PER_WORD": layout.per_word,
            "ELEM_BITS": layout.elem_bits, "WIDTH": layout.width, "TOKENS": layout.tokens}


def top_verilog(hg: HardwareGraph) -> str:
    """The text of ``fpgaflow_top.v`` for ``hg``."""
    streams = hg.streams()
    src, sink = streams[0].layout(), streams[-1].layout()
    lines = [f"// fpgaflow: the accelerator {hg.name}, generated from its hardware graph (docs/rtl.md).",
             f"module {TOP} (", *CLOCK_RESET_PORTS,
             f"    input  wire [{src.word_bits - 1}:0] s_axis_tdata,", "    input  wire s_axis_tvalid,",
             "    output wire s_axis_tready,", "    input  wire s_axis_tlast,",
             f"    output wire [{sink.word_bits - 1}:0] m_axis_tdata,", "    output wire m_axis_tvalid,",
             "    input  wire m_axis_tready,", "    output wire m_axis_tlast",
             f"`ifdef {PROBES}", f"    , output wire [{len(streams) - 1}:0] probe_push  // a token into each stream's FIFO",
             f"    , output wire [{len(streams) - 1}:0] probe_full  // its producer holds a token the full FIFO refuses",
             f"    , output wire [{len(streams) - 1}:0] probe_starve  // its consumer is ready, the FIFO empty",
             "`endif", ");"]
    for s in streams:
        bits = s.width * s.spec.bits
        for side in ("w", "r"):  # written into the FIFO / read out of it
            lines += [f"    wire [{bits - 1}:0] st_{s.name}_{side}_data;",
                      f"    wire st_{s.name}_{side}_valid, st_{s.name}_{side}_ready;"]
    lines += ["    wire flag_w_data, flag_w_valid, flag_w_ready, flag_r_data, flag_r_valid, flag_r_ready;", f"`ifdef {PROBES}"]
    for i, s in enumerate(streams):
        lines += [f"    assign probe_push[{i}] = st_{s.name}_w_valid && st_{s.name}_w_ready;",
                  f"    assign probe_full[{i}] = st_{s.name}_w_valid && !st_{s.name}_w_ready;",
                  f"    assign probe_starve[{i}] = st_{s.name}_r_ready && !st_{s.name}_r_valid;"]
    lines += ["`endif"]
    axis_in = [f".s_axis_t{sig}(s_axis_t{sig})" for sig in ("data", "valid", "ready", "last")]
    lines += _instance("fpgaflow_axis_in", "u_axis_in", _adapter_params(src),
                       axis_in + _connect("out", f"st_{streams[0].name}_w") + _connect("flag", "flag_w"))
    for s in streams:
        depth = max(1, int(s.depth or DEFAULT_FIFO_DEPTH))
        lines += _instance("fpgaflow_fifo", f"u_fifo_{s.name}", {"WIDTH": s.width * s.spec.bits, "DEPTH": depth},
                           _connect("in", f"st_{s.name}_w") + _connect("out", f"st_{s.name}_r"))
    lines += _instance("fpgaflow_fifo", "u_fifo_flag", {"WIDTH": 1, "DEPTH": FLAG_DEPTH},
                       _connect("in", "flag_w") + _connect("out", "flag_r"))
    for layer in hg.layers:
        conns = [c for i, s in enumerate(layer.inputs) for c in _connect(port_name("in", i, len(layer.inputs)), f"st_{s}_r")]
        conns += [c for i, s in enumerate(layer.outputs)
                  for c in _connect(port_name("out", i, len(layer.outputs)), f"st_{s}_w")]
        lines += _instance(layer.name, f"u_{layer.name}", {}, conns)
    axis_out = [f".m_axis_t{sig}(m_axis_t{sig})" for sig in ("data", "valid", "ready", "last")]
    lines += _instance("fpgaflow_axis_out", "u_axis_out", _adapter_params(sink),
                       _connect("in", f"st_{streams[-1].name}_r") + _connect("flag", "flag_r") + axis_out)
    return "\n".join(lines + ["endmodule", ""])
