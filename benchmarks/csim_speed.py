"""C simulation speed: fpgaflow vs qonnx's execute_onnx vs hls4ml, measured in one run.

    python benchmarks/csim_speed.py [--model tests/models/TFC_2W2A.onnx] [--n 20000] [--ref-n 300]

Prints per-sample times and ratios:
- fpgaflow csim (host quantization included) on N inputs;
- execute_onnx, the reference, on REF_N of the same inputs (its per-sample cost is constant,
  and 20,000 samples would take about ten minutes);
- hls4ml convert + compile + predict on the same N inputs (io_parallel, see hls4ml_reference.py);
- build times: ``fpgaflow build --no-csim`` (g++ compile of the csim included) against hls4ml's
  convert + compile, and the full ``fpgaflow build`` with its 300-input check.
Goals (issue #3): csim >= 1000x faster per sample than execute_onnx, faster than hls4ml's
predict; fpgaflow build no slower than hls4ml convert + compile.
"""

from __future__ import annotations

import argparse
import logging
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
    parser.add_argument("--model", default=str(HERE.parent / "tests" / "models" / "TFC_2W2A.onnx"))
    parser.add_argument("--n", type=int, default=20000, help="inputs for fpgaflow csim and hls4ml predict")
    parser.add_argument("--ref-n", type=int, default=300, help="inputs timed through execute_onnx")
    parser.add_argument("--skip-hls4ml", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import sys

    sys.path.insert(0, str(HERE))
    from hls4ml_reference import run_hls4ml

    reference = Reference(args.model)
    x = random_inputs(reference.input_shape, args.n, seed=0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # a fresh directory, so g++ runs
        t0 = time.perf_counter()
        build(args.model, BuildOptions(load_board("pynq-z2"), tmp / "cold", csim=False))
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        build(args.model, BuildOptions(load_board("pynq-z2"), tmp / "full", csim=True, csim_samples=300))
        t_build_full = time.perf_counter() - t0

        result = run_csim(tmp / "cold", x)
        csim_us = result.run_s / args.n * 1e6

        t0 = time.perf_counter()
        ref_out, _ = reference.run(x[:args.ref_n])
        ref_us = (time.perf_counter() - t0) / args.ref_n * 1e6
        check = compare(ref_out, result.outputs[:args.ref_n])

        rows.append(("fpgaflow csim, per sample (us)", f"{csim_us:.2f}", f"{args.n} inputs, 2 cores"))
        rows.append(("execute_onnx, per sample (us)", f"{ref_us:.0f}", f"{args.ref_n} inputs"))
        rows.append(("  ratio execute_onnx / fpgaflow csim", f"{ref_us / csim_us:,.0f}x", "goal >= 1000x"))
        rows.append(("  csim bit-exact vs execute_onnx", str(check["bit_exact"]), f"{args.ref_n} inputs"))
        rows.append(("fpgaflow build --no-csim (s)", f"{t_build:.2f}", "incl. g++ csim compile"))
        rows.append(("fpgaflow build, full (s)", f"{t_build_full:.2f}", "incl. 300-input check"))
        if not args.skip_hls4ml:
            h = run_hls4ml(args.model, x, str(tmp / "hls4ml"), n_check=0)
            h_us = h["predict_s"] / args.n * 1e6
            h_build = h["convert_s"] + h["compile_s"]
            rows.append(("hls4ml predict, per sample (us)", f"{h_us:.1f}", f"{args.n} inputs, io_parallel"))
            rows.append(("  ratio hls4ml predict / fpgaflow csim", f"{h_us / csim_us:,.1f}x", "goal > 1x"))
            rows.append(("hls4ml convert + compile (s)", f"{h_build:.2f}",
                         f"convert {h['convert_s']:.2f} + compile {h['compile_s']:.2f}"))
            rows.append(("  ratio hls4ml / fpgaflow build --no-csim", f"{h_build / t_build:.1f}x", "goal >= 1x"))
            hdiff = compare(ref_out, h["predictions"][:args.ref_n])
            rows.append(("  hls4ml argmax equal to execute_onnx", str(hdiff["argmax_equal"]),
                         f"max |diff| {hdiff['max_abs_diff']:.2g}"))
    print(f"model: {args.model}")
    for name, value, note in rows:
        print(f"{name:<44}{value:>12}   {note}")


if __name__ == "__main__":
    main()
