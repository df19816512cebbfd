"""Cycle-accurate simulation of a build: layer-kit loop schedules as processes, streams as FIFOs.

The build writes ``DIR/sim/pipeline.txt``: every layer kit's per-frame loop schedule (from
``LayerKit.schedule()``), its pipeline depth, and the FIFOs between the kits with their depths;
a source feeds the accelerator input one token per cycle and a sink drains the output one token
per cycle. ``simulate`` runs the C++ engine (``engine.cpp``, compiled once with g++) on it and
summarises per-layer busy/stall cycles, first-frame latency, steady-state II, frames per second at
the board clock and FIFO high-water marks into ``DIR/sim.json``; it also fills ``cycles`` and
``fps`` in ``DIR/report.json``. ``fpgaflow sim`` starts from the saved hardware graph (``DIR/graph.json``).
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

from fpgaflow.codegen.compile import compile_cached
from fpgaflow.errors import UserError
from fpgaflow.ir import DEFAULT_FIFO_DEPTH, IN_STREAM, OUT_STREAM, HardwareGraph
from fpgaflow.layers.base import Phase

log = logging.getLogger(__name__)

PIPELINE_FILE = "pipeline.txt"
SOURCE, SINK = "input_source", "output_sink"
#: The AXI adapters of the top (fpgaflow/rtl/verilog/fpgaflow_axis_in.v, _out.v): a token is
#: readable in the input FIFO 2 cycles after the s_axis word that completes it (the adapter's token
#: register, then the FIFO), which holds the one token; an output frame's last word leaves 1 cycle
#: after its token is taken from the output FIFO, plus a cycle per further word of the token.
AXIS_IN_LATENCY, AXIS_IN_SLOTS, AXIS_OUT_LATENCY = 2, 1, 1
#: Stream FIFOs up to this depth are shift registers, readable the cycle after a write (counted in the
#: producer's ``pipeline_depth()``); deeper ones are block RAM with a registered read and a two-token
#: output buffer, this many cycles later still (fpgaflow/rtl/verilog/fpgaflow_fifo.v).
SRL_MAX_DEPTH, BRAM_FIFO_EXTRA_LATENCY = 32, 2


def axis_schedule(stream, reads: bool) -> list[Phase]:
    """The DMA's side of the accelerator's input (``reads=False``) or output stream, one AXI word per
    cycle: a token every ``words`` cycles (written with its last word, read before its first)."""
    layout = stream.layout()
    token = Phase(1, (1,), ()) if reads else Phase(1, (), (1,))
    if layout.words == 1:
        return [token._replace(count=layout.tokens)]
    gap = Phase(layout.words - 1, (0,), ()) if reads else Phase(layout.words - 1, (), (0,))
    return [token, gap] * layout.tokens if reads else [gap, token] * layout.tokens


def write_pipeline(hg: HardwareGraph, out_dir: Path, depths: dict[str, int] | None = None,
                   default_depth: int | None = None) -> Path:
    """Write ``out_dir/sim/pipeline.txt`` for the engine: the graph's FIFO depths, or ``depths`` with
    ``default_depth`` for the streams it does not name."""
    if depths is None and default_depth is None:
        depths, default_depth = hg.depths, DEFAULT_FIFO_DEPTH
    layers = hg.layers
    graph_streams = hg.streams()
    streams = [s.name for s in graph_streams]
    ids = {s: i for i, s in enumerate(streams)}
    source, sink = graph_streams[0], graph_streams[-1]
    lines = [f"fifos {len(streams)} {SRL_MAX_DEPTH} {BRAM_FIFO_EXTRA_LATENCY}"]
    lines += [f"{s} {depths.get(s, default_depth)}" for s in streams]
    lines.append(f"processes {len(layers) + 2}")

    def process(name, latency, slots, inputs, outputs, schedule):
        head = [name, str(latency), str(slots), str(len(inputs)), *(str(ids[s]) for s in inputs),
                str(len(outputs)), *(str(ids[s]) for s in outputs), str(len(schedule))]
        rows = [" ".join(map(str, (p.count, *p.reads, *p.writes))) for p in schedule]
        return [" ".join(head)] + rows

    lines += process(SOURCE, AXIS_IN_LATENCY, AXIS_IN_SLOTS, [], [IN_STREAM], axis_schedule(source, reads=False))
    for layer in layers:
        lines += process(layer.name, layer.pipeline_depth(), layer.output_slots(), layer.inputs, layer.outputs,
                         layer.schedule())
    lines += process(SINK, AXIS_OUT_LATENCY, 0, [OUT_STREAM], [], axis_schedule(sink, reads=True))
    path = Path(out_dir) / "sim" / PIPELINE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def engine(work_dir: Path) -> Path:
    """The compiled simulator engine (built once per build directory, cached)."""
    source = Path(__file__).with_name("engine.cpp")
    return compile_cached([source], Path(work_dir) / "engine", ["-O2", "-std=c++14"], [])


def run_engine(pipeline: Path, frames: int, depths: dict[str, int] | None = None) -> dict:
    """Run the engine on ``pipeline`` for ``frames`` frames (``depths`` overriding FIFO depths);
    returns its raw result."""
    exe = engine(pipeline.parent)
    result = pipeline.parent / "engine_result.json"
    args = [str(exe), str(pipeline), str(int(frames)), str(result)]
    if depths:
        override = pipeline.parent / "depths.txt"
        override.write_text("".join(f"{k} {v}\n" for k, v in depths.items()))
        args.append(str(override))
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode not in (0, 3):  # 3: deadlock, reported in the result
        raise RuntimeError(f"simulator engine failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return json.loads(result.read_text())


def summarise(raw: dict, frames: int, clock_mhz: float) -> dict:
    """Latency, II, FPS, per-layer busy/stall cycles and FIFO high-water marks from an engine result."""
    layers = [p for p in raw["processes"] if p["name"] not in (SOURCE, SINK)]
    out = {"frames": frames, "clock_mhz": clock_mhz, "total_cycles": raw["cycles"], "deadlock": raw["deadlock"]}
    if raw["deadlock"]:
        stuck = [p for p in layers if p["frames"] < frames]
        out["blocked"] = [{"layer": p["name"], "frames_done": p["frames"], "waiting_on": p["waiting_on"],
                           "waiting_for": p["waiting_for"]} for p in stuck]
    source, sink = next(p for p in raw["processes"] if p["name"] == SOURCE), _sink(raw)
    if sink is not None and len(sink["frame_done"]) == frames and not raw["deadlock"]:
        done = sink["frame_done"]  # the cycle of each frame's last output word
        out["latency"] = done[0] - source["first_fire"] + 1
        out["ii"] = (done[-1] - done[0]) / (frames - 1) if frames > 1 else out["latency"]
        out["fps"] = clock_mhz * 1e6 / out["ii"]
    out["layers"] = [{"name": p["name"], "busy_per_frame": p["busy"] / max(1, frames), "busy": p["busy"],
                      "stall_in": p["stall_in"], "stall_out": p["stall_out"]} for p in layers]
    if layers:
        out["bottleneck"] = max(layers, key=lambda p: p["busy"])["name"]
    out["fifos"] = raw["fifos"]
    if "ii" in out and float(out["ii"]).is_integer():
        out["ii"] = int(out["ii"])
    return out


def _sink(raw: dict):
    """The output stream's DMA side: its frame ends are the accelerator's."""
    return next((p for p in raw["processes"] if p["name"] == SINK), None)


UNBOUNDED = 1 << 30
SIZING_FRAMES = 4


SHRINK_ABOVE = 32  # FIFOs up to this depth are shift registers: not worth more simulations


def size_fifos(hg: HardwareGraph, out_dir: Path, frames: int = SIZING_FRAMES) -> dict[str, int]:
    """The smallest FIFO depths that lose no throughput.

    First every stream gets the most tokens it held in a simulation with unbounded FIFOs (less
    those still inside its producer's pipeline): then no write ever waits for room. A fast
    producer ahead of the bottleneck fills its FIFO with nearly a frame, though, so each FIFO
    deeper than ``SHRINK_ABOVE`` is then cut by binary search to the smallest depth that keeps
    the II (and does not deadlock).
    """
    pipeline = write_pipeline(hg, out_dir, {}, UNBOUNDED)
    raw = run_engine(pipeline, frames)
    slots = {s: layer.output_slots() for layer in hg.layers for s in layer.outputs}
    depths = {q["name"]: max(1, q["high_water"] - slots.get(q["name"], 0)) for q in raw["fifos"]
              if q["name"] not in (IN_STREAM, OUT_STREAM)}  # the top-level ports are the DMA's streams
    target = _ii(raw, frames)

    def keeps_ii(trial: dict[str, int]) -> bool:
        result = run_engine(pipeline, frames, {**trial, IN_STREAM: UNBOUNDED})
        return not result["deadlock"] and _ii(result, frames) <= target

    for name in sorted(depths, key=lambda s: -depths[s]):
        if depths[name] <= SHRINK_ABOVE:
            break
        lo, hi = 1, depths[name]  # hi keeps the II
        while lo < hi:
            mid = (lo + hi) // 2
            if keeps_ii({**depths, name: mid}):
                hi = mid
            else:
                lo = mid + 1
        depths[name] = hi
    return depths


def _ii(raw: dict, frames: int) -> float:
    sink = _sink(raw)
    done = sink["frame_done"] if sink else []
    return (done[-1] - done[0]) / (frames - 1) if len(done) == frames and frames > 1 else float("inf")


def simulate_build(build_dir: Path, frames: int, clock_mhz: float) -> dict:
    """Run ``frames`` frames through ``build_dir/sim/pipeline.txt``; write and return ``sim.json``'s summary."""
    if frames < 1:
        raise UserError(f"--frames {frames}: must be at least 1")
    result = summarise(run_engine(Path(build_dir) / "sim" / PIPELINE_FILE, frames), frames, clock_mhz)
    (Path(build_dir) / "sim.json").write_text(json.dumps(result, indent=2))
    return result


def simulate(build_dir: str | Path, frames: int = 10) -> dict:
    """``fpgaflow sim``: simulate the saved hardware graph of ``build_dir`` (``graph.json``) for
    ``frames`` frames; writes sim.json and the report with the simulated cycles."""
    from fpgaflow.graph_file import load_graph
    from fpgaflow.report import apply_simulation, write_report

    build_dir = Path(build_dir)
    report_path = build_dir / "report.json"
    if not (build_dir / "graph.json").is_file() or not report_path.is_file():
        raise UserError(f"{build_dir}: not an fpgaflow build directory with a hardware graph (run 'fpgaflow build')")
    if frames < 1:
        raise UserError(f"--frames {frames}: must be at least 1")
    hg, doc = load_graph(build_dir)
    write_pipeline(hg, build_dir)
    result = simulate_build(build_dir, frames, float(doc["clock_mhz"]))
    report = json.loads(report_path.read_text())
    if apply_simulation(report, result):
        write_report(report, build_dir, result)
    return result
