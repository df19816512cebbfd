"""The board flow: the Vivado block design and bitstream scripts of ``DIR/board``, and running them.

``DIR/board/block_design.tcl`` puts the HLS accelerator (``DIR/hls``, exported as an IP) behind an
AXI DMA named ``dma`` next to the board's processing system, builds the bitstream and copies it and
the block design's hardware handoff to ``DIR/driver/fpgaflow.bit`` / ``.hwh`` (the PYNQ overlay).
``DIR/board/block_design_rtl.tcl`` builds the same block design with the generated Verilog
(``DIR/rtl``, ``fpgaflow build --rtl``) as the accelerator, a module reference to ``fpgaflow_top``:
Vivado alone makes the bitstream, with the same AXI-Stream contract, so the driver is unchanged.
``DIR/board/build_bitstream.sh [--rtl]`` runs Vitis HLS and Vivado in turn (Vivado alone with
``--rtl``); :func:`run_bitstream` does the same from ``fpgaflow build --bitstream`` when the tools
are on PATH.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager

import jinja2

from fpgaflow import __version__
from fpgaflow.boards import Board
from fpgaflow.errors import UserError
from fpgaflow.interface import TOP, stream_word_bits
from fpgaflow.streamio import MAX_WORD_BITS, axi_word_bits

log = logging.getLogger(__name__)

__all__ = ["axi_word_bits", "stream_word_bits", "write_board", "run_bitstream", "BitstreamResult"]

#: The IP Vitis HLS exports (hls.tcl: ``export_design -vendor fpgaflow -library hls -version 1.0``).
HLS_IP_VLNV = f"fpgaflow:hls:{TOP}:1.0"
#: The block design's name; Vivado names its HDL wrapper, and so the bitstream, ``<name>_wrapper``.
BD_NAME = "fpgaflow"
#: Base name of the PYNQ overlay files in ``DIR/driver`` (the .bit and .hwh must share it).
OVERLAY = "fpgaflow"
#: The DMA's buffer length register width: transfers of up to 2**26 - 1 bytes (64 MiB).
DMA_LENGTH_BITS = 26
#: The DMA's memory-mapped side is at least this wide.
DMA_MIN_MM_BITS = 32
#: Address range of the DMA's registers.
DMA_REGISTER_RANGE = 0x10000

#: The scripts of ``DIR/board``: the block design from the HLS IP, the one from the RTL, the driver script.
BD_SCRIPT, RTL_BD_SCRIPT, BUILD_SCRIPT = "block_design.tcl", "block_design_rtl.tcl", "build_bitstream.sh"
#: Where the accelerator comes from: its block-design script and the tools it needs.
SOURCES = ("hls", "rtl")
BD_SCRIPTS = {"hls": BD_SCRIPT, "rtl": RTL_BD_SCRIPT}
HLS_COMMAND = ("vitis_hls", "-f", "hls.tcl")
VIVADO_BATCH = ("vivado", "-mode", "batch", "-nojournal", "-nolog", "-source")
VIVADO_COMMAND = (*VIVADO_BATCH, BD_SCRIPT)
TOOLS = (HLS_COMMAND[0], VIVADO_COMMAND[0])
#: The RTL top's clock and active-low reset (fpgaflow/rtl/top.py), and the HLS IP's.
ACCEL_PINS = {"hls": ("ap_clk", "ap_rst_n"), "rtl": ("clk", "rst_n")}
#: Where the tools' output goes, relative to the build folder, and the two logs' names.
LOG_DIR = "logs"
HLS_LOG, VIVADO_LOG = "vitis_hls.log", "vivado.log"
#: Lines of a failed tool's log quoted in the error.
LOG_TAIL_LINES = 5


@dataclass(frozen=True)
class PsProfile:
    """The pins, settings and addresses of one kind of Zynq processing system in the block design."""

    ip: str  # xilinx.com:ip:<ip>
    rule: str  # the apply_bd_automation rule that applies the board preset
    automation: str  # more -config pairs for that rule (TCL list text)
    config: tuple[tuple[str, str], ...]  # CONFIG.* settings: the AXI ports used, the PL clock and reset on
    clock_config: str  # the CONFIG.* key of the PL clock's frequency in MHz
    clock: str  # the PL clock pin
    reset: str  # the PL reset pin (active low)
    master: str  # AXI master port to the DMA's registers, and its clock pin
    master_clock: str
    slave: str  # AXI slave port into DDR, and its clock pin
    slave_clock: str
    ddr_segment: str  # the DDR address segment behind ``slave``
    dma_base: int  # where the DMA's registers go in the PS master's address map


PS_PROFILES = {
    "ps7": PsProfile(
        ip="processing_system7", rule="xilinx.com:bd_rule:processing_system7",
        automation="make_external {FIXED_IO, DDR} Master Disable Slave Disable",
        config=(("PCW_USE_M_AXI_GP0", "1"), ("PCW_USE_S_AXI_HP0", "1"), ("PCW_EN_CLK0_PORT", "1"),
                ("PCW_EN_RST0_PORT", "1")),
        clock_config="PCW_FPGA0_PERIPHERAL_FREQMHZ", clock="FCLK_CLK0", reset="FCLK_RESET0_N",
        master="M_AXI_GP0", master_clock="M_AXI_GP0_ACLK", slave="S_AXI_HP0", slave_clock="S_AXI_HP0_ACLK",
        ddr_segment="S_AXI_HP0/HP0_DDR_LOWOCM", dma_base=0x40400000),
    "ps8": PsProfile(
        ip="zynq_ultra_ps_e", rule="xilinx.com:bd_rule:zynq_ultra_ps_e", automation="",
        # GP0/GP1/GP2 masters are M_AXI_HPM0_FPD, M_AXI_HPM1_FPD, M_AXI_HPM0_LPD; S_AXI_GP2 is S_AXI_HP0_FPD.
        config=(("PSU__USE__M_AXI_GP0", "1"), ("PSU__USE__M_AXI_GP1", "0"), ("PSU__USE__M_AXI_GP2", "0"),
                ("PSU__USE__S_AXI_GP2", "1"), ("PSU__FPGA_PL0_ENABLE", "1"), ("PSU__USE__FABRIC__RST", "1")),
        clock_config="PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ", clock="pl_clk0", reset="pl_resetn0",
        master="M_AXI_HPM0_FPD", master_clock="maxihpm0_fpd_aclk", slave="S_AXI_HP0_FPD",
        slave_clock="saxihp0_fpd_aclk", ddr_segment="SAXIGP2/HP0_DDR_LOW", dma_base=0xA0000000),
}


@dataclass(frozen=True)
class BitstreamResult:
    """What :func:`run_bitstream` did: the overlay files it made, or the command to run elsewhere."""

    files: tuple[Path, ...] = ()  # DIR/driver/fpgaflow.bit and .hwh, when the tools ran here
    command: str = ""  # when they are not on PATH: the one command to run on a machine that has them
    missing: tuple[str, ...] = ()  # the tools not on PATH


def _check_word_bits(bits: int, what: str) -> None:
    if bits < 8 or bits > MAX_WORD_BITS or bits & (bits - 1):
        raise ValueError(f"{what}: {bits} bits is not a power of two from 8 to {MAX_WORD_BITS}")


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("fpgaflow", "templates"), trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def overlay_files(out_dir: Path) -> tuple[Path, Path]:
    """The PYNQ overlay Vivado leaves in ``out_dir/driver``: the bitstream and its hardware handoff."""
    driver = Path(out_dir) / "driver"
    return driver / f"{OVERLAY}.bit", driver / f"{OVERLAY}.hwh"


def board_context(board: Board, clock_mhz: float, model: str, in_bits: int, out_bits: int,
                  source: str = "hls") -> dict:
    """What the board templates are rendered with; ``source`` is the accelerator's ("hls" or "rtl")."""
    from fpgaflow.rtl.top import SOURCES_FILE

    _check_word_bits(in_bits, "in_bits")
    _check_word_bits(out_bits, "out_bits")
    return {
        "version": __version__, "model": model, "board": board.name, "part": board.part,
        "board_part": board.board_part, "ps_name": board.ps, "ps": PS_PROFILES[board.ps],
        "clock_mhz": f"{clock_mhz:g}", "top": TOP, "ip_vlnv": HLS_IP_VLNV, "bd_name": BD_NAME, "overlay": OVERLAY,
        "in_bits": in_bits, "out_bits": out_bits, "in_mm_bits": max(in_bits, DMA_MIN_MM_BITS),
        "out_mm_bits": max(out_bits, DMA_MIN_MM_BITS), "dma_length_bits": DMA_LENGTH_BITS,
        "dma_range": f"0x{DMA_REGISTER_RANGE:08X}", "dma_base": f"0x{PS_PROFILES[board.ps].dma_base:08X}",
        "tools": " ".join(TOOLS), "hls_command": shlex.join(HLS_COMMAND), "vivado_command": shlex.join(VIVADO_COMMAND),
        "vivado_rtl_command": shlex.join((*VIVADO_BATCH, RTL_BD_SCRIPT)),
        "log_dir": LOG_DIR, "hls_log": HLS_LOG, "vivado_log": VIVADO_LOG,
        "rtl": source == "rtl", "script": BD_SCRIPTS[source], "rtl_sources": SOURCES_FILE,
        "accel_clock": ACCEL_PINS[source][0], "accel_reset": ACCEL_PINS[source][1],
    }


def write_board(out_dir: Path, board: Board, clock_mhz: float, model: str, in_bits: int, out_bits: int) -> Path:
    """Render ``out_dir/board``: block_design.tcl and block_design_rtl.tcl (Vivado, the accelerator
    from the HLS IP or from the RTL) and build_bitstream.sh; return the folder.

    ``in_bits``/``out_bits``: TDATA widths of the accelerator's AXI4-Stream slave and master.
    """
    folder = Path(out_dir) / "board"
    folder.mkdir(parents=True, exist_ok=True)
    env = _environment()
    for source in SOURCES:
        context = board_context(board, clock_mhz, model, in_bits, out_bits, source)
        (folder / BD_SCRIPTS[source]).write_text(env.get_template("vivado_bd.tcl.j2").render(**context))
    (folder / BUILD_SCRIPT).write_text(env.get_template("build_bitstream.sh.j2").render(**context))
    script = folder / BUILD_SCRIPT
    script.chmod(script.stat().st_mode | 0o111)
    log.info("wrote the Vivado block design and bitstream scripts to %s", folder)
    return folder


def _no_progress(_title: str) -> ContextManager:
    return contextlib.nullcontext()


def _log_tail(log_file: Path) -> str:
    lines = [line.strip() for line in log_file.read_text(errors="replace").splitlines() if line.strip()]
    return " | ".join(lines[-LOG_TAIL_LINES:]) or "(empty)"


def _run_tool(command: tuple[str, ...], cwd: Path, log_file: Path) -> None:
    """Run a vendor tool in ``cwd`` with its output in ``log_file``; a failure is the user's to see."""
    log.info("running %s in %s (log %s)", shlex.join(command), cwd, log_file)
    env = {"FPGAFLOW_JOBS": str(os.cpu_count() or 4), **os.environ}  # Vivado's parallel jobs, unless set
    with open(log_file, "w") as out:
        proc = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        raise UserError(f"{command[0]} failed (exit {proc.returncode}); see {log_file}: {_log_tail(log_file)}")


def bitstream_command(out_dir: Path, source: str = "hls") -> str:
    """The one command that builds the bitstream on a machine with the tools (Vivado alone for "rtl")."""
    return f"bash {shlex.quote(str(Path(out_dir) / 'board' / BUILD_SCRIPT))}" + (" --rtl" if source == "rtl" else "")


def run_bitstream(out_dir: Path, step: Callable[[str], ContextManager] = _no_progress,
                  source: str = "hls") -> BitstreamResult:
    """Build ``out_dir/driver/fpgaflow.bit`` and ``.hwh`` if the tools are on PATH: Vitis HLS and
    Vivado for the HLS accelerator, Vivado alone for the RTL one (``source="rtl"``, DIR/rtl/).

    Without them, nothing runs: the result carries the command to run on a machine that has them.
    """
    out_dir = Path(out_dir)
    board = out_dir / "board"
    script = BD_SCRIPTS[source]
    if not (board / script).is_file():
        raise UserError(f"{out_dir}: no board/{script}; run fpgaflow build first")
    if source == "rtl" and not (out_dir / "rtl").is_dir():
        raise UserError(f"{out_dir}: no rtl/ folder for the RTL bitstream; run fpgaflow build --rtl first")
    tools = TOOLS if source == "hls" else (VIVADO_COMMAND[0],)
    missing = tuple(tool for tool in tools if shutil.which(tool) is None)
    if missing:
        command = bitstream_command(out_dir, source)
        log.info("%s not on PATH; the bitstream is built by %s", ", ".join(missing), command)
        return BitstreamResult(command=command, missing=missing)
    logs = out_dir / LOG_DIR
    logs.mkdir(exist_ok=True)
    if source == "hls":
        with step("Vitis HLS: synthesis and IP export"):
            _run_tool(HLS_COMMAND, out_dir / "hls", logs / HLS_LOG)
    with step("Vivado: block design, implementation and bitstream"):
        _run_tool((*VIVADO_BATCH, script), board, logs / VIVADO_LOG)
    files = overlay_files(out_dir)
    absent = [str(f) for f in files if not f.is_file()]
    if absent:
        raise UserError(f"Vivado finished but wrote no {', '.join(absent)}; see {logs / VIVADO_LOG}")
    return BitstreamResult(files=files)
