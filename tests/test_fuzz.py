"""Fuzz test: ``fpgaflow build`` on mutated models exits 0 (bit-exact) or 2 (one-line error), never 1.

The mutants (tests/mutants.py) are plausible user mistakes and damaged files made from the shipped
TFC models and small hand-made graphs. For each, the CLI must either build with a passing C
simulation check (``report.json`` csim: integers equal to execute_onnx's on every checked stream,
and ``bit_exact``, or the float outputs reported as not identical with their ``max_abs_diff``) or
exit 2 with a single stderr line starting ``error:``; never exit 1 (internal error), never a
traceback, never a hang or a crash.

How it runs, and why (measured on a 2-core machine):
- A ``python -m fpgaflow build`` subprocess pays ~2.5-4 s of imports, so each mutant instead runs
  the real CLI (``fpgaflow.cli:main``, same arguments, exit code and stderr) in a child forked
  from the pytest worker, which has imported fpgaflow once: ~10 ms to start. The child is its own
  process group with fresh stdout/stderr files and logging/warnings as in a new process; the parent
  kills the group after ``TIMEOUT_S`` (a hang) and records crashes (killed by a signal).
- A full TFC build is ~13 s, 8 s of it g++ compiling the C simulation. fpgaflow caches the
  executables by source digest inside the build directory, so each mutant's fresh ``--out`` is
  seeded with the executables of its base model's build (built once per base, shared between
  xdist workers under a file lock): a mutant whose generated C++ equals its base's compiles nothing.
  Mutants that change the C++ (a new bit width, rounding mode ...) still compile (~8-10 s each).
- ``--csim-samples 20 --quiet``; the mutants are spread over ``SHARDS`` test cases so that
  ``pytest -n auto`` runs them on every core.

Measured: see MEASURED below.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

import mutants

TIMEOUT_S = 150
CSIM_SAMPLES = 20
SHARDS = 16
MEASURED = """2026-12-03, 2 cores, `python -m pytest -m fuzz -n 2 tests/test_fuzz.py`: 361 mutants in 16 shards,
3 min 6 s wall (base builds included); 100 build with a passing check (exit 0), 261 exit 2 with a
one-line error; 0 exit 1, 0 tracebacks, 0 hangs, 0 crashes."""

ALL = mutants.all_mutants()


@dataclass
class Outcome:
    rc: int | None  # None: timed out; negative: killed by that signal
    stdout: str
    stderr: str
    seconds: float


def _child(args: list[str], out_path: Path, err_path: Path) -> None:
    """Run the CLI in this (forked) process as if it were a fresh ``fpgaflow`` process; never returns."""
    code = 70
    try:
        os.setsid()
        for fd, path in ((1, out_path), (2, err_path)):
            f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(f, fd)
            os.close(f)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        sys.stdin = open(os.devnull)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
            signal.signal(sig, signal.SIG_DFL)
        root = logging.getLogger()
        for h in list(root.handlers):
            root.removeHandler(h)
        root.setLevel(logging.WARNING)
        warnings.resetwarnings()  # Python's defaults, not pytest's capture
        warnings.showwarning = warnings._showwarning_orig  # type: ignore[attr-defined]
        for action, category in (("ignore", DeprecationWarning), ("ignore", PendingDeprecationWarning),
                                 ("ignore", ImportWarning), ("ignore", ResourceWarning)):
            warnings.simplefilter(action, category)
        from fpgaflow.cli import main

        try:
            main.main(args=args, prog_name="fpgaflow", standalone_mode=True)
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
    except BaseException:  # noqa: BLE001 - an exception escaping the CLI is itself a finding
        traceback.print_exc()
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run_cli(args: list[str], work: Path, timeout: float = TIMEOUT_S) -> Outcome:
    """Run ``fpgaflow ARGS`` in a forked child; kill it (and its g++/csim children) after ``timeout``."""
    work.mkdir(parents=True, exist_ok=True)
    out_path, err_path = work / "stdout.txt", work / "stderr.txt"
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _child([str(a) for a in args], out_path, err_path)
    rc = None
    while time.perf_counter() - start < timeout:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            rc = os.waitstatus_to_exitcode(status)
            break
        time.sleep(0.02)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    seconds = time.perf_counter() - start
    read = lambda p: p.read_text(errors="replace") if p.exists() else ""  # noqa: E731
    return Outcome(rc, read(out_path), read(err_path), seconds)


def build_args(model: Path, out: Path, debug: bool = False) -> list[str]:
    return (["--debug"] if debug else []) + ["build", str(model), "--board", "pynq-z2", "--out", str(out),
                                             "--csim-samples", str(CSIM_SAMPLES), "--quiet"]


def problem(outcome: Outcome, out: Path) -> str | None:
    """What is wrong with an outcome, or None if it keeps the CLI contract."""
    err = outcome.stderr.strip()
    if outcome.rc is None:
        return f"hang: no exit after {TIMEOUT_S} s"
    if outcome.rc < 0:
        return f"crash: killed by signal {-outcome.rc}: {err[-500:]}"
    if "Traceback" in err:
        return f"traceback (exit {outcome.rc}): {err[-1500:]}"
    if outcome.rc == 0:
        try:
            csim = json.loads((out / "report.json").read_text())["csim"]
        except (OSError, ValueError, KeyError) as exc:
            return f"exit 0 without a readable report.json csim entry ({exc})"
        if not csim or not csim.get("integers_equal") or csim.get("streams_equal") is False:
            return f"exit 0 but the C simulation's integers differ from execute_onnx's: {csim}"
        if not csim.get("bit_exact") and not (csim.get("float_identical") is False and "max_abs_diff" in csim):
            return f"exit 0, not bit-exact, and the report does not say why: {csim}"
        return None  # bit-exact, or equal integers with float outputs reported as not identical
    if outcome.rc == 2:
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].startswith("error:"):
            return f"exit 2 without a one-line 'error:' message: {err[-1500:]!r}"
        return None
    return f"exit {outcome.rc}: {err[-800:]}"


# ------------------------------------------------------------------ base builds, shared between workers

#: The compiled executables of a build directory (each with its ``.sha256`` source digest).
_EXECUTABLE_DIRS = ("hls/csim_build", "sim")


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory, worker_id) -> Path:
    root = tmp_path_factory.getbasetemp()
    return (root.parent if worker_id != "master" else root) / "fuzz_bases"


def base_build(base: str, shared: Path) -> Path:
    """The build directory of the unmutated base model (built once, under a lock)."""
    from filelock import FileLock

    shared.mkdir(parents=True, exist_ok=True)
    out = shared / base / "build"
    with FileLock(str(shared / f"{base}.lock")):
        marker = shared / base / "result.json"
        if not marker.exists():
            model = shared / base / f"{base}.onnx"
            model.parent.mkdir(parents=True, exist_ok=True)
            model.write_bytes(mutants.base_bytes(base))
            outcome = run_cli(build_args(model, out), shared / base)
            marker.write_text(json.dumps({"problem": problem(outcome, out), "rc": outcome.rc,
                                          "seconds": outcome.seconds}))
        result = json.loads(marker.read_text())
    assert result["rc"] == 0 and result["problem"] is None, \
        f"base model {base} does not build (exit {result['rc']}): {result['problem']}"
    return out


def seed_out_dir(base_out: Path, out: Path) -> None:
    """Copy the base's compiled executables (and their source digests) into a fresh build directory."""
    for rel in _EXECUTABLE_DIRS:
        for stamp in (base_out / rel).glob("*.sha256"):
            exe = stamp.with_suffix("")
            if exe.is_file():
                (out / rel).mkdir(parents=True, exist_ok=True)
                shutil.copy2(exe, out / rel / exe.name)
                shutil.copy2(stamp, out / rel / stamp.name)


def run_mutant(mutant: mutants.Mutant, work: Path, shared: Path) -> tuple[Outcome, str | None]:
    base_out = base_build(mutant.base, shared)
    model = mutant.write(work / "model")
    out = work / "out"
    seed_out_dir(base_out, out)
    outcome = run_cli(build_args(model, out), work / "run")
    found = problem(outcome, out)
    if found and outcome.rc == 1:  # again with --debug, for the traceback
        debug = run_cli(build_args(model, work / "out_debug", debug=True), work / "run_debug")
        tail = [l for l in debug.stderr.splitlines() if not l.startswith(("DEBUG", "INFO"))]
        found += "\n" + "\n".join(tail[-25:])
    return outcome, found


@pytest.mark.slow
@pytest.mark.fuzz
@pytest.mark.parametrize("shard", range(SHARDS))
def test_mutants_keep_the_cli_contract(shard, tmp_path, shared_dir):
    failures, times = [], []
    for i, mutant in enumerate(ALL[shard::SHARDS]):
        outcome, found = run_mutant(mutant, tmp_path / f"m{i}", shared_dir)
        times.append(outcome.seconds)
        if found:
            failures.append(f"{mutant.name}: {found}")
    assert not failures, f"{len(failures)} of {len(times)} mutants break the CLI contract:\n\n" + "\n\n".join(failures)


def test_enough_distinct_mutants():
    names = [m.name for m in ALL]
    assert len(names) == len(set(names)) >= 200
