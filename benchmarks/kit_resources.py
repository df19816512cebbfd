"""Single kits synthesised with Yosys beside their ``resources()`` estimates (issue 16).

Each grid point is one kit built directly in Python (random integer weights and threshold tables,
as tests/test_rtl_kits.py builds them), written with the RTL backend
(``fpgaflow.rtl.registry.write_layer``) and synthesised out of context with
``fpgaflow.synth.synthesize`` (``synth_xilinx -family xc7 -flatten -noiopad -noclkbuf``). The
table puts the kit's own estimate (its ``resources()``, a model) beside Yosys's cell counts
(unrouted, before place and route: docs/resources.md, "Yosys counts"), with the LUT and FF ratios
Yosys / estimate, and a summary line per kit kind (median and worst ratio; DSP and BRAM18 exact
or not).

    python benchmarks/kit_resources.py --quick             # a few points
    python benchmarks/kit_resources.py --out rows.json     # the whole grid, raw rows as JSON
    python benchmarks/kit_resources.py --jobs 2            # Yosys runs in parallel
    python benchmarks/kit_resources.py --from rows.json    # print a saved run again (no synthesis)

The full grid with ``--validate`` (134 kits) took 1472 s with ``--jobs 2`` on two cores from an
empty cache; the table is kept in benchmarks/results/kit_resources.txt, and what it shows in
docs/resources.md, "Kit estimates against Yosys (after recalibration)". The estimates' LUT/FF
weights are fitted on these rows by benchmarks/fit_resources.py.

Yosys results are cached in ``--work`` (default ``/tmp/fpgaflow_kit_resources``) by a hash of
every input, so a rerun only synthesises the points that changed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fpgaflow.ir import IntSpec
from fpgaflow.layers.mvau import MatrixVectorUnit
from fpgaflow.layers.thresholding import ThresholdTable, Thresholding
from fpgaflow.layers.width_converter import StreamWidthConverter
from fpgaflow.rtl import kits  # noqa: F401  (registers the compute kits' writers)
from fpgaflow.rtl import streams  # noqa: F401  (registers the width converter's writer)
from fpgaflow.rtl.registry import RTL_WRITERS, write_layer
from fpgaflow.rtl.streams import VERILOG_DIR
from fpgaflow.synth import KEYS, synthesize, yosys_version

FAMILY = "xc7"
BIPOLAR = IntSpec(-1, 1, True)
#: Weight sets per arithmetic variant: bipolar, {-1, 0, 1}, +-2^k, 4-bit integers.
WEIGHTS = {"xnor": ([-1, 1], BIPOLAR), "ternary": ([-1, 0, 1], IntSpec(-1, 1)),
           "shift": ([-8, -4, -2, -1, 1, 2, 4, 8], IntSpec(-8, 8)), "mac": (list(range(-8, 8)), IntSpec(-8, 7))}
FOLDS = [(1, 1), (4, 8), (16, 32)]
#: Big shapes are synthesised only if Yosys finishes inside this many seconds.
BIG_TIMEOUT_S = 60
#: Any other point: a Yosys run longer than this is reported as a timeout.
TIMEOUT_S = 600


@dataclass
class Point:
    """One kit of the grid and how it is labelled in the table."""

    kind: str  # summary group: mvau/<arith>, thresholding, width_converter
    layer: object
    arith: str
    shape: str
    pe: int
    simd: int
    timeout_s: float = TIMEOUT_S
    extra: dict = field(default_factory=dict)


def input_spec(arith: str, xbits: int) -> IntSpec:
    """Bipolar inputs for xnor, else unsigned ``xbits``-bit activations."""
    return BIPOLAR if arith == "xnor" else IntSpec(0, (1 << xbits) - 1)


def make_mvau(arith: str, xbits: int, mw: int, mh: int, pe: int, simd: int, table: bool, seed: int = 0,
              zeros: float = 0.0):
    """An MVAU of random weights of ``arith``'s set; random sorted thresholds when ``table`` (one
    threshold to a bipolar output for xnor, else three to a 2-bit code). With ``zeros`` > 0 that
    fraction of the weights is zero and the kit walks the sparse schedule."""
    rng = np.random.default_rng(seed)
    values, weight_spec = WEIGHTS[arith]
    weights = rng.choice([v for v in values if v] if zeros else values, (mw, mh))
    if zeros:
        weights[rng.random((mw, mh)) < zeros] = 0
    name = f"mvau_{arith}_x{xbits}_{mw}x{mh}_p{pe}s{simd}{'_t' if table else ''}{f'_z{round(zeros * 100)}' if zeros else ''}"
    layer = MatrixVectorUnit(name, weights, input_spec(arith, xbits), weight_spec, pe=pe,
                             simd=simd, arith_kind=arith, sparse=bool(zeros))
    if table:
        lo, hi = layer.acc_bounds
        count, out = (1, BIPOLAR) if arith == "xnor" else (3, IntSpec(-1, 2))
        layer.table = ThresholdTable(np.sort(rng.integers(lo, hi + 1, (mh, count)), axis=1), out)
    return layer


def make_thresholding(channels: int, pe: int, in_spec: IntSpec = IntSpec(-512, 511), count: int = 3, seed: int = 0):
    """A standalone thresholding kit: ``count`` sorted random thresholds per channel, one pixel."""
    rng = np.random.default_rng(seed)
    values = np.sort(rng.integers(in_spec.lo, in_spec.hi + 1, (channels, count)), axis=1)
    out = IntSpec(-(count + 1) // 2, count // 2)
    return Thresholding(f"thr_c{channels}_p{pe}", in_spec, ThresholdTable(values, out), pe=pe)


def mvau_points(quick: bool) -> list[Point]:
    if quick:
        specs = [("xnor", 1, 64, 64, 4, 8, True), ("ternary", 2, 64, 64, 1, 1, False),
                 ("shift", 4, 64, 64, 4, 8, False), ("mac", 4, 64, 64, 4, 8, True), ("mac", 2, 256, 64, 16, 32, False)]
    else:
        specs = []
        for arith in WEIGHTS:
            for xbits in ([1] if arith == "xnor" else [2, 4]):
                for mw, mh in [(64, 64), (256, 64)]:
                    for table in (False, True):
                        specs += [(arith, xbits, mw, mh, pe, simd, table) for pe, simd in FOLDS
                                  if mh % pe == 0 and mw % simd == 0]
        # one MNIST-sized input layer, kept only if Yosys is done inside BIG_TIMEOUT_S
        specs += [("mac", 2, 784, 64, 4, 8, False), ("xnor", 1, 784, 64, 4, 8, True)]
        # 8-bit inputs: the products go to DSP48s
        specs += [("mac", 8, 64, 64, pe, simd, False) for pe, simd in FOLDS]
    specs = [(*spec, 0.0) for spec in specs]
    # the sparse schedule: 90% zero weights at 256x64, 80% at 64x64
    for arith, xbits in ([("mac", 4)] if quick else [("ternary", 2), ("shift", 4), ("mac", 4)]):
        for table in ([True] if quick else [False, True]):
            specs += [(arith, xbits, 256, 64, pe, simd, table, 0.9) for pe, simd in ([(4, 8)] if quick else FOLDS)]
    if not quick:
        specs += [(arith, xbits, 64, 64, pe, simd, False, 0.8) for arith, xbits in [("ternary", 2), ("mac", 4)]
                  for pe, simd in FOLDS]
    return [mvau_point(*spec) for spec in specs]


def mvau_point(arith, xbits, mw, mh, pe, simd, table, zeros) -> Point:
    """The grid point of one MVAU."""
    layer = make_mvau(arith, xbits, mw, mh, pe, simd, table, zeros=zeros)
    label = ("xnor" if arith == "xnor" else f"{arith} {xbits}b") + (" sparse" if zeros else "")
    return Point(f"mvau/{arith}" + ("/sparse" if zeros else ""), layer, label + (" +thr" if table else ""),
                 f"{mw}x{mh}", pe, simd, BIG_TIMEOUT_S if mw * mh > 256 * 64 else TIMEOUT_S)


def validation_points() -> list[Point]:
    """Shapes, widths and foldings the models were not fitted on (``--validate``)."""
    specs = [("xnor", 1, 128, 32, 2, 16, True, 0.0), ("xnor", 1, 576, 64, 8, 32, True, 0.0),
             ("ternary", 3, 128, 32, 2, 16, True, 0.0), ("shift", 3, 128, 32, 8, 4, False, 0.0),
             ("mac", 3, 128, 32, 2, 16, True, 0.0), ("mac", 8, 64, 16, 2, 4, False, 0.0),
             ("mac", 2, 128, 128, 8, 16, True, 0.0), ("ternary", 2, 128, 32, 2, 16, True, 0.8),
             ("mac", 4, 128, 32, 8, 4, False, 0.95)]
    points = [mvau_point(*spec) for spec in specs]
    for channels, pe, bits, count in [(32, 4, 8, 1), (128, 8, 12, 3), (48, 2, 16, 15)]:
        half = 1 << (bits - 1)
        layer = make_thresholding(channels, pe, IntSpec(-half, half - 1), count)
        layer.name += f"_b{bits}t{count}"
        points.append(Point("thresholding", layer, f"{bits}b in, {count} thr", f"{channels} ch", pe, 1))
    for in_w, out_w, bits in [(16, 48, 2), (64, 16, 8)]:
        layer = StreamWidthConverter(f"dwc_{in_w}to{out_w}_b{bits}", IntSpec(0, (1 << bits) - 1), 192, in_w, out_w)
        points.append(Point("width_converter", layer, f"{bits}b elems", f"{in_w}->{out_w}", 1, 1))
    for point in points:
        point.extra["validation"] = True
    return points


def other_points(quick: bool) -> list[Point]:
    points = []
    for channels, pe in ([(64, 4)] if quick else [(64, 1), (64, 16), (256, 1), (256, 16)]):
        layer = make_thresholding(channels, pe)
        points.append(Point("thresholding", layer, f"{layer.in_spec.bits}b in, {layer.table.count} thr",
                            f"{channels} ch", pe, 1))
    if not quick:  # one threshold (a binary output) on 8-bit inputs
        layer = make_thresholding(64, 4, IntSpec(-128, 127), 1)
        layer.name += "_b8t1"
        points.append(Point("thresholding", layer, "8b in, 1 thr", "64 ch", 4, 1))
    if "width_converter" in RTL_WRITERS and (VERILOG_DIR / "fpgaflow_width_converter.v").is_file():
        for in_w, out_w in ([(8, 32)] if quick else [(8, 32), (32, 8)]):
            layer = StreamWidthConverter(f"dwc_{in_w}to{out_w}", IntSpec(0, 15), 256, in_w, out_w)
            points.append(Point("width_converter", layer, "4b elems", f"{in_w}->{out_w}", 1, 1))
    return points


KINDS = [f"mvau/{a}{s}" for a in WEIGHTS for s in ("", "/sparse")] + ["thresholding", "width_converter"]


def row_key(row: dict) -> tuple:
    """The table's order: by kit kind, arithmetic, shape, thresholds, then folding."""
    return (KINDS.index(row["kind"]), row["arith"].replace(" +thr", ""), int(re.match(r"\d+", row["shape"])[0]),
            "+thr" in row["arith"], row["pe"] * row["simd"])


def run_point(point: Point, work: Path) -> dict:
    """Write ``point``'s kit, synthesise it and return its row (``status`` "ok", "timeout" or "error")."""
    layer = point.layer
    estimate = {k: int(layer.resources()[k]) for k in KEYS}
    row = {"name": layer.name, "kind": point.kind, "arith": point.arith, "shape": point.shape, "pe": point.pe,
           "simd": point.simd, "estimate": estimate, "yosys": None, "ratio": None, "status": "ok", **point.extra}
    start = time.monotonic()
    try:
        rtl_dir = work / "rtl" / layer.name
        if rtl_dir.exists():
            shutil.rmtree(rtl_dir)
        rtl_dir.mkdir(parents=True)
        module = write_layer(layer, rtl_dir)
        verilog = [f for f in module.files if f.suffix == ".v"]
        if layer.kind == "width_converter":
            verilog.append(Path(shutil.copy(VERILOG_DIR / "fpgaflow_width_converter.v", rtl_dir)))
        counts = synthesize(verilog, layer.name, work / "cache", FAMILY, timeout_s=point.timeout_s)
    except subprocess.TimeoutExpired:
        row["status"] = f"timeout (> {point.timeout_s:.0f} s)"
    except Exception as err:  # a writer or Yosys failure is a row of its own, not the end of the grid
        row["status"] = "error"
        row["error"] = str(err)[-1500:]
    else:
        row["yosys"] = {k: counts[k] for k in (*KEYS, "lutram", "carry", "muxf", "inv")}
        row["cells"] = counts["cells"]
        row["ratio"] = {k: (round(counts[k] / estimate[k], 3) if estimate[k] else None) for k in KEYS}
    row["seconds"] = round(time.monotonic() - start, 1)
    return row


def _num(v) -> str:
    return "-" if v is None else str(v)


def _ratio(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def format_table(rows: list[dict]) -> str:
    head = (f"{'kit':<20}{'arith':<24}{'shape':<10}{'PE':>4}{'SIMD':>5} | "
            f"{'estimate LUT/FF/DSP/BRAM18':>27} | {'Yosys LUT/FF/DSP/BRAM18':>27} | {'LUT x':>6}{'FF x':>6}"
            f" {'muxf':>6}{'s':>7}")
    lines = ["(LUT x, FF x: Yosys / estimate; muxf: MUXF7/F8 cells, not in LUT; s: Yosys seconds, 0 when cached)",
             head, "-" * len(head)]
    for r in rows:
        est = "/".join(str(r["estimate"][k]) for k in KEYS)
        if r["yosys"]:
            got = "/".join(str(r["yosys"][k]) for k in KEYS)
            tail = f"{_ratio(r['ratio']['lut']):>6}{_ratio(r['ratio']['ff']):>6} {r['yosys']['muxf']:>6}"
        else:
            got, tail = r["status"], f"{'':>19}"
        lines.append(f"{r['kind']:<20}{r['arith']:<24}{r['shape']:<10}{r['pe']:>4}{r['simd']:>5} | {est:>27} | "
                     f"{got:>27} | {tail}{r['seconds']:>7.1f}")
    return "\n".join(lines)


def summarize(rows: list[dict]) -> list[dict]:
    """Per kit kind: points, median and worst (farthest from 1, either way) LUT and FF ratio, and how
    many points have DSP and BRAM18 exactly as estimated."""
    out = []
    for kind in dict.fromkeys(r["kind"] for r in rows):
        done = [r for r in rows if r["kind"] == kind and r["yosys"]]
        if not done:
            continue
        entry = {"kind": kind, "points": len(done)}
        for k in ("lut", "ff"):
            ratios = [r["ratio"][k] for r in done if r["ratio"][k] is not None]
            entry[k] = {"median": round(statistics.median(ratios), 2),
                        "worst": max(ratios, key=lambda v: abs(np.log(v)) if v > 0 else np.inf)} if ratios else None
        for k in ("dsp", "bram18"):
            entry[k + "_exact"] = sum(r["yosys"][k] == r["estimate"][k] for r in done)
        out.append(entry)
    return out


def format_summary(summary: list[dict]) -> str:
    lines = []
    for s in summary:
        parts = [f"{s['kind']:<22}{s['points']:>3} pts"]
        for k in ("lut", "ff"):
            v = s[k]
            parts.append(f"{k.upper()} x median {v['median']:.2f} worst {v['worst']:.2f}" if v else f"{k.upper()} -")
        parts += [f"DSP exact {s['dsp_exact']}/{s['points']}", f"BRAM18 exact {s['bram18_exact']}/{s['points']}"]
        lines.append("  ".join(parts))
    return "\n".join(lines)


def tree_state() -> str:
    """The commit the kits' RTL writers come from, and the files of fpgaflow/ changed since it."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "fpgaflow"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" + uncommitted {', '.join(changed)}" if changed else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few points only")
    parser.add_argument("--out", help="write the raw rows (and the summary) as JSON to this file")
    parser.add_argument("--work", default="/tmp/fpgaflow_kit_resources", help="RTL and Yosys cache folder")
    parser.add_argument("--jobs", type=int, default=1, help="Yosys runs in parallel (default 1)")
    parser.add_argument("--only", help="only kits whose name contains this string")
    parser.add_argument("--validate", action="store_true",
                        help="also the validation points: shapes and widths the models were not fitted on")
    parser.add_argument("--from", dest="from_file", metavar="FILE.json",
                        help="print the table and summary of rows an earlier --out wrote (no synthesis)")
    args = parser.parse_args(argv)
    if args.from_file:
        saved = json.loads(Path(args.from_file).read_text())
        rows = sorted(saved["rows"], key=row_key)
        print(f"Counts: {saved['source']} (from {args.from_file}{', partial' if saved.get('partial') else ''}).\n"
              "Estimates: each kit's resources() model, not a measurement. Ratio = Yosys / estimate.\n")
        print(format_table(rows))
        print(f"\nSummary per kit kind (ratio = Yosys / estimate; worst = farthest from 1):")
        print(format_summary(summarize(rows)))
        return 0

    work = Path(args.work)
    points = mvau_points(args.quick) + other_points(args.quick) + (validation_points() if args.validate else [])
    # the cheap kits first, so that a stopped grid still covers every kind
    points.sort(key=lambda p: (p.timeout_s == BIG_TIMEOUT_S, p.layer.resources()["lut"]))
    if args.only:
        points = [p for p in points if args.only in p.layer.name]
    source = f"Yosys {yosys_version()} synth_xilinx -family {FAMILY}, unrouted (cell counts before place and route)"
    print(f"Counts: {source}.\nEstimates: each kit's resources() model, not a measurement. "
          f"Ratio = Yosys / estimate. {len(points)} kits.\n", flush=True)
    tree = tree_state()
    print(f"RTL writers from fpgaflow {tree}.\n", flush=True)
    start = time.monotonic()

    done = []

    def one(point):
        row = run_point(point, work)
        done.append(row)
        print(f"  [{len(done)}/{len(points)}] {row['name']}: {row['status']} ({row['seconds']} s)", file=sys.stderr,
              flush=True)
        if args.out:  # the rows so far, in case the grid is stopped
            Path(args.out).write_text(json.dumps({"source": source, "tree": tree, "partial": True, "rows": done}, indent=1) + "\n")
        return row

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(one, points))
    rows.sort(key=row_key)
    elapsed = time.monotonic() - start
    summary = summarize(rows)
    print(format_table(rows))
    print(f"\nSummary per kit kind ({source}; ratio = Yosys / estimate; worst = farthest from 1):")
    print(format_summary(summary))
    print(f"\n{sum(bool(r['yosys']) for r in rows)}/{len(rows)} kits synthesised in {elapsed:.0f} s "
          f"(--jobs {args.jobs}; cached points take no time)")
    if args.out:
        Path(args.out).write_text(json.dumps({"source": source, "tree": tree, "family": FAMILY, "seconds": round(elapsed, 1),
                                              "rows": rows, "summary": summary}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
