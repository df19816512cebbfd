"""Folding to frame-rate targets on a board: the three FINN TFC models at 100 k, 1 M and the highest
target that still fits, with the simulated frame rate, the bottleneck and the resources.

    python benchmarks/folding_targets.py [--board pynq-z2] [--clock-mhz 100]

The highest target is found by doubling it from 2 M FPS until the simulated design no longer
meets it (the layers cannot unfold further) or the build has to relax it to fit the board.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from fpgaflow.boards import load_board
from fpgaflow.build import BuildOptions, build

HERE = Path(__file__).resolve().parent
MODELS = ("TFC_1W1A", "TFC_1W2A", "TFC_2W2A")


def run(model: Path, board, clock: float, fps: float, out: Path) -> dict:
    return build(model, BuildOptions(board=board, out_dir=out, clock_mhz=clock, target_fps=fps, csim=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--board", default="pynq-z2")
    parser.add_argument("--clock-mhz", type=float, default=100.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    board = load_board(args.board)
    print(f"{'model':<10}{'target FPS':>12}{'simulated FPS':>15}{'II':>7}{'latency':>9}  {'bottleneck':<12}"
          f"{'LUT':>8}{'FF':>8}{'DSP':>5}{'BRAM18':>7}  fits  relaxed  build s")
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            model = HERE.parent / "tests" / "models" / f"{name}.onnx"
            targets, best = [100_000, 1_000_000], None
            fps = 2_000_000
            while True:  # the highest target met: folding limits or the board stop the doubling
                report = run(model, board, args.clock_mhz, fps, Path(tmp) / f"{name}_probe")
                relaxed = any("does not fit" in n for n in report["notes"])
                if relaxed or report["fps"] < fps:
                    break
                best, fps = fps, fps * 2
            targets.append(best or fps)
            for target in targets:
                t0 = time.perf_counter()
                r = run(model, board, args.clock_mhz, target, Path(tmp) / f"{name}_{target}")
                dt = time.perf_counter() - t0
                t = r["totals"]
                relaxed = any("does not fit" in n for n in r["notes"])
                print(f"{name:<10}{target:>12,.0f}{r['fps']:>15,.0f}{r['cycles']['ii']:>7}{r['cycles']['latency']:>9}  "
                      f"{r['bottleneck']:<12}{t['lut']:>8}{t['ff']:>8}{t['dsp']:>5}{t['bram18']:>7}  "
                      f"{'yes' if r['fits'] else 'NO':<5} {'yes' if relaxed else 'no':<8}{dt:>6.1f}")


if __name__ == "__main__":
    main()
