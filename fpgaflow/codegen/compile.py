"""Compile the generated C++ into the batch C simulation executable with g++ (cached)."""

from __future__ import annotations

import hashlib
import logging
import platform
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from fpgaflow.errors import UserError

log = logging.getLogger(__name__)

CXXFLAGS = ["-O3", "-std=c++14", "-w"]


def cpu_flags() -> list[str]:
    """The x86-64 micro-architecture level this machine supports (vector units, popcnt).

    The level is part of the compile cache key, so a build directory moved to an older CPU
    is recompiled rather than run with instructions that CPU lacks.
    """
    if platform.machine() not in ("x86_64", "AMD64"):
        return []
    try:
        flags = set(next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("flags")).split())
    except (OSError, StopIteration):
        return []
    if {"avx2", "fma", "bmi2", "movbe"} <= flags:
        return ["-march=x86-64-v3"]
    if {"sse4_2", "popcnt", "ssse3"} <= flags:
        return ["-march=x86-64-v2"]
    return []


def ap_types_dir() -> Path:
    """hls4ml's copy of the Apache-2.0 ap_int/ap_fixed headers."""
    path = Path(str(resources.files("hls4ml"))) / "templates" / "vivado" / "ap_types"
    if not (path / "ap_int.h").is_file():
        raise UserError(f"ap_int.h not found under {path}; reinstall hls4ml (pip install hls4ml)")
    return path


def compile_cached(sources: list[Path], exe: Path, flags: list[str], include_dirs: list[Path]) -> Path:
    """Compile ``sources`` into ``exe`` with g++, unless a build of the same inputs is there."""
    compiler = shutil.which("g++")
    if compiler is None:
        raise UserError("g++ not found on PATH; install it (e.g. apt-get install g++) to run the simulations")
    digest = hashlib.sha256(" ".join(flags).encode())
    for folder in include_dirs[:1]:  # our headers; the ap_types headers are versioned with hls4ml
        for path in sorted(Path(folder).glob("*.h")) + sorted((Path(folder) / "fpgaflow").glob("*.h")):
            digest.update(path.name.encode() + path.read_bytes())
    for path in sources:
        digest.update(path.name.encode() + path.read_bytes())
    digest = digest.hexdigest()
    exe.parent.mkdir(parents=True, exist_ok=True)
    stamp = exe.with_suffix(".sha256")
    if exe.exists() and stamp.exists() and stamp.read_text() == digest:
        log.info("reusing %s", exe)
        return exe
    includes = [arg for folder in include_dirs for arg in ("-I", str(folder))]
    cmd = [compiler, *flags, *includes, *map(str, sources), "-o", str(exe)]
    log.info("compiling: %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"g++ failed (exit {proc.returncode}) building {exe}:\n{proc.stderr[-4000:]}")
    stamp.write_text(digest)
    return exe


#: g++ flags of the C simulation built under AddressSanitizer and UndefinedBehaviorSanitizer. Left
#: shifts of negative values are left out: ap_types' arithmetic (and the hardware) shift two's
#: complement, which C++20 defines and g++ always did.
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize=shift-base", "-fno-sanitize-recover=undefined",
                  "-fno-omit-frame-pointer", "-g"]
#: Their run-time options: stop at the first finding (leak checking needs ptrace, often absent).
SANITIZER_ENV = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:halt_on_error=1",
                 "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}


def compile_csim(hls_dir: Path, hw_types: bool = False, stream_log: bool = False, sanitize: bool = False) -> Path:
    """Build (or reuse) the C simulation executable of ``hls_dir``.

    ``hw_types`` compiles with exact-width ap types everywhere (as synthesis sees them);
    slower to build and run, and used to check that the fast build is equivalent.
    ``stream_log`` builds a variant that can log every stream write (see stream.h); ``sanitize`` one
    under AddressSanitizer and UndefinedBehaviorSanitizer (run it with :data:`SANITIZER_ENV`).
    """
    hls_dir = Path(hls_dir)
    flags = CXXFLAGS + cpu_flags() + (["-DFPGAFLOW_HW_TYPES"] if hw_types else []) + \
        (["-DFPGAFLOW_STREAM_LOG"] if stream_log else []) + (SANITIZE_FLAGS if sanitize else [])
    name = "csim" + ("_hw_types" if hw_types else "") + ("_stream_log" if stream_log else "") + \
        ("_sanitized" if sanitize else "")
    exe = hls_dir / "csim_build" / name
    return compile_cached([hls_dir / "top.cpp", hls_dir / "testbench.cpp"], exe, flags, [hls_dir, ap_types_dir()])
