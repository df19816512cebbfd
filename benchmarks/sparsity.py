"""Sparsity-skipping vs dense at the same folding, on a 90%-pruned Brevitas MLP (digits).

    python benchmarks/sparsity.py [--kind pruned90] [--target-fps 100000]

Builds the pruned network twice with identical PE/SIMD per layer: sparse (zeros removed at
generation time) and dense (``--arith LAYER=dense``). Prints per layer the cycles per frame from
the layer kit's estimate and from the C simulation's loop counts (max of input-token reads and
compute steps: the two overlap in hardware), and the estimated LUT and BRAM18.
Goal (issue #4): sparse cycles <= 0.2x dense.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from brevitas_mlps import make_mlp  # noqa: E402

from fpgaflow.boards import load_board  # noqa: E402
from fpgaflow.build import BuildOptions, build  # noqa: E402
from fpgaflow.csim import loop_counts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="pruned90")
    parser.add_argument("--target-fps", type=float, default=100_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    board = load_board("pynq-z2")
    x = np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = make_mlp(args.kind, tmp)
        sparse = build(model, BuildOptions(board, tmp / "sparse", target_fps=args.target_fps, csim_samples=200))
        mvaus = [r for r in sparse["layers"] if r["kind"] == "mvau"]
        folding = {r["name"]: (r["pe"], r["simd"]) for r in mvaus}
        dense = build(model, BuildOptions(board, tmp / "dense", folding=folding, csim_samples=200,
                                          arith={r["name"]: "dense" for r in mvaus}))
        counted = {name: loop_counts(tmp / name, x) for name in ("sparse", "dense")}
    print(f"model: {args.kind} (digits MLP), bit-exact vs execute_onnx: sparse {sparse['csim']['bit_exact']}, "
          f"dense {dense['csim']['bit_exact']}")
    head = (f"{'layer':<10}{'zeros':>7}{'PE':>4}{'SIMD':>5}  {'cycles est. sparse/dense':>26}  "
            f"{'csim count sparse/dense':>25}  {'LUT sparse/dense':>18}  {'BRAM18':>8}")
    print(head)
    totals = np.zeros(4)
    for s in mvaus:
        d = next(r for r in dense["layers"] if r["name"] == s["name"])
        cs, cd = counted["sparse"][s["name"]], counted["dense"][s["name"]]
        # sparse: the input vector is read, then the compressed steps run; dense reads inside its first fold
        count_s, count_d = cs["reads"] + cs["steps"], cd["steps"]
        totals += [s["cycles"], d["cycles"], count_s, count_d]
        print(f"{s['name']:<10}{s['zero_fraction']:>7.0%}{s['pe']:>4}{s['simd']:>5}  "
              f"{s['cycles']:>8} /{d['cycles']:>6} = {s['cycles'] / d['cycles']:.3f}  "
              f"{count_s:>7.0f} /{count_d:>6.0f} = {count_s / count_d:.3f}  "
              f"{s['lut']:>8} /{d['lut']:>7}  {s['bram18']:>3} /{d['bram18']:>3}")
    ii_s = max(r["cycles"] for r in mvaus)
    ii_d = max(r["cycles"] for r in dense["layers"] if r["kind"] == "mvau")
    print(f"sum of layer cycles: estimate {totals[0]:.0f} / {totals[1]:.0f} = {totals[0] / totals[1]:.3f}, "
          f"csim count {totals[2]:.0f} / {totals[3]:.0f} = {totals[2] / totals[3]:.3f}")
    print(f"pipeline II (slowest layer): {ii_s} / {ii_d} cycles = {ii_s / ii_d:.3f} (goal <= 0.2); "
          f"simulated: {sparse['cycles']['ii']:.0f} / {dense['cycles']['ii']:.0f} = "
          f"{sparse['cycles']['ii'] / dense['cycles']['ii']:.3f}")
    print(f"totals: LUT {sparse['totals']['lut']} / {dense['totals']['lut']}, "
          f"BRAM18 {sparse['totals']['bram18']} / {dense['totals']['bram18']}")


if __name__ == "__main__":
    main()
