"""CIFAR-10-scale FINN CNV: build time and C simulation speed against execute_onnx, one run.

    python benchmarks/cifar_cnv.py [--n 100] [--ref-n 10] [--target-fps 100000]

Exports the untrained CIFAR-10 CNV from tests/brevitas_cnns.py (3x32x32 input, convs
64-64-pool-128-128-pool-256-256, dense 512-512-10, 2-bit weights and activations, random
weights), builds it, runs the C simulation on N random inputs and execute_onnx on REF_N of them,
and prints the build time, per-sample times, their ratio and whether the outputs agree.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from fpgaflow.boards import load_board
from fpgaflow.build import BuildOptions, build
from fpgaflow.csim import run_csim
from fpgaflow.frontend.reference import Reference
from fpgaflow.verify import compare, random_inputs

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="inputs for the C simulation")
    parser.add_argument("--ref-n", type=int, default=10, help="inputs timed through execute_onnx")
    parser.add_argument("--target-fps", type=float, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(HERE.parent / "tests"))
    from brevitas_cnns import cnv_cifar_random

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        onnx_path = cnv_cifar_random(tmp)
        t0 = time.perf_counter()
        report = build(onnx_path, BuildOptions(board=load_board("pynq-z2"), out_dir=tmp / "build", csim=False,
                                               target_fps=args.target_fps))
        build_s = time.perf_counter() - t0
        reference = Reference(onnx_path)
        x = random_inputs(reference.input_shape, args.n, seed=0)
        result = run_csim(tmp / "build", x)
        t1 = time.perf_counter()
        ref_out, _ = reference.run(x[:args.ref_n])
        ref_s = (time.perf_counter() - t1) / args.ref_n
        agree = compare(ref_out, result.outputs[:args.ref_n])
    print(f"build (streamline, fold, codegen, g++): {build_s:.1f} s; {len(report['layers'])} layer kits; "
          f"estimated {report['fps']:,.0f} FPS, fits={report['fits']}")
    print(f"csim: {result.run_s / args.n * 1e3:.1f} ms/sample on {args.n} inputs "
          f"(+ {result.compile_s:.1f} s cached compile check)")
    print(f"execute_onnx: {ref_s * 1e3:.1f} ms/sample on {args.ref_n} inputs -> csim is "
          f"{ref_s / (result.run_s / args.n):.1f}x faster; bit exact: {agree['bit_exact']}")


if __name__ == "__main__":
    main()
