"""fpgaflow's resource estimates against published synthesis results for the same layers.

    python benchmarks/published_resources.py            # estimates
    python benchmarks/published_resources.py --synth    # and both networks' RTL through Yosys

Builds FINN's LFC-W1A1 (784-1024-1024-1024-10 MLP, bipolar weights and activations) and
CNV-W1A1 (CIFAR-10 CNV: six 3x3 convs 64-64-pool-128-128-pool-256-256, dense 512-512-10) with
random Brevitas weights, folded exactly as Xilinx's BNN-PYNQ did (PE/SIMD from its
hw/config.h), and prints fpgaflow's estimates next to BNN-PYNQ's post-implementation Vivado
utilisation on the PYNQ-Z1 (bnn/src/network/{lfc,cnv}-pynq/README.md). The published numbers
cover the whole accelerator: layers, streams, and the memory-mapped weight/input interface.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from fpgaflow.boards import load_board
from fpgaflow.build import BuildOptions, build

HERE = Path(__file__).resolve().parent

#: BNN-PYNQ hw/config.h folding (PE, SIMD) per layer, in order; the last dense layer of both is
#: padded to 16/64 outputs there, here it has 10 (PE=2 is the closest legal choice).
FOLDING = {
    "lfc": [(32, 56), (64, 32), (32, 64), (2, 8)],  # BNN-PYNQ pads MW 784 to 832 for SIMD 64
    "cnv": [(16, 3), (32, 32), (16, 32), (16, 32), (4, 32), (1, 32), (1, 4), (1, 8), (2, 1)],
}
#: BNN-PYNQ READMEs (Vivado 2016.1, PYNQ-Z1): LUT, FF, DSP, BRAM18 (RAMB36 count twice).
PUBLISHED = {
    "lfc": {"lut": 30249, "ff": 31760, "dsp": 5, "bram18": 2 * 6 + 212},
    "cnv": {"lut": 30605, "ff": 34645, "dsp": 26, "bram18": 2 * 104 + 72},
}


def lfc_w1a1(path: Path) -> Path:
    """LFC-W1A1 with random weights and BatchNorm statistics, exported to QONNX."""
    from brevitas.nn import QuantIdentity, QuantLinear
    from brevitas.quant import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst
    from brevitas_mlps import export_model

    torch.manual_seed(0)
    layers: list[nn.Module] = [QuantIdentity(act_quant=SignedBinaryActPerTensorConst)]
    sizes = [784, 1024, 1024, 1024]
    for a, b in zip(sizes, sizes[1:]):
        bn = nn.BatchNorm1d(b)
        bn.running_mean.uniform_(-20, 20)
        bn.running_var.uniform_(50, 400)
        layers += [QuantLinear(a, b, bias=False, weight_quant=SignedBinaryWeightPerTensorConst), bn,
                   QuantIdentity(act_quant=SignedBinaryActPerTensorConst)]
    layers.append(QuantLinear(1024, 10, bias=False, weight_quant=SignedBinaryWeightPerTensorConst))
    model = nn.Sequential(nn.Flatten(), *layers).eval()
    return export_model(model, path, None, (1, 28, 28))


def print_synth(name: str, build_dir: Path, published: dict) -> None:
    """Yosys's counts of the generated RTL of ``build_dir`` (fpgaflow synth) beside the published ones."""
    from fpgaflow.synth import synth_build

    start = time.monotonic()
    result = synth_build(build_dir)
    totals = result["totals"]
    keys = ("lut", "ff", "dsp", "bram18")
    kinds: dict[str, dict] = {}
    for row in result["layers"]:
        got = kinds.setdefault(row["kind"], {"yosys": dict.fromkeys(keys, 0), "estimate": dict.fromkeys(keys, 0)})
        for k in keys:
            got["yosys"][k] += row[k]
            got["estimate"][k] += row["estimate"][k]
    for kind, got in kinds.items():
        print(f"{name:<10}{'Yosys ' + kind:<24}" + "".join(f"{got['yosys'][k]:>{w}}" for k, w in zip(keys, (9, 9, 6, 8)))
              + "   Yosys/estimate " + " ".join(_ratio(got["yosys"][k], got["estimate"][k]) for k in keys))
    print(f"{name:<10}{'Yosys, top':<18}{'':>6}" + "".join(f"{totals[k]:>{w}}" for k, w in zip(keys, (9, 9, 6, 8)))
          + f"   ({time.monotonic() - start:.0f} s; unrouted)")
    for label, ref in (("Yosys/published", published), ("Yosys/estimate", totals["estimate"])):
        print(f"{name:<10}{label:<18}{'':>6}" + "".join(
            f"{_ratio(totals[k], ref[k]):>{w}}" for k, w in zip(keys, (9, 9, 6, 8))))


def _ratio(count: int, ref: int) -> str:
    """count / ref to two places; "-" when both are 0, "inf" when only ref is."""
    if ref == 0:
        return "-" if count == 0 else "inf"
    return f"{count / ref:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synth", action="store_true",
                        help="also write each network's RTL and synthesise it with Yosys (fpgaflow synth; "
                             "about 10 minutes each)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    sys.path.insert(0, str(HERE.parent / "tests"))
    from brevitas_cnns import cnv_cifar_random

    board = load_board("pynq-z1")
    print(f"{'network':<10}{'layer kind':<18}{'count':>6}{'LUT':>9}{'FF':>9}{'DSP':>6}{'BRAM18':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        models = {"lfc": lfc_w1a1(tmp / "lfc_w1a1.onnx"), "cnv": cnv_cifar_random(tmp, bits=1)}
        for name, model in models.items():
            probe = build(model, BuildOptions(board=board, out_dir=tmp / f"{name}_probe", csim=False))
            computes = [r["name"] for r in probe["layers"] if r["kind"] == "mvau"]
            folding = {n: {"pe": pe, "simd": simd} for n, (pe, simd) in zip(computes, FOLDING[name])}
            (tmp / f"{name}.json").write_text(json.dumps(folding))
            from fpgaflow.build import read_folding

            synth = args.synth
            report = build(model, BuildOptions(board=board, out_dir=tmp / name, csim=False, rtl=synth,
                                               folding=read_folding(tmp / f"{name}.json")))
            kinds: dict[str, dict] = {}
            for r in report["layers"]:
                row = kinds.setdefault(r["kind"], {"count": 0, "lut": 0, "ff": 0, "dsp": 0, "bram18": 0})
                row["count"] += 1
                for k in ("lut", "ff", "dsp", "bram18"):
                    row[k] += r[k]
            for kind, row in kinds.items():
                print(f"{name:<10}{kind:<18}{row['count']:>6}{row['lut']:>9}{row['ff']:>9}{row['dsp']:>6}{row['bram18']:>8}")
            t, p = report["totals"], PUBLISHED[name]
            print(f"{name:<10}{'total (estimate)':<18}{'':>6}{t['lut']:>9}{t['ff']:>9}{t['dsp']:>6}{t['bram18']:>8}")
            print(f"{name:<10}{'published':<18}{'':>6}{p['lut']:>9}{p['ff']:>9}{p['dsp']:>6}{p['bram18']:>8}")
            print(f"{name:<10}{'estimate/published':<18}{'':>6}" + "".join(
                f"{t[k] / p[k]:>{w}.2f}" for k, w in (("lut", 9), ("ff", 9), ("dsp", 6), ("bram18", 8))))
            print(f"{name:<10}II {report['cycles']['ii']} cycles, {report['fps']:,.0f} FPS at 100 MHz (simulated)")
            if synth:
                print_synth(name, tmp / name, p)


if __name__ == "__main__":
    main()
