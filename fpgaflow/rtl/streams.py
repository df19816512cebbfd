"""RTL writers of the stream kits (width converters): a wrapper named after the layer around a
parameterized building block of ``fpgaflow/rtl/verilog/``."""

from __future__ import annotations

from pathlib import Path

from fpgaflow.rtl.registry import RtlModule, rtl_writer

#: The generic building blocks every DIR/rtl/ gets a copy of.
VERILOG_DIR = Path(__file__).with_name("verilog")


def stream_ports(prefix: str, bits: int, direction: str) -> list[str]:
    """The three port declarations of one stream: ``direction`` is "in" (the module reads it) or "out"."""
    data, valid, ready = ("input", "input", "output") if direction == "in" else ("output", "output", "input")
    return [f"{data:<6} wire [{bits - 1}:0] {prefix}_data", f"{valid:<6} wire {prefix}_valid",
            f"{ready:<6} wire {prefix}_ready"]


def wrapper(name: str, block: str, params: dict[str, int], in_bits: int, out_bits: int) -> str:
    """A module ``name`` with ports clk, rst_n, in_*, out_* that instantiates ``block`` with ``params``."""
    ports = ["input  wire clk", "input  wire rst_n", *stream_ports("in", in_bits, "in"),
             *stream_ports("out", out_bits, "out")]
    binding = ", ".join(f".{k}({int(v)})" for k, v in params.items())
    conns = ", ".join(f".{p}({p})" for p in ("clk", "rst_n", "in_data", "in_valid", "in_ready",
                                             "out_data", "out_valid", "out_ready"))
    return (f"// fpgaflow: layer {name} ({block}), generated.\nmodule {name} (\n    "
            + ",\n    ".join(ports) + f"\n);\n    {block} #({binding}) u_{block} ({conns});\nendmodule\n")


@rtl_writer("width_converter")
def write_width_converter(layer, rtl_dir: Path) -> RtlModule:
    """``layer``'s wrapper around ``fpgaflow_width_converter`` (``rtl_dir/<layer>.v``)."""
    bits = layer.spec.bits
    params = {"IN_W": layer.in_w, "OUT_W": layer.out_w, "ELEM_BITS": bits, "ELEMS": layer.elems}
    path = Path(rtl_dir) / f"{layer.name}.v"
    path.write_text(wrapper(layer.name, "fpgaflow_width_converter", params, layer.in_w * bits, layer.out_w * bits))
    return RtlModule(layer.name, [path])
