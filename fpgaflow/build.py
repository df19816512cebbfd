"""The build flow: frontend -> streamline -> fold -> codegen -> verify -> estimate -> report."""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager

from fpgaflow.boards import Board, check_pl_clock
from fpgaflow.codegen.compile import compile_csim
from fpgaflow.codegen.hls import write_hls
from fpgaflow.interface import port_layouts
from fpgaflow.codegen.host import write_host
from fpgaflow.deploy.board_scripts import stream_word_bits, write_board
from fpgaflow.deploy.driver_files import unsupported_host_ops, write_driver
from fpgaflow.errors import UserError, json_value
from fpgaflow.estimate.resources import design_totals, over_budget
from fpgaflow.frontend.load import load_model
from fpgaflow.ir import DEFAULT_FIFO_DEPTH, HardwareGraph
from fpgaflow.layers.mvau import ARITH_KINDS, DEFAULT_SPARSE_THRESHOLD, MatrixVectorUnit, arith_options
from fpgaflow.passes.folding import balance_sparse_channels, fold_to_fit
from fpgaflow.passes.prune import remove_dead_neurons
from fpgaflow.passes.streamline import streamline
from fpgaflow.graph_file import save_graph
from fpgaflow.report import apply_simulation, make_report, write_report
from fpgaflow.sim.pipeline import run_engine, simulate_build, size_fifos, summarise, write_pipeline
from fpgaflow.verify import verify_build

log = logging.getLogger(__name__)

#: Without --target-fps, fold every layer to reach this many frames per second.
DEFAULT_TARGET_FPS = 100_000
#: Frames the build's cycle simulation pushes through the pipeline.
SIM_FRAMES = 8

_OUR_MARKERS = ("report.json", "host", "hls", "sim", "driver", "board")


@dataclass
class BuildOptions:
    """What ``fpgaflow build`` was asked for."""

    board: Board
    out_dir: Path
    clock_mhz: float | None = None
    target_fps: float | None = None
    target_cycles: int | None = None  # instead of target_fps
    csim: bool = True
    csim_samples: int = 300
    seed: int = 0
    arith: dict[str, str] = field(default_factory=dict)  # layer name -> arith kind, "sparse" or "dense"
    sparse_threshold: float = DEFAULT_SPARSE_THRESHOLD
    folding: dict[str, tuple[int, int]] = field(default_factory=dict)  # layer name -> (PE, SIMD)
    bitstream: bool = False  # then build the bitstream with Vitis HLS and Vivado (fpgaflow build --bitstream)
    rtl: bool = False  # also write the Verilog backend into DIR/rtl/ (fpgaflow build --rtl)

    @property
    def clock(self) -> float:
        return self.clock_mhz if self.clock_mhz is not None else self.board.clock_mhz


def default_out_dir(model_path: str | Path) -> Path:
    """``build/<model name>`` in the current directory."""
    return Path("build") / Path(model_path).stem


def check_out_dir(out_dir: Path) -> None:
    """Refuse to write into an existing folder that is not an fpgaflow build directory."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not any((out_dir / m).exists() for m in _OUR_MARKERS):
        raise UserError(f"--out {out_dir}: folder exists and is not an fpgaflow build directory; "
                        "choose a new or empty folder")


def _no_progress(_title: str) -> ContextManager:
    return contextlib.nullcontext()


def folding_target(options: BuildOptions) -> tuple[float, int]:
    """(frames per second, cycles per frame) the layers are folded for."""
    if options.target_cycles is not None:
        if options.target_cycles < 1:
            raise UserError(f"--target-cycles {options.target_cycles}: must be at least 1")
        return options.clock * 1e6 / options.target_cycles, options.target_cycles
    target_fps = options.target_fps if options.target_fps is not None else DEFAULT_TARGET_FPS
    if target_fps <= 0:
        raise UserError(f"--target-fps {target_fps}: must be positive")
    return target_fps, max(1, int(options.clock * 1e6 // target_fps))


def hardware_graph(model_path: str | Path, options: BuildOptions,
                   step: Callable[[str], ContextManager] = _no_progress) -> tuple[HardwareGraph, list[str]]:
    """The folded hardware graph ``build`` generates code for, and the notes for its report."""
    model_path = Path(model_path)
    clock = options.clock
    if clock <= 0:
        raise UserError(f"--clock-mhz {clock}: must be positive")
    check_pl_clock(options.board.ps, clock, "--clock-mhz")
    target_fps, target_cycles = folding_target(options)
    with step("Loading and checking the model"):
        model = load_model(model_path)
    with step("Streamlining to integer layers"):
        hg = streamline(model, model_path.stem)
    with step("Removing pruned neurons and choosing arithmetic"):
        notes = remove_dead_neurons(hg)
        apply_arith(hg.layers, options.arith, options.sparse_threshold)
        balance_sparse_channels(hg.layers, hg.stream_tensors)
    with step(f"Folding for {target_fps:,.0f} frames/s ({target_cycles} cycles per frame)"):
        hg.layers, fold_note = fold_to_fit(hg.layers, target_cycles, options.folding, options.board)
        if fold_note:
            notes.append(fold_note)
    return hg, notes


@dataclass
class BuildResult:
    """What the stages of a build produced: the folded graph and the typed results of each check."""

    graph: HardwareGraph
    options: BuildOptions
    notes: list[str]
    target_fps: float
    target_cycles: int
    check: dict | None = None  # the C simulation against execute_onnx (fpgaflow.verify)
    sim: dict | None = None  # the cycle simulation's summary (sim.json)

    @property
    def resources(self) -> dict[str, int]:
        """Estimated totals with the stream FIFOs (the kits' resource models)."""
        return design_totals(self.graph.layers, self.graph.depths, DEFAULT_FIFO_DEPTH)

    @property
    def report(self) -> dict:
        """report.json's content."""
        hg, options = self.graph, self.options
        report = make_report(hg.name, options.board, options.clock, hg.layers, self.check, hg.depths,
                             DEFAULT_FIFO_DEPTH)
        report.update(target_fps=self.target_fps, target_cycles=self.target_cycles, notes=self.notes)
        if self.sim is not None:
            apply_simulation(report, self.sim)
        return report


def write_artefacts(hg: HardwareGraph, options: BuildOptions, out_dir: Path, notes: list[str]) -> Path:
    """Size the FIFOs, save the hardware graph and write every view of it: hls/, board/, host/, driver/, sim/."""
    hg.depths = size_fifos(hg, out_dir)
    save_graph(hg, out_dir, options.board.part, options.clock)
    hls_dir = write_hls(hg, options.board, options.clock, out_dir)
    if options.rtl:
        from fpgaflow.rtl.top import write_rtl
        write_rtl(hg, out_dir / "rtl")
    write_board(out_dir, options.board, options.clock, hg.name, *stream_word_bits(hg))
    write_host(hg, out_dir)
    write_driver(hg, out_dir, port_layouts(hg))
    missing = unsupported_host_ops(hg)
    if missing:
        notes.append(f"the PYNQ driver's numpy host edges cannot run {', '.join(missing)}; "
                     "run those host-side nodes yourself around Accelerator.execute_codes")
    write_pipeline(hg, out_dir)
    return hls_dir


FLOAT_NOTE = ("float outputs are not identical to execute_onnx's (max |diff| {max_abs_diff:.3g}, argmax differs on "
              "{argmax_mismatches} of {samples} inputs) although every integer is: the reference's float32 "
              "MatMul/Gemm of the last layer rounds its partial sums (non-power-of-two scales, or a float bias added "
              "inside a Gemm) in an order that the integer accumulator does not record; power-of-two scales and no "
              "float bias in the last layer make it exact")


def run_stages(model_path: str | Path, options: BuildOptions,
               step: Callable[[str], ContextManager] = _no_progress) -> BuildResult:
    """Run every stage of ``build`` (fold, generate, compile, check, simulate) and return their results."""
    model_path = Path(model_path)
    out_dir = Path(options.out_dir)
    check_out_dir(out_dir)
    hg, notes = hardware_graph(model_path, options, step)
    result = BuildResult(hg, options, notes, *folding_target(options))
    out_dir.mkdir(parents=True, exist_ok=True)
    with step("Generating HLS C++ and host edges"):
        hls_dir = write_artefacts(hg, options, out_dir, notes)
    with step("Compiling the C simulation"):
        compile_csim(hls_dir)
    if options.csim:
        with step(f"C simulation vs execute_onnx on {options.csim_samples} random inputs"):
            result.check = verify_build(out_dir, model_path, options.csim_samples, options.seed)
        if result.check["integers_equal"] and not result.check["float_identical"]:
            notes.append(FLOAT_NOTE.format(**result.check))
    with step("Cycle simulation"):
        result.sim = simulate_build(out_dir, SIM_FRAMES, options.clock)
    return result


def build(model_path: str | Path, options: BuildOptions,
          step: Callable[[str], ContextManager] = _no_progress) -> dict:
    """Build ``model_path`` into ``options.out_dir``; write and return the report."""
    result = run_stages(model_path, options, step)
    report = result.report
    simulated = result.sim if result.sim is not None and not result.sim["deadlock"] else None
    write_report(report, Path(options.out_dir), simulated)
    return json.loads(json.dumps(report, default=json_value))


def predict_hardware(model_path: str | Path, options: BuildOptions, work_dir: str | Path) -> dict:
    """What ``build`` would give, without generating or compiling the accelerator.

    Folds the model as ``build`` does, sizes the FIFOs and runs the cycle simulation in
    ``work_dir``. Returns ``fps``, ``ii``, ``latency``, the resource totals (``lut``, ``ff``, ``dsp``,
    ``bram18``), ``fits`` (within the board's budget) and the build's ``notes``.
    """
    hg, notes = hardware_graph(model_path, options)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    hg.depths = size_fifos(hg, work_dir)
    result = summarise(run_engine(write_pipeline(hg, work_dir), SIM_FRAMES), SIM_FRAMES, options.clock)
    if result["deadlock"]:
        raise RuntimeError(f"{model_path}: the cycle simulation deadlocked: {result.get('blocked')}")
    totals = design_totals(hg.layers, hg.depths, DEFAULT_FIFO_DEPTH)
    return {"fps": result["fps"], "ii": result["ii"], "latency": result["latency"], **totals,
            "fits": not over_budget(totals, options.board), "notes": notes}


def apply_arith(layers: list, overrides: dict[str, str], sparse_threshold: float) -> None:
    """Set the sparse threshold and apply ``--arith LAYER=KIND`` overrides, refusing inexact ones."""
    if not 0 < sparse_threshold <= 1:
        raise UserError(f"--sparse-threshold {sparse_threshold}: must be in (0, 1]")
    mvaus = {l.name: l for l in layers if isinstance(l, MatrixVectorUnit)}
    for layer in mvaus.values():
        layer.sparse_threshold = sparse_threshold
    for name, kind in overrides.items():
        if name not in mvaus:
            raise UserError(f"--arith {name}={kind}: no layer {name}; layers: {', '.join(mvaus)}")
        layer = mvaus[name]
        if kind in ("sparse", "dense"):
            if layer.arith == "xnor" and kind == "sparse":
                raise UserError(f"--arith {name}=sparse: {name} is an XNOR layer (bipolar weights have no zeros)")
            layer.sparse = kind == "sparse"
            continue
        if kind not in ARITH_KINDS:
            raise UserError(f"--arith {name}={kind}: unknown kind; use one of {', '.join(ARITH_KINDS)}, sparse, dense")
        why = arith_options(layer.weights, layer.in_spec, layer.weight_spec)[kind]
        if why is not None:
            raise UserError(f"--arith {name}={kind}: cannot be exact for {name} ({why})")
        layer.arith_kind = kind


def read_folding(path: str | Path) -> dict[str, tuple[int, int]]:
    """A folding file: ``{"LAYER": {"pe": P, "simd": S}, ...}`` (JSON)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--folding {path}: no such file")
    try:
        data = json.loads(path.read_text())
        return {str(k): (int(v["pe"]), int(v["simd"])) for k, v in data.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"--folding {path}: expected {{\"LAYER\": {{\"pe\": P, \"simd\": S}}}} ({exc})") from None
