"""Fashion-MNIST with fpgaflow.train: four quantized MLPs, each built and checked bit-exact.

    python benchmarks/train_fashion.py [--epochs 10] [--out bench_fashion] [--threads 1]

Needs the Debian package dataset-fashion-mnist (bash scripts/install_system_packages.sh).
Trains, with ``fpgaflow.train`` (the same code as ``fpgaflow train``), 784-256-256-256-10 MLPs
with an 8-bit input quantizer:

- ``binarized``: bipolar weights and activations (FINN's XNOR-popcount layers);
- ``w2a2``: 2-bit weights (codes -1, 0, 1) and 2-bit activations;
- ``w4a4_sparse90``: 4-bit weights and activations, 90% of every layer's weights pruned by
  magnitude along a gradual (cubic) schedule while fine-tuning;
- ``po2``: 4-bit power-of-two weights (codes 0, +-1, +-2, +-4: shift-add) and 4-bit activations.

Each exported model is then built for the PYNQ-Z2 (``fpgaflow build``: C simulation against
qonnx's execute_onnx on 300 random inputs), and the C simulation classifies all 10,000 test
images. Printed per model: Brevitas test accuracy, accelerator (C simulation) accuracy on the
10,000 test images, whether the C simulation equals qonnx's execute_onnx exactly (on the build's
300 random inputs and on the first 300 test images), FPS by cycle simulation, LUT and DSP
estimates, and the times.

Run time on 2 cores (1 training thread), nothing else running: 16 m 40 s with the default 10 epochs
(training 2 to 5 minutes per model, each build about 20 s).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from fpgaflow.boards import load_board
from fpgaflow.build import BuildOptions, build
from fpgaflow.csim import run_csim
from fpgaflow.train.flow import TrainOptions, run
from fpgaflow.train.pruning import PruneConfig
from fpgaflow.train.recipes import Recipe
from fpgaflow.train.trainer import TrainConfig

HIDDEN = (256, 256, 256)
MODELS = {
    "binarized": (Recipe(hidden=HIDDEN, weight="binary", weight_bits=1, act_bits=1), None),
    "w2a2": (Recipe(hidden=HIDDEN, weight_bits=2, act_bits=2), None),
    "w4a4_sparse90": (Recipe(hidden=HIDDEN, weight_bits=4, act_bits=4),
                      PruneConfig(method="magnitude", sparsity=0.9, schedule="gradual", finetune_epochs=5)),
    "po2": (Recipe(hidden=HIDDEN, weight="po2", weight_bits=4, act_bits=4), None),
}


def execute_onnx_outputs(onnx_path: Path, x: np.ndarray) -> np.ndarray:
    """qonnx's reference execution, one sample at a time."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(str(onnx_path)))
    i, o = model.graph.input[0].name, model.graph.output[0].name
    return np.concatenate([execute_onnx(model, {i: row[None]})[o] for row in x])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench_fashion"))
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    board = load_board("pynq-z2")
    rows = []
    for name in args.models.split(","):
        recipe, prune = MODELS[name]
        out = args.out / name
        t0 = time.perf_counter()
        summary = run(TrainOptions(out_dir=out, dataset="fashion-mnist", recipe=recipe,
                                   config=TrainConfig(epochs=args.epochs, batch_size=128, lr=0.01, threads=args.threads),
                                   prune=prune, progress=False), echo=print)
        t1 = time.perf_counter()
        report = build(out / "model.onnx", BuildOptions(board=board, out_dir=out / "build"))
        t2 = time.perf_counter()
        test = np.load(out / "test_data.npz")
        csim = run_csim(out / "build", test["x"])
        hw_acc = float((csim.outputs.argmax(1) == test["y"]).mean())
        ref = execute_onnx_outputs(out / "model.onnx", test["x"][:300])
        exact_real = bool(np.array_equal(ref, csim.outputs[:300]))
        t3 = time.perf_counter()
        row = {"model": name, "brevitas_accuracy": summary["test_accuracy"], "csim_accuracy": hw_acc,
               "build_bit_exact_random300": report["csim"]["bit_exact"], "bit_exact_test300": exact_real,
               "sparsity": summary["sparsity"], "fps": report["fps"], "lut": report["totals"]["lut"],
               "dsp": report["totals"]["dsp"], "train_s": t1 - t0, "build_s": t2 - t1, "check_s": t3 - t2}
        rows.append(row)
        print(json.dumps(row))
    print(f"\n{'model':<15}{'Brevitas':>10}{'csim':>8}{'exact':>7}{'FPS':>12}{'LUT':>8}{'DSP':>5}{'train s':>9}{'build s':>9}")
    for r in rows:
        exact = "yes" if r["build_bit_exact_random300"] and r["bit_exact_test300"] else "NO"
        print(f"{r['model']:<15}{r['brevitas_accuracy']:>10.4f}{r['csim_accuracy']:>8.4f}{exact:>7}{r['fps']:>12,.0f}"
              f"{r['lut']:>8,}{r['dsp']:>5}{r['train_s']:>9.0f}{r['build_s']:>9.0f}")
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
