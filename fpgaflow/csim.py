"""Batch C simulation of a build directory: host float edges around the compiled C++."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from fpgaflow.codegen.compile import SANITIZER_ENV, compile_csim
from fpgaflow.errors import UserError
from fpgaflow.frontend.float_exec import FloatGraph
from fpgaflow.ir import HostInput, HostOutput, IntSpec
from fpgaflow.streamio import DESIGN_FILE, InputError, load_design

log = logging.getLogger(__name__)


@dataclass
class CsimResult:
    """Integer accelerator outputs, final float outputs, and timings in seconds.

    ``run_s`` covers everything after compilation (host edges included); ``host_s`` is the
    host output edge alone.
    """

    ints: np.ndarray
    outputs: np.ndarray
    compile_s: float
    run_s: float
    host_s: float


class Design:
    """A build directory's host edges and interface, loaded from ``DIR/host``.

    ``file``: the design file (:func:`fpgaflow.streamio.load_design`), ``meta`` its content; the
    host edges run the reference's own arithmetic (the ONNX sub-graphs of ``DIR/host``).
    """

    def __init__(self, build_dir: str | Path):
        self.dir = Path(build_dir)
        host = self.dir / "host"
        if not (host / DESIGN_FILE).is_file() or not (self.dir / "hls" / "top.cpp").is_file():
            raise UserError(f"{self.dir}: not an fpgaflow build directory (run 'fpgaflow build' first)")
        self.file = load_design(host)
        self.meta = self.file.data
        i, o, port = self.file.input, self.file.output, self.file.in_layout
        self.input_shape = self.file.input_shape
        annotated = self.file.annotated
        self.host_in = HostInput(FloatGraph.from_onnx(onnx.load(str(host / "input.onnx"))), i["scale"],
                                 IntSpec(port.lo, port.hi, port.bipolar), dtype=annotated["name"] if annotated else None)
        out_graph = FloatGraph.from_onnx(onnx.load(str(host / "output.onnx"))) \
            if (host / "output.onnx").is_file() else None
        self.host_out = HostOutput(np.asarray(o["value_scale"]), out_graph, o["shape"],
                                   np.asarray(o["offset"], dtype=np.int64), tuple(o["chw"]) if o["chw"] else None)
        self.out_elems = self.file.out_layout.elems

    def check_input(self, x: np.ndarray, origin: str = "input") -> np.ndarray:
        """``x`` as float32 of shape (N, *input_shape[1:]), or a UserError saying what is wrong
        (:func:`fpgaflow.streamio.check_input`)."""
        try:
            return self.file.check_input(x, origin)
        except InputError as exc:
            raise UserError(str(exc)) from None


def _stderr_summary(stderr: str, keep: int = 1000) -> str:
    """The start (a sanitizer's finding, an assertion) and the end of a failed run's stderr."""
    stderr = stderr.strip()
    return stderr if len(stderr) <= 2 * keep else f"{stderr[:keep]}\n...\n{stderr[-keep:]}"


def _run(exe: Path, codes: np.ndarray, out_elems: int, workdir: Path, counts: Path | None = None,
         env: dict | None = None) -> np.ndarray:
    fd, in_path = tempfile.mkstemp(suffix=".bin", dir=workdir)
    os.close(fd)
    out_path = in_path.replace(".bin", "_out.bin")
    try:
        codes.astype(np.int32).tofile(in_path)
        proc = subprocess.run([str(exe), in_path, out_path] + ([str(counts)] if counts else []),
                              capture_output=True, text=True, env={**os.environ, **env} if env else None)
        if proc.returncode != 0:
            raise RuntimeError(f"C simulation {exe} failed (exit {proc.returncode}): {_stderr_summary(proc.stderr)}")
        return np.fromfile(out_path, dtype=np.int64).reshape(len(codes), out_elems)
    finally:
        for p in (in_path, out_path):
            if os.path.exists(p):
                os.unlink(p)


def run_csim(build_dir: str | Path, x: np.ndarray, hw_types: bool = False, jobs: int | None = None,
             chunk: int = 2048, sanitize: bool = False) -> CsimResult:
    """Run the C simulation of ``build_dir`` on the float batch ``x`` (N, *input shape[1:]).

    The executable is compiled once and cached in the build directory. The batch is cut into
    chunks that ``jobs`` workers (default: the CPU count) quantize on the host and push through
    the executable in parallel. ``sanitize`` runs a build under AddressSanitizer and
    UndefinedBehaviorSanitizer (any finding fails the run).
    """
    design = Design(build_dir)
    x = design.check_input(x)
    t0 = time.perf_counter()
    exe = compile_csim(design.dir / "hls", hw_types=hw_types, sanitize=sanitize)
    t1 = time.perf_counter()
    workdir = design.dir / "hls" / "csim_build"
    starts = range(0, len(x), chunk)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(starts)))

    def work(start):
        return _run(exe, design.host_in(x[start:start + chunk]), design.out_elems, workdir,
                    env=SANITIZER_ENV if sanitize else None)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        ints = np.concatenate(list(pool.map(work, starts))) if len(x) else np.zeros((0, design.out_elems), np.int64)
    t2 = time.perf_counter()
    outputs = design.host_out(ints)
    t3 = time.perf_counter()
    return CsimResult(ints, outputs, compile_s=t1 - t0, run_s=t3 - t1, host_s=t3 - t2)


def stream_log(build_dir: str | Path, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every stream's tokens over the frames of ``x``, in write order, from the C simulation
    (built with its stream log): stream name -> (tokens, width) int64 array."""
    design = Design(build_dir)
    exe = compile_csim(design.dir / "hls", stream_log=True)
    workdir = design.dir / "hls" / "csim_build"
    log_path = workdir / "streams.log"
    fd, in_path = tempfile.mkstemp(suffix=".bin", dir=workdir)
    os.close(fd)
    try:
        design.host_in(design.check_input(x)).astype(np.int32).tofile(in_path)
        out_path = in_path.replace(".bin", "_out.bin")
        proc = subprocess.run([str(exe), in_path, out_path, "-", str(log_path)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"C simulation {exe} failed (exit {proc.returncode}): {_stderr_summary(proc.stderr)}")
    finally:
        for p in (in_path, in_path.replace(".bin", "_out.bin")):
            if os.path.exists(p):
                os.unlink(p)
    rows: dict[str, list[list[int]]] = {}
    with open(log_path) as f:
        for line in f:
            name, *values = line.split()
            rows.setdefault(name, []).append([int(v) for v in values])
    return {name: np.asarray(v, dtype=np.int64) for name, v in rows.items()}


def loop_counts(build_dir: str | Path, x: np.ndarray) -> dict[str, dict[str, float]]:
    """Per layer, the C simulation's input-token reads and compute-loop steps per frame."""
    design = Design(build_dir)
    exe = compile_csim(design.dir / "hls")
    workdir = design.dir / "hls" / "csim_build"
    counts_path = workdir / "loop_counts.tsv"
    _run(exe, design.host_in(design.check_input(x)), design.out_elems, workdir, counts_path)
    counts = {}
    for line in counts_path.read_text().splitlines():
        name, reads, steps = line.split("\t")
        counts[name] = {"reads": float(reads), "steps": float(steps)}
    return counts
