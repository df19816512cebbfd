"""The stream FIFO (fpgaflow/rtl/verilog/fpgaflow_fifo.v) synthesised with Yosys beside its estimate.

Each point wraps ``fpgaflow_fifo`` at one WIDTH and DEPTH in a small top module and synthesises it
out of context with ``fpgaflow.synth.synthesize`` (``synth_xilinx -family xc7``, unrouted). The
estimate is ``fpgaflow.estimate.resources.fifo_resources``; the ratio is Yosys / estimate.

    python benchmarks/fifo_resources.py                    # 12 points, about 2 minutes
    python benchmarks/fifo_resources.py --work DIR         # where the RTL and the Yosys cache go
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from fpgaflow.estimate.resources import fifo_resources
from fpgaflow.rtl.streams import VERILOG_DIR
from fpgaflow.synth import KEYS, synthesize, yosys_version

#: (width bits, depth): the flip-flop, SRL and block-RAM forms, narrow to wide.
POINTS = [(8, 1), (8, 2), (32, 16), (64, 32), (8, 33), (64, 64), (24, 128), (128, 512), (16, 1024),
          (16, 2048), (300, 64), (4, 3000)]

WRAPPER = """module {top} (input wire clk, rst_n, input wire [{msb}:0] in_data, input wire in_valid,
  output wire in_ready, output wire [{msb}:0] out_data, output wire out_valid, input wire out_ready);
  fpgaflow_fifo #(.WIDTH({width}), .DEPTH({depth})) fifo (.clk(clk), .rst_n(rst_n), .in_data(in_data),
    .in_valid(in_valid), .in_ready(in_ready), .out_data(out_data), .out_valid(out_valid), .out_ready(out_ready));
endmodule
"""


def synth_fifo(width: int, depth: int, work: Path) -> dict:
    """Yosys's counts of one FIFO of ``depth`` tokens of ``width`` bits."""
    top = f"fifo_w{width}_d{depth}"
    (work / f"{top}.v").write_text(WRAPPER.format(top=top, msb=width - 1, width=width, depth=depth))
    return synthesize([work / "fpgaflow_fifo.v", work / f"{top}.v"], top, work / "yosys")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="/tmp/fpgaflow_fifo_resources", help="RTL and Yosys cache folder")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(VERILOG_DIR / "fpgaflow_fifo.v", work / "fpgaflow_fifo.v")
    print(f"Yosys {yosys_version()}, synth_xilinx -family xc7 (unrouted); ratio = Yosys / estimate")
    print(f"{'width':>6}{'depth':>7}" + "".join(f"{k.upper() + ' est':>11}{'Yosys':>7}{'x':>6}" for k in KEYS))
    worst = {k: 1.0 for k in KEYS}
    for width, depth in POINTS:
        got, est = synth_fifo(width, depth, work), fifo_resources(width, depth)
        line = f"{width:>6}{depth:>7}"
        for k in KEYS:
            ratio = got[k] / est[k] if est[k] else (1.0 if got[k] == 0 else float("inf"))
            if abs(ratio - 1) > abs(worst[k] - 1):
                worst[k] = ratio
            line += f"{est[k]:>11}{got[k]:>7}{ratio:>6.2f}"
        print(line, flush=True)
    print("worst ratio: " + ", ".join(f"{k.upper()} {v:.2f}" for k, v in worst.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
