"""Fit the structural LUT/FF model (fpgaflow/layers/resource_model.py) to a Yosys grid.

Reads the rows ``benchmarks/kit_resources.py --validate --out rows.json`` wrote, rebuilds each
grid point's kit (the same seeds), and solves, for LUT and for FF separately, the non-negative
least squares of the relative error ``(memories + sum_t w_t * term_t) / yosys - 1`` over the
fitting points (rows without ``validation``). Prints each point's estimate beside Yosys with the
ratio, the worst ratio on the fitting and on the validation points, and with ``--write`` stores
the weights in fpgaflow/layers/resource_coefficients.json.

    python benchmarks/fit_resources.py /tmp/rows.json            # fit and show
    python benchmarks/fit_resources.py /tmp/rows.json --write    # and store the weights
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

sys.path.insert(0, str(Path(__file__).parent))
import kit_resources  # noqa: E402

from fpgaflow.layers import resource_model  # noqa: E402

KITS = ("lut", "ff")


def kit_terms(layer) -> tuple[dict[str, float], dict[str, int]]:
    """(structural terms, memory LUT/FF) of a grid kit."""
    if layer.kind == "mvau":
        return resource_model.mvau_terms(layer), layer.memory_resources()
    if layer.kind == "thresholding":
        return resource_model.thresholding_terms(layer), layer.memory_resources()
    return resource_model.width_converter_terms(layer), {"lut": 0, "ff": 0}


def grid_layers() -> dict[str, object]:
    """Every grid and validation point's kit by name."""
    points = kit_resources.mvau_points(False) + kit_resources.other_points(False) + kit_resources.validation_points()
    return {p.layer.name: p.layer for p in points}


def fit(rows: list[dict], layers: dict, key: str) -> dict[str, float]:
    """Non-negative weights of the terms minimising the relative error of ``key`` over ``rows``."""
    names = sorted({t for r in rows for t in kit_terms(layers[r["name"]])[0]})
    a, b = [], []
    for r in rows:
        terms, mem = kit_terms(layers[r["name"]])
        y = max(1, r["yosys"][key])
        a.append([terms.get(n, 0.0) / y for n in names])
        b.append((y - mem[key]) / y)
    weights, _ = nnls(np.array(a), np.array(b))
    return {n: round(float(w), 4) for n, w in zip(names, weights) if w > 0}


def estimate(layer, weights: dict, key: str) -> float:
    terms, mem = kit_terms(layer)
    return mem[key] + sum(weights.get(n, 0.0) * v for n, v in terms.items())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", help="rows JSON of benchmarks/kit_resources.py --validate --out")
    parser.add_argument("--write", action="store_true", help="store the weights in resource_coefficients.json")
    args = parser.parse_args(argv)
    saved = json.loads(Path(args.rows).read_text())
    layers = grid_layers()
    rows = [r for r in saved["rows"] if r["yosys"] and r["name"] in layers]
    train = [r for r in rows if not r.get("validation")]
    weights = {k: fit(train, layers, k) for k in KITS}
    print(f"{'kit':<40}{'set':<6}" + "".join(f"{k.upper() + ' est':>10}{'Yosys':>8}{'x':>6}" for k in KITS))
    worst = {}
    for r in sorted(rows, key=lambda r: (bool(r.get("validation")), r["kind"], r["name"])):
        part = "valid" if r.get("validation") else "fit"
        line = f"{r['name']:<40}{part:<6}"
        for k in KITS:
            est = estimate(layers[r["name"]], weights[k], k)
            ratio = r["yosys"][k] / est if est else float("inf")
            worst.setdefault((part, k), []).append(ratio)
            line += f"{est:>10.0f}{r['yosys'][k]:>8}{ratio:>6.2f}"
        print(line)
    print()
    for (part, k), ratios in sorted(worst.items()):
        far = max(ratios, key=lambda v: abs(np.log(v)))
        within = sum(0.85 <= v <= 1.15 for v in ratios)
        print(f"{part:<6}{k.upper():<4} worst Yosys/estimate {far:.2f}, within +-15%: {within}/{len(ratios)}")
    print("\nweights:", json.dumps(weights, indent=1))
    if args.write:
        doc = {"source": f"benchmarks/fit_resources.py on {len(train)} kits: {saved['source']}",
               "coefficients": weights}
        resource_model.COEFFICIENTS.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {resource_model.COEFFICIENTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
