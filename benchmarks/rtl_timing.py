"""RTL co-simulation against the cycle simulator on the MLPs of issue 16, at two foldings each.

Each model is built with ``fpgaflow build MODEL --rtl`` (the default folding, and a faster one
with ``--target-cycles``), then ``fpgaflow rtlsim DIR --frames N`` runs the generated Verilog
under Verilator: N random frames with 30% output stalls (checked bit-exact against the C
simulation) and again without stalls (measured II and latency). The table puts the measurement
beside the cycle simulator's prediction for the same graph and FIFO depths.

    python benchmarks/rtl_timing.py                 # 1,000 frames per design (about 4 minutes)
    python benchmarks/rtl_timing.py --frames 100    # quicker
    python benchmarks/rtl_timing.py --only TFC_1W1A

Models: FINN's TFC_1W1A, TFC_1W2A and TFC_2W2A (../shared/models or tests/models), and three MLPs
trained on scikit-learn's digits by tests/brevitas_mlps.py (cached): power-of-two weights (po2),
90% unstructured sparsity (pruned90) and binarized (binary).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

#: (name, fast folding's --target-cycles)
TFC = [("TFC_1W1A", 100), ("TFC_1W2A", 100), ("TFC_2W2A", 100)]
MLPS = [("po2", 16), ("pruned90", 16), ("binary", 16)]


def model_path(name: str, work: Path) -> Path:
    """The ONNX file of ``name``: a FINN TFC from the repository, or an MLP trained (cached) on digits."""
    if name.startswith("TFC"):
        return ROOT / "tests" / "models" / f"{name}.onnx"
    from brevitas_mlps import make_mlp

    return make_mlp(name, work / "models")


def run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def one(name: str, fold: str, target: int | None, frames: int, work: Path) -> dict:
    """Build ``name`` at ``fold`` (``--target-cycles target`` or the default) and co-simulate it."""
    out = work / f"{name}_{fold}"
    cmd = ["fpgaflow", "build", str(model_path(name, work)), "--board", "pynq-z2", "--rtl", "--no-csim",
           "--quiet", "--out", str(out)]
    run(cmd + (["--target-cycles", str(target)] if target else []))
    start = time.monotonic()
    run(["fpgaflow", "rtlsim", str(out), "--frames", str(frames)])
    result = json.loads((out / "rtlsim.json").read_text())
    result["seconds"] = round(time.monotonic() - start, 1)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--work", default="/tmp/fpgaflow_rtl_timing")
    parser.add_argument("--only", help="only models whose name contains this string")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"rtlsim (Verilator, measured) against the cycle simulator (predicted), {args.frames} frames each;\n"
          "bit-exact: outputs with 30% output stalls equal the C simulation's; II and latency in cycles,\n"
          "measured without stalls (latency: first s_axis word to the first frame's last m_axis word).\n")
    head = f"{'model':<10}{'folding':<18}{'bit-exact':>10}{'II meas':>9}{'II pred':>9}{'lat meas':>10}{'lat pred':>10}{'s':>7}"
    print(head + "\n" + "-" * len(head))
    exact = total = 0
    for name, target in TFC + MLPS:
        if args.only and args.only not in name:
            continue
        for fold, t in (("default", None), (f"--target-cycles {target}", target)):
            r = one(name, "default" if t is None else f"t{t}", t, args.frames, work)
            p = r["predicted"]
            total += 1
            exact += r["bit_exact"] and r["ii"] == p["ii"] and r["latency"] == p["latency"]
            print(f"{name:<10}{fold:<18}{str(r['bit_exact']):>10}{r['ii']:>9}{p['ii']:>9}{r['latency']:>10}"
                  f"{p['latency']:>10}{r['seconds']:>7}", flush=True)
    print(f"\n{exact}/{total} designs bit-exact with II and latency exactly as predicted")
    return 0 if exact == total else 1


if __name__ == "__main__":
    sys.exit(main())
