"""report.json (keys are a contract: add, never rename) and a human-readable report."""

from __future__ import annotations

import json
from pathlib import Path

from fpgaflow.errors import json_value

from fpgaflow.boards import Board
from fpgaflow.estimate.resources import UTILISATION_LIMIT, budget, design_totals, over_budget, stream_rows


def layer_rows(layers) -> list[dict]:
    """One report row per layer kit."""
    rows = []
    for layer in layers:
        pe, simd = layer.pe_simd
        res = layer.resources()
        rows.append({"name": layer.name, "kind": layer.kind, "arith": layer.arith, "pe": pe, "simd": simd,
                     "cycles": layer.cycles(), **{k: res[k] for k in ("lut", "ff", "dsp", "bram18")},
                     **layer.describe()})
    return rows


def critical_path(layers) -> int:
    """The longest sum of (cycles + pipeline depth) along any path from the input to the output
    (layers in topological order; a chain is the common case)."""
    finish: dict[str, int] = {}
    for layer in layers:
        start = max((finish.get(s, 0) for s in layer.inputs), default=0)
        for s in layer.outputs:
            finish[s] = start + layer.cycles() + layer.pipeline_depth()
    return max(finish.values(), default=0)


def make_report(model: str, board: Board, clock_mhz: float, layers, csim: dict | None,
                depths: dict[str, int] | None = None, default_depth: int = 2) -> dict:
    """The report dictionary (analytical cycles: II = slowest layer, latency = longest path of stages;
    the cycle simulation replaces them). Totals include the stream FIFOs and glue."""
    rows = layer_rows(layers)
    depths = depths or {}
    totals = design_totals(layers, depths, default_depth)
    fits = not over_budget(totals, board)
    ii = max(r["cycles"] for r in rows)
    latency = critical_path(layers)
    bottleneck = max(rows, key=lambda r: r["cycles"])["name"]
    return {
        "model": model, "board": board.name, "part": board.part, "clock_mhz": clock_mhz,
        "layers": rows, "totals": totals, "streams": stream_rows(layers, depths, default_depth),
        "budget": budget(board), "utilisation_limit": UTILISATION_LIMIT,
        "fits": fits, "cycles": {"latency": latency, "ii": ii, "source": "estimate"},
        "bottleneck": bottleneck, "fps": clock_mhz * 1e6 / ii, "csim": csim,
    }


def apply_simulation(report: dict, sim: dict) -> bool:
    """Put the cycle simulation's latency, II, frames/s and bottleneck into ``report`` (False: it deadlocked)."""
    if sim["deadlock"]:
        return False
    report["cycles"] = {"latency": sim["latency"], "ii": sim["ii"], "source": "simulation",
                        "estimate_ii": report["cycles"].get("estimate_ii", report["cycles"]["ii"])}
    report["fps"] = sim["fps"]
    report["bottleneck"] = sim["bottleneck"]
    return True


def write_report(report: dict, out_dir: Path, sim: dict | None = None) -> None:
    """Write report.json, report.txt and report.html (charts of cycles, stalls, resources) into ``out_dir``;
    the HTML shows the Yosys counts of ``out_dir/synth.json`` where ``fpgaflow synth`` wrote it for this graph."""
    from fpgaflow.synth import load_synth

    out_dir = Path(out_dir)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=json_value))
    (out_dir / "report.txt").write_text(format_report(report))
    (out_dir / "report.html").write_text(format_html(report, sim, load_synth(out_dir)))


_BAR_X, _BAR_W = 260, 520  # label column and bar length of the HTML charts, in pixels


def _chart(title: str, rows: list[tuple[str, list[tuple[str, float, str]]]], unit: str) -> dict:
    """A horizontal stacked bar chart: rows of (label, [(segment name, value, colour)])."""
    top = max((sum(v for _, v, _ in segs) for _, segs in rows), default=0) or 1
    bars = []
    for i, (label, segs) in enumerate(rows):
        x, parts = _BAR_X, []
        for name, value, color in segs:
            w = _BAR_W * value / top
            parts.append({"name": name, "value": f"{value:,.0f}", "x": round(x, 1), "w": round(w, 1), "color": color})
            x += w
        bars.append({"label": label[:40], "y": 18 * i, "segments": parts, "end": round(x, 1),
                     "text": f"{sum(v for _, v, _ in segs):,.0f} {unit}"})
    legend = list(dict.fromkeys((name, color) for _, segs in rows for name, _, color in segs))
    return {"title": title, "bars": bars, "legend": legend, "width": _BAR_X + _BAR_W + 140,
            "height": 18 * len(rows) + 4}


def format_html(report: dict, sim: dict | None = None, synth: dict | None = None) -> str:
    """A standalone HTML page: per-layer cycles (busy and stalls, when simulated) and resources
    (with Yosys's counts beside the estimates when ``synth``, synth.json's content, is given)."""
    import jinja2

    layers = report["layers"]
    if sim and "layers" in sim:
        frames = max(1, sim["frames"])
        rows = [(l["name"], [("busy", l["busy"] / frames, "#2a7"), ("waiting for input", l["stall_in"] / frames, "#ccc"),
                             ("waiting for room", l["stall_out"] / frames, "#e94")]) for l in sim["layers"]]
        cycles = _chart(f"Cycles per frame (simulated, {sim['frames']} frames)", rows, "cycles")
    else:
        cycles = _chart("Cycles per frame (estimate)", [(l["name"], [("cycles", l["cycles"], "#2a7")]) for l in layers],
                        "cycles")
    luts = _chart("LUT per layer", [(l["name"], [("LUT", l["lut"], "#47c")]) for l in layers], "LUT")
    mems = _chart("BRAM18 and DSP per layer", [(l["name"], [("BRAM18", l["bram18"], "#a5c"), ("DSP", l["dsp"], "#c74")])
                                              for l in layers], "")
    env = jinja2.Environment(loader=jinja2.PackageLoader("fpgaflow", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("report.html.j2").render(r=report, charts=[cycles, luts, mems], synth=synth)


def format_report(report: dict) -> str:
    """A plain-text table of the report."""
    lines = [f"fpgaflow report: {report['model']} on {report['board']} ({report['part']}) at "
             f"{report['clock_mhz']:g} MHz", ""]
    head = f"{'layer':<28}{'kind':<16}{'arith':<7}{'PE':>5}{'SIMD':>6}{'cycles':>9}{'LUT':>8}{'FF':>8}{'DSP':>6}{'BRAM18':>8}"
    lines += [head, "-" * len(head)]
    for r in report["layers"]:
        lines.append(f"{r['name']:<28}{r['kind']:<16}{r['arith']:<7}{r['pe']:>5}{r['simd']:>6}{r['cycles']:>9}"
                     f"{r['lut']:>8}{r['ff']:>8}{r['dsp']:>6}{r['bram18']:>8}")
    t, b = report["totals"], report["budget"]
    lines.append("-" * len(head))
    lines.append(f"{'total (with stream FIFOs and glue)':<62}{t['lut']:>8}{t['ff']:>8}{t['dsp']:>6}{t['bram18']:>8}")
    lines.append(f"{'budget (80% of the board)':<62}{b['lut']:>8}{b['ff']:>8}{b['dsp']:>6}{b['bram18']:>8}")
    lines += ["", f"fits: {'yes' if report['fits'] else 'NO'}",
              f"II: {report['cycles']['ii']} cycles (bottleneck {report['bottleneck']}), latency "
              f"{report['cycles']['latency']} cycles, {report['fps']:,.0f} frames/s"]
    c = report.get("csim")
    if c:
        ints = {True: "identical", False: "DIFFER", None: "not checked"}[c.get("integers_equal")]
        lines.append(f"csim vs execute_onnx: {c['samples']} inputs, bit-exact: {'yes' if c['bit_exact'] else 'NO'} "
                     f"(integers on {len(c.get('streams_checked', []))} streams: {ints}; float outputs: "
                     f"{'identical' if c.get('float_identical') else 'max |diff| %.3g' % c['max_abs_diff']})")
    else:
        lines.append("csim: skipped (--no-csim)")
    return "\n".join(lines) + "\n"
