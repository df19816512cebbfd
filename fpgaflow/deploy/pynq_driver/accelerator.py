"""The PYNQ driver of an fpgaflow accelerator: float numpy in, float numpy out.

This package is copied into every build as ``DIR/driver/fpgaflow_driver/``, with a copy of
``fpgaflow.streamio`` inside it, next to the design file (``design.json``, ``host_constants.npz``) and, once Vivado has run, the overlay
(``fpgaflow.bit`` and ``fpgaflow.hwh``). It needs numpy only; on the board, PYNQ too::

    from fpgaflow_driver import Accelerator
    accel = Accelerator("fpgaflow.bit")           # on the board
    accel = Accelerator(backend="csim")           # anywhere: the build's C simulation
    y = accel.execute(x)                          # x: float32 (N, *input shape[1:])
    print(accel.last_fps)

The host quantizes the input with the model's own first quantizer, packs the codes into the
accelerator's AXI4-Stream words (see ``streamio/packing.py``), sends each batch as one DMA transfer,
unpacks the output words and applies the model's output scaling.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

try:  # in a build's driver folder: the copy of fpgaflow.streamio shipped inside this package
    from .streamio import HostDesign, StreamLayout, load_design, pack, unpack
except ModuleNotFoundError as exc:  # this package inside the fpgaflow library
    if exc.name != f"{__package__}.streamio":
        raise
    from fpgaflow.streamio import HostDesign, StreamLayout, load_design, pack, unpack

log = logging.getLogger(__name__)

#: The driver folder: where this package sits in a build (``DIR/driver``).
DRIVER_DIR = Path(__file__).resolve().parent.parent
BACKENDS = ("pynq", "csim")


class PynqBackend:
    """Runs packed batches on the board: the overlay's AXI DMA ``dma`` in simple mode."""

    def __init__(self, bitfile: str | Path, in_layout: StreamLayout, out_layout: StreamLayout):
        from pynq import Overlay, allocate  # only on the board

        self.overlay = Overlay(str(bitfile))
        self.dma = self.overlay.dma
        self._allocate = allocate
        self.in_layout, self.out_layout = in_layout, out_layout
        self._buffers: dict[int, tuple] = {}

    def _buffers_for(self, frames: int) -> tuple:
        if frames not in self._buffers:
            self._buffers[frames] = (self._allocate(shape=(frames * self.in_layout.frame_bytes,), dtype=np.uint8),
                                     self._allocate(shape=(frames * self.out_layout.frame_bytes,), dtype=np.uint8))
        return self._buffers[frames]

    def run(self, packed: np.ndarray) -> tuple[np.ndarray, float]:
        """(frames, in bytes) uint8 -> ((frames, out bytes) uint8, seconds on the accelerator)."""
        ibuf, obuf = self._buffers_for(len(packed))
        ibuf[:] = packed.reshape(-1)
        ibuf.flush()
        start = time.perf_counter()
        self.dma.recvchannel.transfer(obuf)
        self.dma.sendchannel.transfer(ibuf)
        self.dma.sendchannel.wait()
        self.dma.recvchannel.wait()
        seconds = time.perf_counter() - start
        obuf.invalidate()
        return np.array(obuf).reshape(len(packed), -1), seconds


class CsimBackend:
    """Runs packed batches through the build's C simulation, AXI adapters included (``csim --axi``)."""

    def __init__(self, build_dir: str | Path):
        self.build_dir = Path(build_dir)
        self.exe = self.build_dir / "hls" / "csim_build" / "csim"
        if not self.exe.is_file():
            self.exe = self._compile()

    def _compile(self) -> Path:
        try:
            from fpgaflow.codegen.compile import compile_csim
        except ImportError:
            raise FileNotFoundError(f"{self.exe} is missing and fpgaflow is not installed to compile it; run "
                                    f"'fpgaflow csim {self.build_dir} ...' once on the build machine") from None
        return compile_csim(self.build_dir / "hls")

    def run(self, packed: np.ndarray) -> tuple[np.ndarray, float]:
        """(frames, in bytes) uint8 -> ((frames, out bytes) uint8, seconds in the simulation)."""
        workdir = Path(tempfile.mkdtemp(prefix="fpgaflow_driver_"))
        try:
            in_path, out_path = workdir / "in.bin", workdir / "out.bin"
            packed.tofile(in_path)
            start = time.perf_counter()
            proc = subprocess.run([str(self.exe), "--axi", str(in_path), str(out_path)], capture_output=True,
                                  text=True)
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                raise RuntimeError(f"C simulation {self.exe} failed (exit {proc.returncode}): "
                                   f"{proc.stderr.strip()[-2000:]}")
            return np.fromfile(out_path, dtype=np.uint8).reshape(len(packed), -1), seconds
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


class Accelerator:
    """An fpgaflow accelerator, on the board (``backend="pynq"``) or in C simulation (``"csim"``).

    ``bitfile``: the overlay, by default ``fpgaflow.bit`` in the driver folder; ``driver_dir``:
    the folder holding ``design.json`` (default: this package's parent); ``build_dir``: the
    build folder for the csim backend (default: the driver folder's parent); ``batch_size``:
    frames per DMA transfer.
    """

    def __init__(self, bitfile: str | Path | None = None, backend: str = "pynq", driver_dir: str | Path | None = None,
                 build_dir: str | Path | None = None, batch_size: int = 1024):
        if backend not in BACKENDS:
            raise ValueError(f"backend {backend!r}: use one of {', '.join(BACKENDS)}")
        if batch_size < 1:
            raise ValueError(f"batch_size {batch_size}: must be at least 1")
        self.driver_dir = Path(driver_dir) if driver_dir is not None else DRIVER_DIR
        try:
            self.host: HostDesign = load_design(self.driver_dir)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{exc}: pass driver_dir, the 'driver' folder of a build") from None
        self.design = self.host.data
        self.in_layout, self.out_layout = self.host.in_layout, self.host.out_layout
        self.batch_size = batch_size
        self.last_fps: float | None = None
        if backend == "pynq":
            bitfile = Path(bitfile) if bitfile is not None else self.driver_dir / "fpgaflow.bit"
            self.backend = PynqBackend(bitfile, self.in_layout, self.out_layout)
        else:
            self.backend = CsimBackend(build_dir if build_dir is not None else self.driver_dir.parent)

    @property
    def input_shape(self) -> list[int]:
        """The model's input shape (batch first)."""
        return self.host.input_shape

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float input (N, *input_shape[1:]) -> the integer codes the accelerator takes."""
        return self.host.codes(x)

    def dequantize(self, ints: np.ndarray) -> np.ndarray:
        """The accelerator's integer outputs (N, elems) -> the model's float output."""
        return self.host.outputs(ints)

    def execute_codes(self, codes: np.ndarray) -> np.ndarray:
        """Integer codes in, integer codes out, in batches of ``batch_size``; sets ``last_fps``."""
        codes = np.asarray(codes)
        outs, seconds = [], 0.0
        for start in range(0, len(codes), self.batch_size):
            got, took = self.backend.run(pack(codes[start:start + self.batch_size], self.in_layout))
            outs.append(unpack(got, self.out_layout))
            seconds += took
        self.last_fps = len(codes) / seconds if seconds > 0 else None
        return np.concatenate(outs) if outs else np.zeros((0, self.out_layout.elems), np.int64)

    def execute(self, x: np.ndarray) -> np.ndarray:
        """Float input (N, *input_shape[1:]) -> the model's float output, as the reference computes it."""
        return self.dequantize(self.execute_codes(self.quantize(x)))

    def classify(self, x: np.ndarray) -> np.ndarray:
        """The arg-max class of each input."""
        y = self.execute(x)
        return y.reshape(len(y), -1).argmax(axis=1)

