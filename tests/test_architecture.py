"""Issue 15's structural limits, checked on the source: sizes, and what folding and the codegen may name."""

import ast
import importlib.util
from pathlib import Path

from fpgaflow.layers import KIT_TYPES

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fpgaflow"


def _check_sizes():
    spec = importlib.util.spec_from_file_location("check_sizes", ROOT / "scripts" / "check_sizes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_module_over_400_lines_no_function_over_60():
    assert _check_sizes().oversized(PACKAGE) == []


def _names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
        {a.name.split(".")[-1] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}


def test_folding_and_codegen_name_no_kit_class():
    kits = {name for name in KIT_TYPES if name not in ("IntSpec", "ThresholdTable", "Window")}
    for path in [PACKAGE / "passes" / "folding.py", *sorted((PACKAGE / "codegen").glob("*.py"))]:
        assert not (_names(path) & kits), f"{path.name} names {_names(path) & kits}"


def test_library_never_imports_the_driver():
    for path in PACKAGE.rglob("*.py"):
        if "pynq_driver" in path.parts or path.name == "driver_files.py":
            continue
        tree = ast.parse(path.read_text())
        mods = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        mods |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any("pynq_driver" in m for m in mods), path
